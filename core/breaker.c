/* breaker.c - circuit breaker (see breaker.h). */
#include "breaker.h"

void dray__breaker_policy_default(struct dray__breaker_policy *p) {
  p->consecutive_failures = 5;
  p->window = 20;
  p->window_min = 10;
  p->failure_ratio_pct = 50;
  p->open_ms = 30000;
  p->open_max_ms = 300000;
  p->half_open_probes = 3;
}

void dray__breaker_init(struct dray__breaker *b, const struct dray__breaker_policy *p) {
  struct dray__breaker zero = {0};
  *b = zero;
  pthread_mutex_init(&b->lock, NULL);
  if (p) b->policy = *p;
  else dray__breaker_policy_default(&b->policy);
  if (b->policy.window > 64) b->policy.window = 64;
  b->state = DRAY_BREAKER_CLOSED;
  b->current_open_ms = b->policy.open_ms;
}

void dray__breaker_destroy(struct dray__breaker *b) { pthread_mutex_destroy(&b->lock); }

const char *dray__breaker_state_name(enum dray__breaker_state s) {
  return s == DRAY_BREAKER_CLOSED ? "closed" : s == DRAY_BREAKER_OPEN ? "open" : "half-open";
}

static void open_now(struct dray__breaker *b, int64_t now_ms, int after_probe) {
  if (after_probe) {
    b->current_open_ms *= 2;
    if (b->current_open_ms > b->policy.open_max_ms) b->current_open_ms = b->policy.open_max_ms;
  }
  b->state = DRAY_BREAKER_OPEN;
  b->open_until_ms = now_ms + b->current_open_ms;
  b->probes_started = b->probes_succeeded = 0;
  b->opened_count++;
}

int dray__breaker_allow(struct dray__breaker *b, int64_t now_ms, int64_t *wait_ms) {
  int allowed = 1;
  pthread_mutex_lock(&b->lock);
  if (b->state == DRAY_BREAKER_OPEN) {
    if (now_ms >= b->open_until_ms) {
      b->state = DRAY_BREAKER_HALF_OPEN;
      b->probes_started = b->probes_succeeded = 0;
    } else {
      allowed = 0;
      if (wait_ms) *wait_ms = b->open_until_ms - now_ms;
    }
  }
  if (allowed && b->state == DRAY_BREAKER_HALF_OPEN) {
    if (b->probes_started < b->policy.half_open_probes) {
      b->probes_started++;
    } else {
      allowed = 0; /* the probes are out: wait for their outcome */
      if (wait_ms) *wait_ms = 50;
    }
  }
  pthread_mutex_unlock(&b->lock);
  return allowed;
}

static unsigned popcount64(uint64_t v) { return (unsigned)__builtin_popcountll(v); }

int dray__breaker_record(struct dray__breaker *b, int64_t now_ms, enum dray__outcome outcome) {
  int changed = -1;
  if (outcome == DRAY_OUTCOME_NEUTRAL) return -1;
  pthread_mutex_lock(&b->lock);
  int failed = outcome == DRAY_OUTCOME_FAILURE;
  if (b->state == DRAY_BREAKER_HALF_OPEN) {
    if (failed) {
      open_now(b, now_ms, 1);
      changed = DRAY_BREAKER_OPEN;
    } else if (++b->probes_succeeded >= b->policy.half_open_probes) {
      b->state = DRAY_BREAKER_CLOSED;
      b->consecutive = 0;
      b->window_bits = 0;
      b->window_count = 0;
      b->current_open_ms = b->policy.open_ms;
      changed = DRAY_BREAKER_CLOSED;
    }
  } else if (b->state == DRAY_BREAKER_CLOSED) {
    uint64_t mask = b->policy.window >= 64 ? ~0ull : ((1ull << b->policy.window) - 1);
    b->window_bits = ((b->window_bits << 1) | (failed ? 1u : 0u)) & mask;
    if (b->window_count < b->policy.window) b->window_count++;
    b->consecutive = failed ? b->consecutive + 1 : 0;
    unsigned failures = popcount64(b->window_bits);
    if (failed && (b->consecutive >= b->policy.consecutive_failures ||
                   (b->window_count >= b->policy.window_min &&
                    failures * 100 >= b->policy.failure_ratio_pct * b->window_count))) {
      open_now(b, now_ms, 0);
      changed = DRAY_BREAKER_OPEN;
    }
  }
  /* outcomes of calls started before the breaker opened change nothing */
  pthread_mutex_unlock(&b->lock);
  return changed;
}

enum dray__breaker_state dray__breaker_state(struct dray__breaker *b) {
  pthread_mutex_lock(&b->lock);
  enum dray__breaker_state s = b->state;
  pthread_mutex_unlock(&b->lock);
  return s;
}
