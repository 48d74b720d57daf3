/* fixture.c - one defective plugin per refusal the loader must report.
 * Built several times with a different FIXTURE_* define each (see
 * meson.build); FIXTURE_GOOD is the control that loads. */
#include <dray/dray.h>

#ifdef FIXTURE_FOREIGN_ENTRY
int entry_dep_marker(void); /* from libentrydep, which exports the entry */
#endif

static int fx_create(const struct dray_host *h, dray_instance *i, void **s) {
  (void)h, (void)i;
  *s = 0;
#ifdef FIXTURE_FOREIGN_ENTRY
  return entry_dep_marker();
#else
  return 0;
#endif
}
static void fx_destroy(void *s) { (void)s; }
__attribute__((unused)) static dray_status fx_process(void *s, const dray_msg *m) {
  (void)s, (void)m;
  return DRAY_OK;
}

#ifdef FIXTURE_BAD_SCHEMA
static const char *const no_values[] = {NULL};
static const struct dray_param fx_params[] = {
    DRAY_PARAM_ENUMS("mode", 0, NULL, no_values, "an enum with no values")};
#else
static const struct dray_param fx_params[] = {
    DRAY_PARAM_INIT("greeting", DRAY_PARAM_STRING, 0, "hi", "a string")};
#endif

#ifndef FIXTURE_NAME
#define FIXTURE_NAME "fixture"
#endif

__attribute__((unused)) static const struct dray_plugin fx_desc = {
#ifdef FIXTURE_SHORT_STRUCT
    .struct_size = 24,
#else
    .struct_size = sizeof(struct dray_plugin),
#endif
#ifdef FIXTURE_WRONG_MAJOR
    .abi_major = DRAY_ABI_MAJOR + 1,
#else
    .abi_major = DRAY_ABI_MAJOR,
#endif
#ifdef FIXTURE_NEWER_MINOR
    .abi_minor = DRAY_ABI_MINOR + 1,
#else
    .abi_minor = DRAY_ABI_MINOR,
#endif
    .name = FIXTURE_NAME,
    .version = "0.0.1",
    .description = "loader test fixture",
    .kinds = DRAY_KIND_DESTINATION,
    .params = fx_params,
    .param_count = 1,
    .create = fx_create,
    .destroy = fx_destroy,
#ifndef FIXTURE_MISSING_CALLBACK
    .process = fx_process,
#endif
};

#if defined(FIXTURE_REFUSES_HOST)
DRAY_EXPORT int dray_plugin_entry(uint32_t major, uint32_t minor,
                                  const struct dray_plugin **out);
DRAY_EXPORT int dray_plugin_entry(uint32_t major, uint32_t minor,
                                  const struct dray_plugin **out) {
  (void)major, (void)minor, (void)out;
  return -22; /* e.g. "needs host minor >= 7" */
}
#elif defined(FIXTURE_NO_ENTRY) || defined(FIXTURE_FOREIGN_ENTRY)
/* No entry of its own (the foreign one gets it from a library it links). */
DRAY_EXPORT const struct dray_plugin *fixture_descriptor(void);
DRAY_EXPORT const struct dray_plugin *fixture_descriptor(void) {
  return &fx_desc;
}
#else
DRAY_PLUGIN_DEFINE(fx_desc)
#endif
