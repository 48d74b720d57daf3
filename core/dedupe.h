/* dedupe.h - ingress de-duplication on (source, id) within a time window:
 * a source that re-sends the same CloudEvent (a webhook retried by its
 * sender, a file picked up again after a crash) is accepted once.
 * Keeps 64-bit hashes in memory, oldest evicted first (by age, or when
 * `capacity` is reached). Thread-safe. */
#ifndef DRAY_CORE_DEDUPE_H
#define DRAY_CORE_DEDUPE_H

#include <stddef.h>
#include <stdint.h>

struct dray__dedupe;

/* window_ms 0 disables de-duplication (seen() always answers 0). */
struct dray__dedupe *dray__dedupe_new(int64_t window_ms, size_t capacity);
void dray__dedupe_destroy(struct dray__dedupe **self_p);
/* Records (source, id) at now_ms. Returns 1 if it was already seen within
 * the window (a duplicate), else 0. */
int dray__dedupe_seen(struct dray__dedupe *d, const char *source, const char *id,
                      int64_t now_ms);
/* The two halves of seen(), for callers that record only after the event
 * was accepted (an event refused by backpressure comes back). */
int dray__dedupe_contains(struct dray__dedupe *d, const char *source, const char *id,
                          int64_t now_ms);
void dray__dedupe_add(struct dray__dedupe *d, const char *source, const char *id,
                      int64_t now_ms);

#endif
