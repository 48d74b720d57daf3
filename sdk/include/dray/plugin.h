/* dray/plugin.h - what a plugin exports: one entry function returning a
 * descriptor.
 *
 *   DRAY_EXPORT int dray_plugin_entry(uint32_t host_major,
 *                                     uint32_t host_minor,
 *                                     const struct dray_plugin **out);
 *
 * The entry function is called once, right after dlopen. It may refuse the
 * host (return a negative value, e.g. when it needs a newer minor version);
 * otherwise it sets *out to a descriptor with static storage duration and
 * returns 0. Use DRAY_PLUGIN_DEFINE below.
 *
 * Load-time checks by the host, each a distinct error: the file is a shared
 * object; the entry symbol exists and is defined by that file (not by one
 * of its dependencies); the entry accepts the host; abi_major equals the
 * host's; abi_minor is not newer than the host's; struct_size covers every
 * field up to the last one of ABI 1.0; callbacks required by `kinds` are
 * present; the name is unique; the config schema is well formed.
 * Plugins are loaded with RTLD_NOW | RTLD_LOCAL and never unloaded once an
 * instance was created.
 *
 * Lifecycle of one instance
 * -------------------------
 *   create(host, inst, &state)   config is validated; may register HTTP
 *                                routes; must not emit
 *   start(state)                 may start threads; emit allowed from here
 *   poll(state, &worked)         sources without threads: called by a core
 *                                thread in a loop, with a pause when idle
 *   process(state, msg)          destinations: one routed message
 *   stop(state)                  join threads; no emit after return
 *   destroy(state)               free everything
 * decode/encode may be called on a created instance that was never started
 * (`dray convert`).
 *
 * Threading contract: the host never calls two callbacks of one instance at
 * the same time, except that process() may run concurrently with poll(),
 * HTTP handlers, decode() and encode(), and several process() calls run
 * concurrently when `flags` has DRAY_PLUGIN_CONCURRENT. Different instances
 * of one plugin run concurrently: keep state in the instance, not in
 * globals.
 */
#ifndef DRAY_PLUGIN_H
#define DRAY_PLUGIN_H

#include "abi.h"
#include "config.h"
#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dray_plugin_flags {
  DRAY_PLUGIN_CONCURRENT = 1u << 0 /* process() is safe to call in parallel */
};

/* The plugin descriptor.
 * ABI rule: add fields at the end only; struct_size = sizeof at build. */
struct dray_plugin {
  uint32_t struct_size;
  uint16_t abi_major; /* DRAY_ABI_MAJOR the plugin was built against */
  uint16_t abi_minor; /* DRAY_ABI_MINOR the plugin was built against */
  const char *name;   /* [a-z0-9_]+, unique on the plugin path */
  const char *version;     /* the plugin's own version, e.g. "1.2.0" */
  const char *description; /* one line */
  uint32_t kinds;          /* bit set of enum dray_kind */
  uint32_t flags;          /* bit set of enum dray_plugin_flags */
  const struct dray_param *params; /* config schema */
  size_t param_count;

  /* Required for every plugin. Returns 0 and sets *state, or a negative
   * value with the reason given through host->set_error(). */
  int (*create)(const struct dray_host *host, dray_instance *inst,
                void **state);
  void (*destroy)(void *state);
  /* Optional. Returns 0 or negative (error set). */
  int (*start)(void *state);
  void (*stop)(void *state);

  /* Sources: optional when the plugin emits from its own threads. Sets
   * *worked to nonzero when it did something (the host calls again at
   * once) or zero when idle (the host pauses poll_interval_ms). */
  dray_status (*poll)(void *state, int *worked);

  /* Destinations: required with DRAY_KIND_DESTINATION. The message stays
   * owned by the host. */
  dray_status (*process)(void *state, const dray_msg *msg);

  /* Codecs: decode required with DRAY_KIND_CODEC, encode optional.
   * decode turns native bytes into canonical messages added to `out`;
   * `origin` names the input (a file name) for error messages. On bad
   * input it returns DRAY_REJECT with set_error naming where; messages
   * already added stay valid (partial success is reported per message).
   * encode appends the native form of one canonical message to `out`. */
  dray_status (*decode)(void *state, const void *input, size_t len,
                        const char *origin, dray_batch *out);
  dray_status (*encode)(void *state, const dray_msg *msg, dray_buf *out);

  /* --- since ABI 1.1 ------------------------------------------------------ */
  /* Optional, for destinations with financial effects: did the effect of
   * `msg` (found by its idempotencykey) happen in the other system?
   * DRAY_OK: yes (append its reference to `reference`); DRAY_REJECT: no,
   * it is safe to send again; DRAY_RETRY: cannot tell now. */
  dray_status (*lookup)(void *state, const dray_msg *msg, dray_buf *reference);
};

/* Minimum struct_size a 1.x descriptor must have: all fields of ABI 1.0. */
#define DRAY_PLUGIN_SIZE_V1_0                                                  \
  (offsetof(struct dray_plugin, encode) + sizeof(void (*)(void)))

/* True if a descriptor has `field` (it was built with a minor version
 * that includes it) and sets it. The host reads later fields only so. */
#define DRAY_PLUGIN_HAS(desc, field)                                           \
  ((desc)->struct_size >=                                                      \
       offsetof(struct dray_plugin, field) + sizeof((desc)->field) &&          \
   (desc)->field != NULL)

/* The entry function's type. */
typedef int (*dray_plugin_entry_fn)(uint32_t host_major, uint32_t host_minor,
                                    const struct dray_plugin **out);

/* Defines the entry function for a descriptor named `desc`. */
#define DRAY_PLUGIN_DEFINE(desc)                                               \
  DRAY_EXPORT int dray_plugin_entry(uint32_t host_major, uint32_t host_minor, \
                                    const struct dray_plugin **out);           \
  DRAY_EXPORT int dray_plugin_entry(uint32_t host_major, uint32_t host_minor, \
                                    const struct dray_plugin **out) {          \
    if (host_major != DRAY_ABI_MAJOR) return -1;                               \
    (void)host_minor;                                                          \
    *out = &(desc);                                                            \
    return 0;                                                                  \
  }

#ifdef __cplusplus
}
#endif
#endif
