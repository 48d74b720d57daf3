/* entry_dep.c - a library that exports dray_plugin_entry: a plugin that
 * links it must still be refused, since its entry is not its own. */
#include <dray/dray.h>

static int dep_create(const struct dray_host *h, dray_instance *i, void **s) {
  (void)h, (void)i;
  *s = 0;
  return 0;
}
static void dep_destroy(void *s) { (void)s; }

static const struct dray_plugin dep_desc = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
    .name = "borrowed",
    .kinds = 0,
    .create = dep_create,
    .destroy = dep_destroy,
};

DRAY_PLUGIN_DEFINE(dep_desc)

DRAY_EXPORT int entry_dep_marker(void);
DRAY_EXPORT int entry_dep_marker(void) { return 0; }
