/* fault_io.h - in builds with -Dfault_points=true, the environment can
 * make the journal's I/O fail, so the reliability tests can watch a real
 * `dray run` meet a failing disk:
 *   DRAY_FAULT_IO=fdatasync_eio:N   the N-th fdatasync and every later one fail with EIO
 *   DRAY_FAULT_IO=pwrite_enospc:N   the N-th write and later ones fail with ENOSPC
 * In other builds, or without the variable, the plain POSIX seam. */
#ifndef DRAY_CORE_FAULT_IO_H
#define DRAY_CORE_FAULT_IO_H

#include "io.h"

const struct dray__io *dray__io_for_journal(void);

#endif
