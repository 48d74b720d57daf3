/* fault_io.c - the journal's I/O seam, with failures from the
 * environment in fault-point builds (see fault_io.h). */
#include "fault_io.h"

#include "fault.h"

#if DRAY_FAULT_POINTS_ENABLED
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dray__io faulty;
static const struct dray__io *real;
static atomic_long syncs, writes;
static long fail_sync_at, fail_write_at;

static int faulty_fdatasync(void *ctx, int fd) {
  if (fail_sync_at && atomic_fetch_add(&syncs, 1) + 1 >= fail_sync_at) return -EIO;
  return real->fdatasync(ctx, fd);
}

static ssize_t faulty_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off) {
  if (fail_write_at && atomic_fetch_add(&writes, 1) + 1 >= fail_write_at) return -ENOSPC;
  return real->pwrite(ctx, fd, buf, n, off);
}

const struct dray__io *dray__io_for_journal(void) {
  const char *spec = getenv("DRAY_FAULT_IO");
  real = dray__io_posix();
  if (!spec) return real;
  faulty = *real;
  if (sscanf(spec, "fdatasync_eio:%ld", &fail_sync_at) == 1) faulty.fdatasync = faulty_fdatasync;
  else if (sscanf(spec, "pwrite_enospc:%ld", &fail_write_at) == 1) faulty.pwrite = faulty_pwrite;
  else return real;
  return &faulty;
}
#else
const struct dray__io *dray__io_for_journal(void) { return dray__io_posix(); }
#endif
