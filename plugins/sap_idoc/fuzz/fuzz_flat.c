/* fuzz_flat.c - libFuzzer target for the flat IDoc decoder, validation,
 * the inbound mappings and the flat encoder (decode -> encode -> decode
 * must succeed again). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
  struct idoc_flat_opts opts = {size & 1 ? IDOC_CP_LATIN1 : IDOC_CP_UTF8, 0, 1};
  idoc_set *set = idoc_set_new();
  if (idoc_flat_decode(reg, (const char *)data, size, "fuzz", &opts, set,
                       &err) == 0 &&
      idoc_validate(set, "fuzz", &err) == 0) {
    for (size_t d = 0; d < set->ndocs; d++)
      idoc_map_inbound(set, (int)d, NULL, sink, NULL, &err);
    char *out = NULL;
    size_t len = 0, cap = 0;
    if (idoc_flat_encode(set, &opts, &out, &len, &cap, &err) == 0) {
      idoc_set *again = idoc_set_new();
      /* what we wrote, we read back */
      if (idoc_flat_decode(reg, out, len, "again", &opts, again, &err) != 0)
        abort();
      idoc_set_destroy(&again);
    }
    free(out);
  }
  idoc_set_destroy(&set);
  return 0;
}
