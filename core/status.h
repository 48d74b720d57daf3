/* status.h - the running site's status, written by `dray run` to
 * DATA_DIR/status.json about once a second (temp file + rename, so a
 * reader never sees half a file) and read by `dray status`. */
#ifndef DRAY_CORE_STATUS_H
#define DRAY_CORE_STATUS_H

struct dray__runtime;

/* Writes the status file; 0 or -1. Called from the runtime's main loop. */
int dray__status_write(struct dray__runtime *rt, const char *path);

#endif
