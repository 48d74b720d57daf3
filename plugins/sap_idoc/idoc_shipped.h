/* idoc_shipped.h - the definition files shipped in defs/, compiled into the
 * plugin (generated idoc_shipped_defs.c). */
#ifndef SAP_IDOC_SHIPPED_H
#define SAP_IDOC_SHIPPED_H

#include <stddef.h>

struct idoc_shipped_def {
  const char *name; /* file name, e.g. "orders05.idef"; NULL ends the list */
  const char *text;
  size_t len;
};

/* Terminated by an entry with name == NULL. */
extern const struct idoc_shipped_def idoc_shipped_defs[];

#endif
