/* fuzz_yaml.c - the site file reader: YAML to positioned nodes, ${...}
 * references, JSON conversion. Must never crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>

#include "yaml_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[1024];
  struct dray__node *root =
      dray__yaml_load_string("fuzz.yaml", (const char *)data, size, err, sizeof err);
  if (!root) return 0;
  char *json = dray__node_to_json(root);
  free(json);
  (void)dray__node_get(root, "instances");
  dray__node_free(&root);
  return 0;
}
