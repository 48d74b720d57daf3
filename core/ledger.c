/* ledger.c - the idempotency ledger (see ledger.h). A row's value is
 * "STATE RUN [REFERENCE]"; RUN identifies the process that wrote it, so
 * an `attempting` row of an earlier run is known to be in doubt. */
#include "ledger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const names[] = {"none", "pending", "attempting", "committed", "in-doubt"};

const char *dray__ledger_state_name(enum dray__ledger_state s) {
  return s <= DRAY_LEDGER_IN_DOUBT ? names[s] : "?";
}

static char run_id[48];
static pthread_once_t run_once = PTHREAD_ONCE_INIT;

static void make_run_id(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(run_id, sizeof run_id, "%d.%lld.%ld", (int)getpid(), (long long)ts.tv_sec,
           ts.tv_nsec);
}

static void ns_for(const char *instance, char *ns, size_t size) {
  snprintf(ns, size, "ledger/%s", instance);
}

int dray__ledger_get(dray__state *store, const char *instance, const char *key,
                     enum dray__ledger_state *state, char *ref, size_t ref_size) {
  char ns[256], *value = NULL;
  pthread_once(&run_once, make_run_id);
  ns_for(instance, ns, sizeof ns);
  if (ref_size) ref[0] = '\0';
  int rc = dray__state_get(store, ns, key, &value, NULL);
  if (rc < 0) return -1;
  *state = DRAY_LEDGER_NONE;
  if (rc == 1) return 0;
  char st[16] = "", run[48] = "";
  int n = 0;
  sscanf(value, "%15s %47s %n", st, run, &n);
  for (int i = DRAY_LEDGER_PENDING; i <= DRAY_LEDGER_IN_DOUBT; i++)
    if (strcmp(st, names[i]) == 0) *state = (enum dray__ledger_state)i;
  if (*state == DRAY_LEDGER_ATTEMPTING && strcmp(run, run_id) != 0)
    *state = DRAY_LEDGER_IN_DOUBT; /* an earlier run crashed mid-call */
  if (n > 0 && ref_size) snprintf(ref, ref_size, "%s", value + n);
  free(value);
  return 0;
}

int dray__ledger_set(dray__state *store, const char *instance, const char *key,
                     enum dray__ledger_state state, const char *ref) {
  char ns[256], value[1024];
  pthread_once(&run_once, make_run_id);
  ns_for(instance, ns, sizeof ns);
  int n = snprintf(value, sizeof value, "%s %s %s", dray__ledger_state_name(state), run_id,
                   ref ? ref : "");
  if (n < 0 || (size_t)n >= sizeof value) return -1;
  return dray__state_put(store, ns, key, value, (size_t)n);
}
