/* x12_file.h - the file transport: atomic pick-up from an inbound folder
 * and atomic writes to an outbound folder.
 *
 * Pick-up: the oldest-named regular file in inbound_dir (names starting
 * with '.' are skipped: writers use them for partial files) is claimed by
 * rename(2) into inbound_dir/processing/, so two pollers never take the same
 * file; afterwards it is moved to done/ or to failed/ beside a
 * "<name>.error" file holding the reason. Writes go to a temporary file in
 * the target folder, are fsync'ed, then renamed into place (and the folder
 * fsync'ed), so a reader never sees a partial document.
 */
#ifndef X12_FILE_H
#define X12_FILE_H

#include <stddef.h>

/* Creates dir and its processing/, done/ and failed/ subfolders. Returns 0
 * or -1 with errno set. */
int x12_file_prepare_inbound(const char *dir);
/* Creates dir (one level). */
int x12_file_prepare_dir(const char *dir);

/* Claims the next file: on 1, *path is the claimed file under processing/
 * and *name its base name (caller frees both). 0 when none, -1 on error. */
int x12_file_claim(const char *dir, char **path, char **name);

/* Reads a whole file (caller frees *data). Returns 0 or -1 (errno). */
int x12_file_read(const char *path, char **data, size_t *len);

/* Moves a claimed file to done/ (reason NULL) or to failed/ with a
 * "<name>.error" file containing reason. Returns 0 or -1. */
int x12_file_finish(const char *dir, const char *claimed_path,
                    const char *name, const char *reason);

/* Writes data to dir/name atomically (temp file, fsync, rename). Returns 0
 * or -1 with errno set. */
int x12_file_write_atomic(const char *dir, const char *name, const void *data,
                          size_t len);

#endif
