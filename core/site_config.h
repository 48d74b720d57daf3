/* site_config.h - one site's configuration: instances of plugins and the
 * routes between them, read from YAML and checked as a whole so that
 * `dray check` reports every error at once as FILE:LINE:COL: message. */
#ifndef DRAY_CORE_SITE_CONFIG_H
#define DRAY_CORE_SITE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "plugin_loader.h"
#include "retry.h"
#include "yaml_tree.h"
#include "params.h"

/* Error list: each entry "FILE:LINE:COL: message". */
struct dray__diag {
  char **lines;
  size_t count;
  size_t cap;
};
void dray__diag_add(struct dray__diag *d, const char *file,
                    const struct dray__node *at, const char *fmt, ...)
    DRAY_PRINTF(4, 5);
void dray__diag_release(struct dray__diag *d);

struct dray__instance_config {
  char *name;
  char *plugin_name;
  const struct dray__plugin *plugin; /* resolved in the registry */
  dray__config values;               /* the plugin's config, checked */
  unsigned workers;                  /* destination lanes (default 1) */
  unsigned queue_capacity;           /* per lane, messages (default 1024) */
  unsigned poll_interval_ms;         /* idle pause for polled sources */
  char *effects;                     /* "none" or "financial" */
  struct dray__retry_policy retry;   /* destination retries */
  struct dray__breaker_policy breaker; /* destination circuit breaker */
};

struct dray__route {
  char **from; /* instance names; NULL-terminated */
  char **types; /* type globs ('*' matches any run); NULL-terminated */
  char **to;    /* instance names; NULL-terminated */
  int memory;   /* delivery: memory (not journaled; a crash may lose it) */
  int line;
};

struct dray__site {
  char *path;
  char *site;
  char *data_dir;
  char **plugin_path; /* NULL-terminated */
  int log_level;
  unsigned shutdown_timeout_ms;
  unsigned dedupe_window_ms; /* ingress de-duplication on (source, id) */
  unsigned dedupe_capacity;
  /* The ingress journal (DATA_DIR/journal) and dead letters (DATA_DIR/dlq). */
  uint64_t journal_segment_bytes;
  uint64_t journal_max_bytes;
  unsigned journal_group_records;
  unsigned journal_group_delay_us;
  uint64_t dlq_max_bytes;
  /* Shared HTTP listener; http_listen NULL = disabled. */
  char *http_listen;
  char *http_tls_cert;
  char *http_tls_key;
  size_t http_max_body;
  struct dray__instance_config *instances;
  size_t instance_count;
  struct dray__route *routes;
  size_t route_count;
};

/* Loads and checks the site at `path`. Plugins named by instances are
 * looked up in `registry` (scanned from the site's plugin_path by the
 * caller when reg_from_site is set; see dray__site_load_full). Returns the
 * site, or NULL with every error in diag. Caller owns the site. */
struct dray__site *dray__site_load(const char *path,
                                   struct dray__registry *registry,
                                   struct dray__diag *diag);
void dray__site_free(struct dray__site **site_p);
/* For commands: loads the site, printing every error to stderr as
 * FILE:LINE:COL: message. NULL when it has errors. */
struct dray__site *dray__site_load_or_report(const char *path, struct dray__registry *registry);
const struct dray__instance_config *dray__site_instance(
    const struct dray__site *site, const char *name);

/* Reads one plugin config mapping (the `config:` of an instance, or a
 * file given to `dray convert --config`) into out->values, checked
 * against the plugin's schema. Relative PATH values are resolved against
 * the folder of `file`. 0, or -1 with the errors in diag. The caller
 * releases out->values and out->name. */
int dray__plugin_config_read(const char *file, const char *instance_name,
                             const struct dray__plugin *plugin,
                             const struct dray__node *cfg,
                             struct dray__instance_config *out,
                             struct dray__diag *diag);

/* Glob match of a message type ('*' matches any run of characters). */
int dray__glob_match(const char *pattern, const char *text);
/* Nonzero if some string matches both globs. */
int dray__glob_intersect(const char *a, const char *b);

#endif
