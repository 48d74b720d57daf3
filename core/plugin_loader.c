/* plugin_loader.c - opening and checking plugins (see plugin_loader.h). */
#include "plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "params.h"

#ifndef DRAY_PLUGIN_DIR
#define DRAY_PLUGIN_DIR "/usr/local/lib/dray/plugins"
#endif
#ifndef DRAY_BUILD_PLUGIN_DIRS
#define DRAY_BUILD_PLUGIN_DIRS ""
#endif

void dray__kinds_text(uint32_t kinds, char *out, size_t size) {
  snprintf(out, size, "%s%s%s%s", (kinds & DRAY_KIND_SOURCE) ? "source," : "",
           (kinds & DRAY_KIND_DESTINATION) ? "destination," : "",
           (kinds & DRAY_KIND_CODEC) ? "codec," : "", kinds ? "" : "none,");
  size_t n = strlen(out);
  if (n) out[n - 1] = '\0';
}

/* The file that defines `sym`, compared with the file we opened: with
 * RTLD_LOCAL, dlsym also searches the plugin's own dependencies, and a
 * plugin must not borrow its entry point from a library it links. */
static int symbol_from_file(void *dl, void *sym, char *other, size_t size) {
  Dl_info info;
  struct link_map *map = NULL;
  if (!dladdr(sym, &info) || !info.dli_fname) return 0;
  if (dlinfo(dl, RTLD_DI_LINKMAP, &map) != 0 || !map) return 0;
  char a[PATH_MAX], b[PATH_MAX];
  if (!realpath(info.dli_fname, a) || !realpath(map->l_name, b))
    return strcmp(info.dli_fname, map->l_name) == 0 ? 1 : (snprintf(other, size, "%s", info.dli_fname), 0);
  if (strcmp(a, b) == 0) return 1;
  snprintf(other, size, "%s", a);
  return 0;
}

static const char *missing_callback(const struct dray_plugin *d) {
  if (!d->create) return "create (every plugin)";
  if (!d->destroy) return "destroy (every plugin)";
  if ((d->kinds & DRAY_KIND_DESTINATION) && !d->process)
    return "process (destination)";
  if ((d->kinds & DRAY_KIND_CODEC) && !d->decode) return "decode (codec)";
  if ((d->kinds & DRAY_KIND_SOURCE) && !d->start && !d->poll)
    return "poll or start (source)";
  return NULL;
}

static int name_valid(const char *name) {
  if (!name || !*name || strlen(name) > 64) return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return 0;
  return 1;
}

int dray__plugin_open(const char *path, struct dray__plugin **out, char *err,
                      size_t err_size) {
  struct stat st;
  void *dl = NULL;
  char other[PATH_MAX];
  *out = NULL;
  if (stat(path, &st) != 0) {
    snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  dlerror();
  dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    const char *why = dlerror();
    snprintf(err, err_size, "%s: not a loadable shared object: %s", path,
             why ? why : "unknown error");
    return -1;
  }
  void *sym = dlsym(dl, DRAY_PLUGIN_ENTRY_SYMBOL);
  if (!sym) {
    snprintf(err, err_size, "%s: entry symbol %s not found", path,
             DRAY_PLUGIN_ENTRY_SYMBOL);
    goto refuse;
  }
  if (!symbol_from_file(dl, sym, other, sizeof other)) {
    snprintf(err, err_size, "%s: entry symbol %s comes from %s, not this file",
             path, DRAY_PLUGIN_ENTRY_SYMBOL, other);
    goto refuse;
  }
  dray_plugin_entry_fn entry;
  *(void **)&entry = sym;
  const struct dray_plugin *d = NULL;
  int rc = entry(DRAY_ABI_MAJOR, DRAY_ABI_MINOR, &d);
  if (rc != 0 || !d) {
    snprintf(err, err_size, "%s: plugin refused host ABI %d.%d (entry returned %d)",
             path, DRAY_ABI_MAJOR, DRAY_ABI_MINOR, rc);
    goto refuse;
  }
  /* Read the version fields only once struct_size says they exist. */
  if (d->struct_size < offsetof(struct dray_plugin, name)) {
    snprintf(err, err_size,
             "%s: descriptor struct_size %u is smaller than ABI %d.0's %zu",
             path, d->struct_size, DRAY_ABI_MAJOR,
             (size_t)DRAY_PLUGIN_SIZE_V1_0);
    goto refuse;
  }
  if (d->abi_major != DRAY_ABI_MAJOR) {
    snprintf(err, err_size, "%s: built for ABI major %u, host is %d", path,
             d->abi_major, DRAY_ABI_MAJOR);
    goto refuse;
  }
  if (d->abi_minor > DRAY_ABI_MINOR) {
    snprintf(err, err_size, "%s: built for ABI %u.%u, newer than host %d.%d",
             path, d->abi_major, d->abi_minor, DRAY_ABI_MAJOR, DRAY_ABI_MINOR);
    goto refuse;
  }
  if (d->struct_size < DRAY_PLUGIN_SIZE_V1_0) {
    snprintf(err, err_size,
             "%s: descriptor struct_size %u is smaller than ABI %d.0's %zu",
             path, d->struct_size, DRAY_ABI_MAJOR,
             (size_t)DRAY_PLUGIN_SIZE_V1_0);
    goto refuse;
  }
  if (!name_valid(d->name)) {
    snprintf(err, err_size, "%s: plugin name \"%s\" is not [a-z0-9_]{1,64}",
             path, d->name ? d->name : "(null)");
    goto refuse;
  }
  const char *missing = missing_callback(d);
  if (missing) {
    snprintf(err, err_size, "%s: required callback %s missing", path, missing);
    goto refuse;
  }
  char why[512];
  if (dray__params_schema_check(d, why, sizeof why) != 0) {
    snprintf(err, err_size, "%s: invalid config schema: %s", path, why);
    goto refuse;
  }
  struct dray__plugin *p = calloc(1, sizeof *p);
  if (!p || !(p->path = strdup(path))) {
    free(p);
    snprintf(err, err_size, "%s: out of memory", path);
    goto refuse;
  }
  p->dl = dl;
  p->desc = d;
  *out = p;
  return 0;
refuse:
  /* Nothing from this file ran except its entry function: unloading a
   * refused plugin is safe. */
  dlclose(dl);
  return -1;
}

