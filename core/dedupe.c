/* dedupe.c - ingress de-duplication (see dedupe.h).
 *
 * An open-addressing table of hashes (linear probing, tombstone-free
 * deletion by re-insertion) plus a FIFO of (hash, time) in arrival order
 * for expiry. 64-bit FNV-1a of "source\0id": a false positive needs a
 * 64-bit collision inside one window. */
#include "dedupe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  uint64_t hash;
  int64_t at;
};

struct dray__dedupe {
  pthread_mutex_t lock;
  int64_t window_ms;
  size_t capacity;
  uint64_t *table; /* 0 = empty; hashes are forced non-zero */
  size_t slots;    /* power of two, >= 2 * capacity */
  struct entry *fifo;
  size_t head, count;
};

static uint64_t hash_of(const char *source, const char *id) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = source; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h = (h ^ 0xffu) * 1099511628211ull;
  for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return h ? h : 1;
}

struct dray__dedupe *dray__dedupe_new(int64_t window_ms, size_t capacity) {
  struct dray__dedupe *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->window_ms = window_ms;
  d->capacity = capacity ? capacity : 1;
  d->slots = 16;
  while (d->slots < d->capacity * 2) d->slots *= 2;
  d->table = calloc(d->slots, sizeof *d->table);
  d->fifo = calloc(d->capacity, sizeof *d->fifo);
  if (!d->table || !d->fifo) {
    free(d->table);
    free(d->fifo);
    free(d);
    return NULL;
  }
  pthread_mutex_init(&d->lock, NULL);
  return d;
}

void dray__dedupe_destroy(struct dray__dedupe **self_p) {
  if (!self_p || !*self_p) return;
  struct dray__dedupe *d = *self_p;
  *self_p = NULL;
  pthread_mutex_destroy(&d->lock);
  free(d->table);
  free(d->fifo);
  free(d);
}

static size_t find_slot(const struct dray__dedupe *d, uint64_t h) {
  size_t i = (size_t)h & (d->slots - 1);
  while (d->table[i] && d->table[i] != h) i = (i + 1) & (d->slots - 1);
  return i;
}

/* Removes h, then re-inserts the rest of its probe run so lookups of
 * later entries still find them. */
static void remove_hash(struct dray__dedupe *d, uint64_t h) {
  size_t i = find_slot(d, h);
  if (!d->table[i]) return;
  d->table[i] = 0;
  for (size_t j = (i + 1) & (d->slots - 1); d->table[j]; j = (j + 1) & (d->slots - 1)) {
    uint64_t moved = d->table[j];
    d->table[j] = 0;
    d->table[find_slot(d, moved)] = moved;
  }
}

static void evict_oldest(struct dray__dedupe *d) {
  remove_hash(d, d->fifo[d->head].hash);
  d->head = (d->head + 1) % d->capacity;
  d->count--;
}

/* Lock held. */
static void expire(struct dray__dedupe *d, int64_t now_ms) {
  while (d->count && now_ms - d->fifo[d->head].at >= d->window_ms) evict_oldest(d);
}

/* Lock held; h not present. */
static void insert(struct dray__dedupe *d, uint64_t h, int64_t now_ms) {
  if (d->count == d->capacity) evict_oldest(d);
  d->table[find_slot(d, h)] = h;
  d->fifo[(d->head + d->count) % d->capacity] = (struct entry){h, now_ms};
  d->count++;
}

int dray__dedupe_contains(struct dray__dedupe *d, const char *source, const char *id,
                          int64_t now_ms) {
  if (!d || d->window_ms <= 0 || !source || !id) return 0;
  uint64_t h = hash_of(source, id);
  pthread_mutex_lock(&d->lock);
  expire(d, now_ms);
  int seen = d->table[find_slot(d, h)] == h;
  pthread_mutex_unlock(&d->lock);
  return seen;
}

void dray__dedupe_add(struct dray__dedupe *d, const char *source, const char *id,
                      int64_t now_ms) {
  if (!d || d->window_ms <= 0 || !source || !id) return;
  uint64_t h = hash_of(source, id);
  pthread_mutex_lock(&d->lock);
  expire(d, now_ms);
  if (d->table[find_slot(d, h)] != h) insert(d, h, now_ms);
  pthread_mutex_unlock(&d->lock);
}

int dray__dedupe_seen(struct dray__dedupe *d, const char *source, const char *id,
                      int64_t now_ms) {
  if (!d || d->window_ms <= 0 || !source || !id) return 0;
  uint64_t h = hash_of(source, id);
  pthread_mutex_lock(&d->lock);
  expire(d, now_ms);
  int seen = d->table[find_slot(d, h)] == h;
  if (!seen) insert(d, h, now_ms);
  pthread_mutex_unlock(&d->lock);
  return seen;
}
