/* retry.c - retry delays (see retry.h). */
#include "retry.h"

void dray__retry_policy_default(struct dray__retry_policy *p) {
  p->base_ms = 1000;
  p->cap_ms = 300000;
  p->max_age_ms = 24LL * 3600 * 1000;
}

int64_t dray__retry_backoff_ms(const struct dray__retry_policy *p, unsigned attempt,
                               uint64_t random64) {
  int64_t ceiling = p->base_ms > 0 ? p->base_ms : 1;
  for (unsigned i = 0; i < attempt && ceiling < p->cap_ms; i++) ceiling *= 2;
  if (ceiling > p->cap_ms) ceiling = p->cap_ms;
  return ceiling > 0 ? (int64_t)(random64 % (uint64_t)ceiling) : 0;
}

int64_t dray__retry_next_ms(const struct dray__retry_policy *p, unsigned attempt,
                            int64_t first_failure_ms, int64_t now_ms, int64_t hint_ms,
                            uint64_t random64) {
  int64_t age = now_ms - first_failure_ms;
  if (age >= p->max_age_ms) return -1;
  int64_t delay = hint_ms >= 0 ? (hint_ms > p->cap_ms ? p->cap_ms : hint_ms)
                               : dray__retry_backoff_ms(p, attempt, random64);
  if (age + delay > p->max_age_ms) delay = p->max_age_ms - age;
  return delay;
}
