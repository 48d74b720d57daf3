/* ulid.c - ULID message ids and RFC 3339 timestamps.
 *
 * A ULID is 48 bits of Unix milliseconds and 80 random bits, written as 26
 * Crockford base32 characters; sorting ids sorts by creation time. Within
 * one millisecond the random part is incremented so ids stay monotonic in
 * this process (the ULID spec's monotonic mode). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "msg_internal.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static pthread_mutex_t ulid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static uint8_t last_rand[10];

static void fill_random(uint8_t *out, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = getrandom(out + got, len - got, 0);
    if (n <= 0) {
      /* getrandom only fails before the pool is initialized or on EINTR;
       * fall back to the clock so ids stay unique in this process. */
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      for (; got < len; got++) out[got] ^= (uint8_t)(ts.tv_nsec >> (got % 8));
      return;
    }
    got += (size_t)n;
  }
}

void dray__ulid_new(char out[27]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  uint8_t bytes[16];

  pthread_mutex_lock(&ulid_lock);
  if (ms <= last_ms) {
    ms = last_ms; /* clock stepped back or same ms: stay monotonic */
    for (int i = 9; i >= 0; i--)
      if (++last_rand[i] != 0) break;
  } else {
    last_ms = ms;
    fill_random(last_rand, sizeof last_rand);
    last_rand[0] &= 0x7f; /* room to increment within the millisecond */
  }
  for (int i = 0; i < 6; i++) bytes[i] = (uint8_t)(ms >> (40 - 8 * i));
  memcpy(bytes + 6, last_rand, 10);
  pthread_mutex_unlock(&ulid_lock);

  /* 128 bits → 26 characters of 5 bits, the first carrying 3 bits. */
  unsigned __int128 v = 0;
  for (int i = 0; i < 16; i++) v = (v << 8) | bytes[i];
  for (int i = 25; i >= 0; i--) {
    out[i] = crockford[(unsigned)(v & 31u)];
    v >>= 5;
  }
  out[26] = '\0';
}

/* Formats by hand from a per-thread copy of the current second: gmtime
 * and snprintf once a second instead of for every message. */
void dray__rfc3339(int64_t realtime_ns, char *out, size_t size) {
  static __thread time_t cached_sec = (time_t)-1;
  static __thread char cached[24]; /* "YYYY-MM-DDTHH:MM:SS" */
  time_t secs = (time_t)(realtime_ns / 1000000000);
  int ms = (int)((realtime_ns / 1000000) % 1000);
  if (size < 25 || realtime_ns < 0) {
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms < 0 ? 0 : ms);
    return;
  }
  if (secs != cached_sec) {
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_sec = secs;
  }
  memcpy(out, cached, 19);
  out[19] = '.';
  out[20] = (char)('0' + ms / 100);
  out[21] = (char)('0' + ms / 10 % 10);
  out[22] = (char)('0' + ms % 10);
  out[23] = 'Z';
  out[24] = '\0';
}
