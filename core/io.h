/* The I/O seam of the durable spool.
 *
 * Every system call the spool makes on its files goes through one of these function pointers, so
 * tests can swap in an implementation that injects faults (ENOSPC, EIO on fdatasync, short writes)
 * or models power loss (drop what was not synced). Core-internal: not part of the plugin ABI. */
#ifndef DRAY_CORE_IO_H
#define DRAY_CORE_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Every member returns 0 (or a count / fd) on success and a negative errno on failure; none of
 * them sets errno for the caller. pwrite may write fewer bytes than asked (the caller retries the
 * remainder). fallocate may be a no-op (returning 0) on file systems that lack it. */
struct dray__io {
  void *ctx;
  int (*open)(void *ctx, const char *path, int flags, int mode);
  ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, off_t off);
  ssize_t (*pread)(void *ctx, int fd, void *buf, size_t n, off_t off);
  int (*fdatasync)(void *ctx, int fd);
  int (*fsync)(void *ctx, int fd);
  int (*ftruncate)(void *ctx, int fd, off_t len);
  int (*fallocate)(void *ctx, int fd, off_t off, off_t len);
  int (*close)(void *ctx, int fd);
  int (*rename)(void *ctx, const char *from, const char *to);
  int (*unlink)(void *ctx, const char *path);
  int (*fsync_dir)(void *ctx, const char *dir);
};

/* The real thing: plain POSIX calls, EINTR retried. Static storage, never freed. Thread-safe. */
const struct dray__io *dray__io_posix(void);

#endif
