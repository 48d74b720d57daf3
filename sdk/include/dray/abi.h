/* dray/abi.h - version, status codes and common types of the Dray plugin ABI.
 *
 * This folder (sdk/include/dray/) is the whole contract between the Dray core
 * and a connector plugin. Nothing here names a third-party type: messages are
 * opaque handles, JSON crosses as (pointer, length), and every byte that
 * crosses the boundary is allocated with the host's allocator.
 *
 * Compatibility rule (checked by the host at load time):
 *   plugin abi_major == host abi_major  &&  plugin abi_minor <= host abi_minor
 *
 * Every ABI struct starts with `struct_size`, and structs only ever grow at
 * the end. A behaviour change counts as an ABI change. Adding a field or a
 * host function bumps DRAY_ABI_MINOR; removing or reordering anything bumps
 * DRAY_ABI_MAJOR. The committed abidw baseline (sdk/abi/) and the abidiff
 * test enforce this.
 *
 * History:
 *   1.0  first version
 *   1.1  host: set_effect_reference, set_in_doubt; plugin: lookup
 *        (the idempotency ledger of financial destinations)
 *   1.2  host: emit_batch (one group commit for many messages)
 */
#ifndef DRAY_ABI_H
#define DRAY_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_ABI_MAJOR 1
#define DRAY_ABI_MINOR 2

/* Name of the one symbol every plugin exports (see dray/plugin.h). */
#define DRAY_PLUGIN_ENTRY_SYMBOL "dray_plugin_entry"

#if defined(__GNUC__)
#define DRAY_EXPORT __attribute__((visibility("default")))
#define DRAY_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define DRAY_EXPORT
#define DRAY_PRINTF(fmt, args)
#endif

/* Result of every plugin callback that handles a message or a document.
 *
 * DRAY_OK      done; for emit: the host now owns the message.
 * DRAY_RETRY   transient failure: the host backs off and tries again; counts
 *              for the circuit breaker; may carry a retry-after hint
 *              (dray_host.set_retry_after). For emit: backpressure, the
 *              caller keeps the message and tries later.
 * DRAY_REJECT  this message or document is bad: dead-letter it now with the
 *              error set through dray_host.set_error.
 * DRAY_FATAL   the instance is broken: the host stops it and opens its
 *              breaker.
 * Any other value is treated as DRAY_RETRY and logged. */
typedef enum dray_status {
  DRAY_OK = 0,
  DRAY_RETRY = 1,
  DRAY_REJECT = 2,
  DRAY_FATAL = 3
} dray_status;

/* What a plugin can be; a descriptor's `kinds` is a bit set of these. */
enum dray_kind {
  DRAY_KIND_SOURCE = 1u << 0,      /* emits messages (own threads or poll) */
  DRAY_KIND_DESTINATION = 1u << 1, /* receives routed messages (process) */
  DRAY_KIND_CODEC = 1u << 2        /* decode/encode native documents */
};

/* Log levels, most severe first. */
enum dray_log_level {
  DRAY_LOG_ERROR = 0,
  DRAY_LOG_WARN = 1,
  DRAY_LOG_INFO = 2,
  DRAY_LOG_DEBUG = 3
};

/* Opaque handles. All are owned by the host unless a function says that
 * ownership moves (a `**` parameter). */
typedef struct dray_msg dray_msg;           /* one canonical message */
typedef struct dray_instance dray_instance; /* the host's side of an instance */
typedef struct dray_batch dray_batch;       /* collects decoded messages */
typedef struct dray_buf dray_buf;           /* growable byte buffer */
typedef struct dray_http_exchange dray_http_exchange; /* one HTTP request */

#ifdef __cplusplus
}
#endif
#endif
