/* metrics.c - in-memory metrics (see metrics.h). A short linear table
 * under one mutex: metrics are updated per message at most, and the
 * instance count of a site is small. */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum kind { COUNTER, GAUGE, HISTOGRAM };

struct metric {
  char name[128];
  enum kind kind;
  _Atomic uint64_t count;
  double value, sum, min, max;
  struct metric *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *head;

static struct metric *find(const char *scope, const char *name, enum kind k) {
  char full[128];
  snprintf(full, sizeof full, "%s.%s", scope ? scope : "core", name);
  for (struct metric *m = head; m; m = m->next)
    if (m->kind == k && strcmp(m->name, full) == 0) return m;
  struct metric *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  snprintf(m->name, sizeof m->name, "%s", full);
  m->kind = k;
  m->next = head;
  head = m;
  return m;
}

void dray__metric_add(const char *scope, const char *name, uint64_t delta) {
  pthread_mutex_lock(&lock);
  struct metric *m = find(scope, name, COUNTER);
  if (m) m->count += delta;
  pthread_mutex_unlock(&lock);
}

void dray__metric_set(const char *scope, const char *name, double value) {
  pthread_mutex_lock(&lock);
  struct metric *m = find(scope, name, GAUGE);
  if (m) m->value = value;
  pthread_mutex_unlock(&lock);
}

void dray__metric_observe(const char *scope, const char *name, double value) {
  pthread_mutex_lock(&lock);
  struct metric *m = find(scope, name, HISTOGRAM);
  if (m) {
    if (!m->count || value < m->min) m->min = value;
    if (!m->count || value > m->max) m->max = value;
    m->count++;
    m->sum += value;
  }
  pthread_mutex_unlock(&lock);
}

struct dray__metric_cell *dray__metric_cell(const char *scope, const char *name) {
  pthread_mutex_lock(&lock);
  struct metric *m = find(scope, name, COUNTER);
  pthread_mutex_unlock(&lock);
  return (struct dray__metric_cell *)m;
}

void dray__metric_inc(struct dray__metric_cell *cell, uint64_t delta) {
  if (cell) atomic_fetch_add_explicit(&((struct metric *)cell)->count, delta, memory_order_relaxed);
}

uint64_t dray__metric_counter(const char *scope, const char *name) {
  char full[128];
  uint64_t v = 0;
  snprintf(full, sizeof full, "%s.%s", scope ? scope : "core", name);
  pthread_mutex_lock(&lock);
  for (struct metric *m = head; m; m = m->next)
    if (m->kind == COUNTER && strcmp(m->name, full) == 0) v = m->count;
  pthread_mutex_unlock(&lock);
  return v;
}

void dray__metrics_dump(FILE *out) {
  pthread_mutex_lock(&lock);
  for (struct metric *m = head; m; m = m->next) {
    if (m->kind == COUNTER)
      fprintf(out, "%s %llu\n", m->name, (unsigned long long)m->count);
    else if (m->kind == GAUGE)
      fprintf(out, "%s %g\n", m->name, m->value);
    else
      fprintf(out, "%s count=%llu sum=%g min=%g max=%g\n", m->name,
              (unsigned long long)m->count, m->sum, m->min, m->max);
  }
  pthread_mutex_unlock(&lock);
}

void dray__metrics_reset(void) {
  pthread_mutex_lock(&lock);
  while (head) {
    struct metric *m = head;
    head = m->next;
    free(m);
  }
  pthread_mutex_unlock(&lock);
}

void dray__metrics_each(const char *scope,
                        void (*fn)(void *ctx, const char *name, double value),
                        void *ctx) {
  size_t n = strlen(scope);
  pthread_mutex_lock(&lock);
  for (struct metric *m = head; m; m = m->next) {
    if (strncmp(m->name, scope, n) != 0 || m->name[n] != '.') continue;
    if (m->kind == COUNTER) fn(ctx, m->name + n + 1, (double)m->count);
    else if (m->kind == GAUGE) fn(ctx, m->name + n + 1, m->value);
  }
  pthread_mutex_unlock(&lock);
}
