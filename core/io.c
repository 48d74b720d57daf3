/* POSIX implementation of the spool I/O seam (core/io.h). Each wrapper turns errno into a negative
 * return so the spool never reads errno after another call could have clobbered it. */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int posix_open(void *ctx, const char *path, int flags, int mode) {
  (void)ctx;
  int fd;
  do {
    fd = open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}

static ssize_t posix_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off) {
  (void)ctx;
  ssize_t r;
  do {
    r = pwrite(fd, buf, n, off);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

static ssize_t posix_pread(void *ctx, int fd, void *buf, size_t n, off_t off) {
  (void)ctx;
  ssize_t r;
  do {
    r = pread(fd, buf, n, off);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

/* fdatasync/fsync are NOT retried on EINTR-like failures other than EINTR itself: after a failed
 * sync the kernel may have dropped the dirty pages (see the spool's failure policy). */
static int posix_fdatasync(void *ctx, int fd) {
  (void)ctx;
  int r;
  do {
    r = fdatasync(fd);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

static int posix_fsync(void *ctx, int fd) {
  (void)ctx;
  int r;
  do {
    r = fsync(fd);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

static int posix_ftruncate(void *ctx, int fd, off_t len) {
  (void)ctx;
  int r;
  do {
    r = ftruncate(fd, len);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

static int io_fallocate(void *ctx, int fd, off_t off, off_t len) {
  (void)ctx;
  /* posix_fallocate returns the error instead of setting errno. File systems without support
   * (tmpfs on old kernels, some FUSE) make preallocation a no-op rather than an error. */
  int r = posix_fallocate(fd, off, len);
  if (r == EOPNOTSUPP || r == ENOSYS || r == EINVAL)
    return 0;
  return -r;
}

static int posix_close(void *ctx, int fd) {
  (void)ctx;
  /* Linux closes the fd even when close() reports EINTR: never retry. */
  return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

static int posix_rename(void *ctx, const char *from, const char *to) {
  (void)ctx;
  return rename(from, to) < 0 ? -errno : 0;
}

static int posix_unlink(void *ctx, const char *path) {
  (void)ctx;
  return unlink(path) < 0 ? -errno : 0;
}

static int posix_fsync_dir(void *ctx, const char *dir) {
  (void)ctx;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = fsync(fd) < 0 ? -errno : 0;
  close(fd);
  return r;
}

static const struct dray__io posix_io = {
  .ctx = NULL,
  .open = posix_open,
  .pwrite = posix_pwrite,
  .pread = posix_pread,
  .fdatasync = posix_fdatasync,
  .fsync = posix_fsync,
  .ftruncate = posix_ftruncate,
  .fallocate = io_fallocate,
  .close = posix_close,
  .rename = posix_rename,
  .unlink = posix_unlink,
  .fsync_dir = posix_fsync_dir,
};

const struct dray__io *dray__io_posix(void) {
  return &posix_io;
}
