/* breaker.h - the circuit breaker of one destination instance.
 *
 * Closed: calls go through; it opens after `consecutive_failures` failures
 * in a row, or when at least `failure_ratio_pct` of the last `window`
 * calls failed (once `window_min` calls were seen). Open: no call reaches
 * the destination for open_ms, doubled after each failed probe up to
 * open_max_ms. Half-open: up to `half_open_probes` calls go through; all
 * succeeding closes it, any failure opens it again.
 *
 * Outcomes: SUCCESS (OK), FAILURE (RETRY without a hint, FATAL), NEUTRAL
 * (REJECT: the message was bad, not the destination; RETRY with a
 * retry-after hint: the destination is throttling, as with HTTP 429,
 * which slows down instead of tripping). Thread-safe. */
#ifndef DRAY_CORE_BREAKER_H
#define DRAY_CORE_BREAKER_H

#include <pthread.h>
#include <stdint.h>

enum dray__breaker_state { DRAY_BREAKER_CLOSED, DRAY_BREAKER_OPEN, DRAY_BREAKER_HALF_OPEN };
enum dray__outcome { DRAY_OUTCOME_SUCCESS, DRAY_OUTCOME_FAILURE, DRAY_OUTCOME_NEUTRAL };

struct dray__breaker_policy {
  unsigned consecutive_failures; /* 5 */
  unsigned window;               /* 20 (at most 64) */
  unsigned window_min;           /* 10 */
  unsigned failure_ratio_pct;    /* 50 */
  int64_t open_ms;               /* 30000 */
  int64_t open_max_ms;           /* 300000 */
  unsigned half_open_probes;     /* 3 */
};

struct dray__breaker {
  pthread_mutex_t lock;
  struct dray__breaker_policy policy;
  enum dray__breaker_state state;
  unsigned consecutive;
  uint64_t window_bits; /* 1 = failure, newest in bit 0 */
  unsigned window_count;
  int64_t open_until_ms;
  int64_t current_open_ms;
  unsigned probes_started;
  unsigned probes_succeeded;
  uint64_t opened_count; /* transitions to open, for metrics */
};

/* The defaults of DESIGN.md §4. */
void dray__breaker_policy_default(struct dray__breaker_policy *p);
void dray__breaker_init(struct dray__breaker *b, const struct dray__breaker_policy *p);
void dray__breaker_destroy(struct dray__breaker *b);
/* May a call go ahead at now_ms? 1 yes (maybe as a half-open probe), 0 no,
 * with *wait_ms until the next probe may start. */
int dray__breaker_allow(struct dray__breaker *b, int64_t now_ms, int64_t *wait_ms);
/* Records a call's outcome. Returns the new state when it changed, else -1. */
int dray__breaker_record(struct dray__breaker *b, int64_t now_ms, enum dray__outcome outcome);
enum dray__breaker_state dray__breaker_state(struct dray__breaker *b);
const char *dray__breaker_state_name(enum dray__breaker_state s);

#endif
