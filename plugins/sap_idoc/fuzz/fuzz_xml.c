/* fuzz_xml.c - libFuzzer target for the IDoc-XML decoder, validation, the
 * inbound mappings and the XML encoder (what we write must read back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "idoc.h"
#include "idoc_map.h"

static idoc_registry *reg;

static int sink(void *ctx, const char *type, json_object *body,
                const struct idoc_headers *h, int doc) {
  (void)ctx;
  (void)type;
  (void)h;
  (void)doc;
  json_object_put(body);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!reg) {
    struct idoc_err err;
    reg = idoc_registry_new();
    if (idoc_registry_load_shipped(reg, &err) < 0) abort();
  }
  struct idoc_err err = {""};
  idoc_set *set = idoc_set_new();
  if (idoc_xml_decode(reg, (const char *)data, size, "fuzz", set, &err) == 0) {
    int valid = idoc_validate(set, "fuzz", &err) == 0;
    for (size_t d = 0; d < set->ndocs; d++)
      idoc_map_inbound(set, (int)d, NULL, sink, NULL, &err);
    char *out = NULL;
    size_t len = 0;
    if (valid && idoc_xml_encode(set, &out, &len, &err) == 0) {
      idoc_set *again = idoc_set_new();
      if (idoc_xml_decode(reg, out, len, "again", again, &err) != 0) abort();
      idoc_set_destroy(&again);
    }
    free(out);
  }
  idoc_set_destroy(&set);
  return 0;
}
