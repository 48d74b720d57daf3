/* x12_file.h - the file transport: atomic pick-up from an inbound folder
 * and atomic writes to an outbound folder.
 *
 * Pick-up: the oldest-named regular file in inbound_dir (names starting
 * with '.' are skipped: writers use them for partial files) is claimed by
 * rename(2) into inbound_dir/processing/, so two pollers never take the same
 * file; afterwards it is moved to done/ or to failed/ beside a
 * "<name>.error" file holding the reason. Preparing folders, finishing a
 * file and atomic writes are the SDK's (dray-sdk/files.h); claiming and
 * reading are X12's own here.
 */
#ifndef X12_FILE_H
#define X12_FILE_H

#include <stddef.h>

/* Claims the next file: on 1, *path is the claimed file under processing/
 * and *name its base name (caller frees both). 0 when none, -1 on error. */
int x12_file_claim(const char *dir, char **path, char **name);

/* Reads a whole file (caller frees *data). Returns 0 or -1 (errno). */
int x12_file_read(const char *path, char **data, size_t *len);

#endif
