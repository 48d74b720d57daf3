/* dray-sdk/files.h - folder ports: what every plugin that takes documents
 * from a folder and writes documents into one needs, done one way.
 *
 * Inbound folders follow one convention: a file is claimed by renaming it
 * into DIR/processing/, and finished by moving it to DIR/done/, or to
 * DIR/failed/ beside NAME.error saying why. Outbound files are written
 * through a hidden temporary file, fsync'ed, renamed into place and the
 * folder fsync'ed, so a reader never sees half a file and an acknowledged
 * file survives a crash.
 *
 * Part of libdray-sdk (pkg-config dray-sdk), not of the ABI. Thread-safe;
 * functions return 0, or -1 with errno set. */
#ifndef DRAY_SDK_FILES_H
#define DRAY_SDK_FILES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* mkdir -p (mode 0750 for what it creates). */
int dray_files_mkdirs(const char *dir);
/* fsync of a folder: makes creates, renames and unlinks in it durable. */
int dray_files_fsync_dir(const char *dir);
/* Creates DIR and DIR/processing, DIR/done, DIR/failed. */
int dray_files_prepare_inbound(const char *dir);
/* Writes DIR/NAME atomically; with `sync` it is durable on return. */
int dray_files_write_atomic(const char *dir, const char *name, const void *data,
                            size_t len, int sync);
/* Moves a claimed file (CLAIMED_PATH, named NAME) to DIR/done/, or with a
 * reason to DIR/failed/ beside NAME.error holding the reason, durably. */
int dray_files_finish(const char *dir, const char *claimed_path, const char *name,
                      const char *reason);

#ifdef __cplusplus
}
#endif
#endif
