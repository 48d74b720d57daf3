/* as2.c - placeholder until the AS2 transport lands: refuses the as2
 * transport with a clear error. */
#include "as2.h"

#include <stdio.h>

struct as2 {
  int unused;
};

struct as2 *as2_new(const struct dray_host *host, dray_instance *inst,
                    void *plugin_state, char *err, size_t err_size) {
  (void)host;
  (void)inst;
  (void)plugin_state;
  snprintf(err, err_size, "the AS2 transport is not available in this build");
  return NULL;
}

void as2_destroy(struct as2 **self_p) {
  if (self_p) *self_p = NULL;
}

int as2_send(struct as2 *self, const char *payload, size_t len, char *err,
             size_t err_size) {
  (void)self;
  (void)payload;
  (void)len;
  snprintf(err, err_size, "AS2 transport not available");
  return -1;
}
