/* Named crash points for reliability tests.
 *
 * DRAY_FAULT_POINT("spool.after_write") marks a durable-state transition. In builds configured with
 * -Dfault_points=true (which defines DRAY_FAULT_POINTS) the process calls _exit(137) there when the
 * environment variable DRAY_FAULT names that point: "spool.after_write" crashes on the first hit,
 * "spool.after_write:3" on the third. In every other build the macro compiles to nothing.
 * _exit skips atexit handlers and stdio flushing, so the on-disk state is what a kill -9 leaves. */
#ifndef DRAY_CORE_FAULT_H
#define DRAY_CORE_FAULT_H

#ifdef DRAY_FAULT_POINTS
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each translation unit has its own hit counter; a point name belongs to one file. */
static inline void dray__fault_point(const char *name) {
  static unsigned long hits;
  const char *want = getenv("DRAY_FAULT");
  if (!want)
    return;
  size_t n = strlen(name);
  if (strncmp(want, name, n) != 0 || (want[n] != '\0' && want[n] != ':'))
    return;
  unsigned long nth = want[n] == ':' ? strtoul(want + n + 1, NULL, 10) : 1;
  if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) == (nth ? nth : 1))
    _exit(137);
}
#define DRAY_FAULT_POINT(name) dray__fault_point(name)
#define DRAY_FAULT_POINTS_ENABLED 1
#else
#define DRAY_FAULT_POINT(name) ((void)0)
#define DRAY_FAULT_POINTS_ENABLED 0
#endif

#endif
