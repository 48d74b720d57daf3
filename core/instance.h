/* instance.h - a plugin instance as the runtime sees it: the plugin's
 * state, the locks that enforce the ABI's threading contract, and the
 * window in which it may emit. */
#ifndef DRAY_CORE_INSTANCE_H
#define DRAY_CORE_INSTANCE_H

#include <pthread.h>
#include <stdatomic.h>

#include <dray/dray.h>

#include "params.h"

struct dray__runtime;
struct dray__pipeline;
struct dray__state;

/* An HTTP route asked for during create(), registered on the listener
 * once the plugin's state exists. */
struct dray__pending_route {
  char *method;
  char *prefix;
  dray_http_handler handler;
  dray_http_auth auth;
};

struct dray_instance {
  char *name;
  char *source_uri; /* CloudEvents source: "dray://<site>/<instance>" */
  char *site;
  char *data_dir;
  const struct dray_plugin *desc;
  const dray__config *config; /* owned by the site config */
  struct dray__runtime *rt;   /* NULL outside `dray run` */
  struct dray__state *state_store; /* may be NULL: kv calls then fail */
  void *state;                /* the plugin's */
  int created;
  int started;
  int in_create;
  atomic_int emit_open;
  atomic_int stop_requested;
  atomic_int failed; /* a callback returned FATAL */
  int financial;     /* effects: financial -> the idempotency ledger */
  /* counters bumped for every message, looked up once */
  struct dray__metric_cell *m_emitted;
  struct dray__metric_cell *m_delivered;
  pthread_mutex_t call_lock;    /* create/start/stop/poll/decode/encode */
  pthread_mutex_t process_lock; /* process(), unless CONCURRENT */
  pthread_t poll_thread;
  int poll_thread_running;
  unsigned poll_interval_ms;
  struct dray__pipeline *pipeline; /* when routed to */
  size_t index; /* position in the runtime's instance list */
  struct dray__pending_route *pending_routes;
  size_t pending_route_count;
};

/* The host table shared by every instance of this process. */
const struct dray_host *dray__host_table(void);

/* Creates an instance record (not the plugin's state). Caller owns. */
struct dray_instance *dray__instance_new(const char *site, const char *name,
                                         const struct dray_plugin *desc,
                                         const dray__config *config,
                                         const char *data_dir);
/* Calls the plugin's create() (then registers its HTTP routes). 0 or -1
 * with the reason in err. */
int dray__instance_create(struct dray_instance *inst, char *err,
                          size_t err_size);
int dray__instance_start(struct dray_instance *inst, char *err,
                         size_t err_size);
void dray__instance_stop(struct dray_instance *inst);
/* Destroys the plugin state (if created) and the record. */
void dray__instance_destroy(struct dray_instance **inst_p);

/* The error text and retry-after hint the plugin set during its last
 * callback on this thread; cleared by dray__callback_begin. */
void dray__callback_begin(void);
const char *dray__callback_error(void);
int64_t dray__callback_retry_after(void);
/* Since ABI 1.1: the effect reference and the in-doubt mark of the last
 * process() on this thread. */
const char *dray__callback_reference(void);
int dray__callback_in_doubt(void);

#endif
