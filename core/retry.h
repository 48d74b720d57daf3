/* retry.h - when to try a failed delivery again. Retries happen in one
 * layer only, the destination worker (pipeline.c); this file decides the
 * delay: full-jitter exponential backoff, a plugin's retry-after hint
 * honoured, and a maximum age after which the message is dead-lettered. */
#ifndef DRAY_CORE_RETRY_H
#define DRAY_CORE_RETRY_H

#include <stdint.h>

struct dray__retry_policy {
  int64_t base_ms;    /* 1000 */
  int64_t cap_ms;     /* 300000 */
  int64_t max_age_ms; /* 24 h: older failures go to the dead letters */
};

void dray__retry_policy_default(struct dray__retry_policy *p);
/* Full jitter: uniform in [0, min(cap, base * 2^attempt)). attempt 0 is
 * the first retry. `random64` is a random value (the caller's source). */
int64_t dray__retry_backoff_ms(const struct dray__retry_policy *p, unsigned attempt,
                               uint64_t random64);
/* The delay before the next attempt, or -1 when the message has failed
 * for longer than max_age_ms (dead-letter it). hint_ms >= 0 is the
 * plugin's retry-after hint and wins over the backoff (capped at cap_ms,
 * and never beyond the maximum age). */
int64_t dray__retry_next_ms(const struct dray__retry_policy *p, unsigned attempt,
                            int64_t first_failure_ms, int64_t now_ms, int64_t hint_ms,
                            uint64_t random64);

#endif
