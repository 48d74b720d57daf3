/* plugin_loader.h - finds, opens and checks plugin .so files.
 *
 * dlopen(RTLD_NOW | RTLD_LOCAL), so a missing symbol fails at load and a
 * plugin's libraries never leak into another's lookups. A plugin is never
 * dlclose'd once it was accepted (an instance may have been created from
 * it: threads, atexit handlers and callbacks could outlive the unload).
 * Each refusal has its own message; see dray__plugin_open. */
#ifndef DRAY_CORE_PLUGIN_LOADER_H
#define DRAY_CORE_PLUGIN_LOADER_H

#include <stddef.h>

#include <dray/dray.h>

struct dray__plugin {
  char *path; /* as found */
  void *dl;
  const struct dray_plugin *desc;
};

/* Opens one plugin file and applies every check but the duplicate-name
 * one. Returns 0 and *out (caller owns; dray__plugin_free), or -1 with
 * "PATH: reason" in err. The reasons:
 *   cannot open: <errno text>                    (missing file)
 *   not a loadable shared object: <dlerror>
 *   entry symbol dray_plugin_entry not found
 *   entry symbol dray_plugin_entry comes from <other file>, not this one
 *   plugin refused host ABI <M>.<m> (entry returned <rc>)
 *   built for ABI major <x>, host is <M>
 *   built for ABI <M>.<y>, newer than host <M>.<m>
 *   descriptor struct_size <n> is smaller than ABI <M>.0's <k>
 *   required callback <name> missing (<kind>)
 *   invalid config schema: <reason> */
int dray__plugin_open(const char *path, struct dray__plugin **out, char *err,
                      size_t err_size);
void dray__plugin_free(struct dray__plugin **plugin_p);

/* The plugins found on a search path. */
struct dray__registry {
  struct dray__plugin **plugins;
  size_t count;
  size_t cap;
  char **errors; /* one "PATH: reason" per refused file */
  size_t error_count;
};

void dray__registry_init(struct dray__registry *reg);
/* Frees the registry's bookkeeping. Plugins that had instances created
 * stay mapped (their handles are deliberately leaked). */
void dray__registry_release(struct dray__registry *reg);
/* Scans each directory for *.so files (non-recursive) and adds the ones
 * that load; refused files (including duplicate names) are recorded in
 * errors. Directories that do not exist are skipped. */
void dray__registry_scan_dir(struct dray__registry *reg, const char *dir);
/* Adds one file (as `dray plugins --path FILE` does). 0 or -1. */
int dray__registry_add_file(struct dray__registry *reg, const char *path);
const struct dray__plugin *dray__registry_find(const struct dray__registry *reg,
                                               const char *name);
/* The default search path: $DRAY_PLUGIN_PATH (colon-separated), then the
 * build tree's plugin folders (development builds), then the installed
 * plugin directory. NULL-terminated; caller owns (free each and array). */
char **dray__default_plugin_path(void);
/* Kind bit set as text, e.g. "source,destination,codec". */
void dray__kinds_text(uint32_t kinds, char *out, size_t size);

#endif