void dray__plugin_free(struct dray__plugin **plugin_p) {
  if (!plugin_p || !*plugin_p) return;
  free((*plugin_p)->path);
  free(*plugin_p);
  *plugin_p = NULL;
}

void dray__registry_init(struct dray__registry *reg) {
  memset(reg, 0, sizeof *reg);
}

void dray__registry_release(struct dray__registry *reg) {
  for (size_t i = 0; i < reg->count; i++) dray__plugin_free(&reg->plugins[i]);
  for (size_t i = 0; i < reg->error_count; i++) free(reg->errors[i]);
  free(reg->plugins);
  free(reg->errors);
  dray__registry_init(reg);
}

static void add_error(struct dray__registry *reg, const char *text) {
  char **e = realloc(reg->errors, (reg->error_count + 1) * sizeof *e);
  if (!e) return;
  reg->errors = e;
  if ((e[reg->error_count] = strdup(text)) != NULL) reg->error_count++;
}

const struct dray__plugin *dray__registry_find(const struct dray__registry *reg,
                                               const char *name) {
  for (size_t i = 0; i < reg->count; i++)
    if (strcmp(reg->plugins[i]->desc->name, name) == 0) return reg->plugins[i];
  return NULL;
}

int dray__registry_add_file(struct dray__registry *reg, const char *path) {
  char err[1024];
  struct dray__plugin *p;
  if (dray__plugin_open(path, &p, err, sizeof err) != 0) {
    add_error(reg, err);
    return -1;
  }
  const struct dray__plugin *dup = dray__registry_find(reg, p->desc->name);
  if (dup) {
    snprintf(err, sizeof err, "%s: duplicate plugin name \"%s\" (already loaded from %s)",
             path, p->desc->name, dup->path);
    add_error(reg, err);
    dlclose(p->dl);
    dray__plugin_free(&p);
    return -1;
  }
  if (reg->count == reg->cap) {
    size_t cap = reg->cap ? reg->cap * 2 : 8;
    struct dray__plugin **v = realloc(reg->plugins, cap * sizeof *v);
    if (!v) {
      dray__plugin_free(&p);
      return -1;
    }
    reg->plugins = v;
    reg->cap = cap;
  }
  reg->plugins[reg->count++] = p;
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int so_filter(const struct dirent *e) {
  size_t n = strlen(e->d_name);
  return n > 3 && strcmp(e->d_name + n - 3, ".so") == 0;
}

void dray__registry_scan_dir(struct dray__registry *reg, const char *dir) {
  struct dirent **names;
  int n = scandir(dir, &names, so_filter, by_name);
  if (n < 0) return;
  for (int i = 0; i < n; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    dray__registry_add_file(reg, path);
    free(names[i]);
  }
  free(names);
}

static int push_dirs(char ***list, size_t *count, const char *colon_list) {
  char *copy = strdup(colon_list), *save = NULL;
  if (!copy) return -1;
  for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char **v = realloc(*list, (*count + 2) * sizeof *v);
    if (!v) break;
    *list = v;
    if ((v[*count] = strdup(d)) != NULL) (*count)++;
    v[*count] = NULL;
  }
  free(copy);
  return 0;
}

char **dray__default_plugin_path(void) {
  char **list = calloc(1, sizeof *list);
  size_t count = 0;
  if (!list) return NULL;
  const char *env = getenv("DRAY_PLUGIN_PATH");
  if (env && *env) push_dirs(&list, &count, env);
  if (*DRAY_BUILD_PLUGIN_DIRS && !getenv("DRAY_NO_BUILD_PLUGINS"))
    push_dirs(&list, &count, DRAY_BUILD_PLUGIN_DIRS);
  push_dirs(&list, &count, DRAY_PLUGIN_DIR);
  return list;
}
