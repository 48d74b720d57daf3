/* runtime.h - `dray run`: a site's instances, the router, the
 * per-destination pipelines, signals. */
#ifndef DRAY_CORE_RUNTIME_H
#define DRAY_CORE_RUNTIME_H

#include <dray/dray.h>

#include "site_config.h"

struct dray__runtime;
struct dray__http;

/* Runs the site at config_path until SIGTERM/SIGINT (drain and stop
 * within the site's shutdown_timeout_ms) and reloads routes on SIGHUP.
 * Returns the process exit code. */
int dray__run(const char *config_path);

/* The one place where a message emitted by `from` is accepted: envelope
 * check, routing, admission to every destination lane (all or none).
 * On DRAY_OK the runtime owns the message and *msg_p is NULL. */
dray_status dray__runtime_accept(struct dray__runtime *rt,
                                 struct dray_instance *from, dray_msg **msg_p);
/* The same for several messages from one instance: one group commit for
 * all of them. The leading *accepted messages are the runtime's (their
 * slots set to NULL); the status is for msgs[*accepted] when it is not
 * DRAY_OK. */
dray_status dray__runtime_accept_batch(struct dray__runtime *rt, struct dray_instance *from,
                                       dray_msg **msgs, size_t count, size_t *accepted);
/* The shared HTTP listener, or NULL when the site has none. */
struct dray__http *dray__runtime_http(struct dray__runtime *rt);
/* The running instances, for status and tools. */
size_t dray__runtime_instance_count(struct dray__runtime *rt);
struct dray_instance *dray__runtime_instance(struct dray__runtime *rt, size_t i);
const char *dray__runtime_site(struct dray__runtime *rt);

/* The ingress journal and the destinations' backlog spools, for status:
 * unreleased records and their bytes (all spools), and how many
 * destinations have a backlog (durable messages their lanes had no room
 * for, fed to them in order). */
struct dray__journal_status {
  uint64_t records, bytes, queued_total;
  int backlog; /* destinations */
};
void dray__runtime_journal_status(struct dray__runtime *rt, struct dray__journal_status *out);

/* Nonzero once the runtime is draining (sources get backpressure). */
int dray__runtime_stopping(struct dray__runtime *rt);

#endif
