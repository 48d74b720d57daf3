/* idoc_registry_shipped.c - loads the definitions compiled into the plugin
 * (the defs folder, see idoc_shipped.h). */
#include "idoc.h"
#include "idoc_shipped.h"

int idoc_registry_load_shipped(idoc_registry *reg, struct idoc_err *err) {
  for (const struct idoc_shipped_def *d = idoc_shipped_defs; d->name; d++)
    if (idoc_registry_load_idef(reg, d->text, d->len, d->name, err) < 0)
      return -1;
  return 0;
}
