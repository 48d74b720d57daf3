/* log.c - the runtime's log. One write(2) per line so lines from several
 * threads never interleave. */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "msg_internal.h"

static atomic_int log_level = DRAY_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void dray__log_set_level(int level) { atomic_store(&log_level, level); }
int dray__log_level(void) { return atomic_load(&log_level); }

int dray__log_parse_level(const char *name) {
  for (int i = 0; name && i < 4; i++)
    if (strcasecmp(name, level_names[i]) == 0) return i;
  return -1;
}

void dray__vlog(int level, const char *who, const char *fmt, va_list ap) {
  if (level > atomic_load(&log_level)) return;
  char line[4096], when[40];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  dray__rfc3339((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, when,
                sizeof when);
  int n = snprintf(line, sizeof line, "%s %-5s [%s] ", when,
                   level_names[level < 0 ? 0 : level > 3 ? 3 : level],
                   who ? who : "dray");
  if (n < 0) return;
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  if (m < 0) return;
  size_t len = (size_t)n + (size_t)m;
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  ssize_t rc = write(STDERR_FILENO, line, len);
  (void)rc;
}

void dray__log(int level, const char *who, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  dray__vlog(level, who, fmt, ap);
  va_end(ap);
}
