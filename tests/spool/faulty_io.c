/* Fault-injecting spool I/O for tests: see faulty_io.h. */
#include "faulty_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIO(ctx) ((struct faulty_io *)(ctx))

static struct faulty_image *image_for(struct faulty_io *f, ino_t ino) {
  for (size_t i = 0; i < f->n_images; i++)
    if (f->images[i].ino == ino)
      return &f->images[i];
  if (f->n_images == f->cap_images) {
    f->cap_images = f->cap_images ? f->cap_images * 2 : 16;
    f->images = realloc(f->images, f->cap_images * sizeof *f->images);
  }
  struct faulty_image *im = &f->images[f->n_images++];
  memset(im, 0, sizeof *im);
  im->ino = ino;
  return im;
}

/* Captures the current content of fd as its durable image. f->mu held. */
static void capture(struct faulty_io *f, int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return;
  struct faulty_image *im = image_for(f, st.st_ino);
  free(im->data);
  im->data = malloc((size_t)st.st_size + 1);
  im->size = (size_t)st.st_size;
  size_t got = 0;
  while (got < im->size) {
    ssize_t r = pread(fd, im->data + got, im->size - got, (off_t)got);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  im->size = got;
  im->synced = 1;
  free(im->last);
  im->last = NULL;
  im->last_len = 0;
}

static void snapshot_names(struct faulty_io *f) {
  free(f->names);
  f->names = NULL;
  f->n_names = 0;
  size_t cap = 0;
  DIR *d = opendir(f->dir);
  if (!d)
    return;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (f->n_names == cap) {
      cap = cap ? cap * 2 : 16;
      f->names = realloc(f->names, cap * sizeof *f->names);
    }
    snprintf(f->names[f->n_names].name, sizeof f->names[0].name, "%s", e->d_name);
    f->names[f->n_names].ino = e->d_ino;
    f->n_names++;
  }
  closedir(d);
}

static int f_open(void *ctx, const char *path, int flags, int mode) {
  struct faulty_io *f = FIO(ctx);
  pthread_mutex_lock(&f->mu);
  int fd = f->cut ? -EIO : open(path, flags | O_CLOEXEC, mode);
  if (fd < 0 && !f->cut)
    fd = -errno;
  if (fd >= 0 && (flags & O_CREAT)) {
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size == 0) {
      /* A fresh file (or a reused inode number): nothing of it is durable yet. */
      struct faulty_image *im = image_for(f, st.st_ino);
      free(im->data);
      im->data = NULL;
      im->size = 0;
      im->synced = 0;
    }
  }
  pthread_mutex_unlock(&f->mu);
  return fd;
}

static ssize_t f_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off) {
  struct faulty_io *f = FIO(ctx);
  pthread_mutex_lock(&f->mu);
  ssize_t r;
  if (f->cut) {
    r = -EIO;
  } else if (f->pwrite_errno && f->pwrite_fail_after >= 0 && f->n_pwrite >= f->pwrite_fail_after) {
    r = -f->pwrite_errno;
  } else {
    size_t want = n;
    if (f->short_write_max && want > f->short_write_max) {
      want = f->short_write_max;
      f->n_short++;
    }
    r = pwrite(fd, buf, want, off);
    if (r < 0) {
      r = -errno;
    } else {
      f->n_pwrite++;
      struct stat st;
      if (fstat(fd, &st) == 0) {
        struct faulty_image *im = image_for(f, st.st_ino);
        free(im->last);
        im->last = malloc((size_t)r + 1);
        memcpy(im->last, buf, (size_t)r);
        im->last_len = (size_t)r;
        im->last_off = off;
      }
    }
  }
  pthread_mutex_unlock(&f->mu);
  return r;
}

static ssize_t f_pread(void *ctx, int fd, void *buf, size_t n, off_t off) {
  struct faulty_io *f = FIO(ctx);
  if (__atomic_load_n(&f->cut, __ATOMIC_SEQ_CST))
    return -EIO;
  ssize_t r = pread(fd, buf, n, off);
  return r < 0 ? -errno : r;
}

static int do_sync(struct faulty_io *f, int fd, int data_only) {
  pthread_mutex_lock(&f->mu);
  int r = 0;
  if (f->cut) {
    r = -EIO;
  } else {
    if (f->sync_failed)
      f->n_syncs_after_failure++;
    if (f->fdatasync_errno && f->fdatasync_fail_after >= 0 &&
        f->n_fdatasync >= f->fdatasync_fail_after) {
      r = -f->fdatasync_errno;
      f->sync_failed = 1;
    } else {
      r = (data_only ? fdatasync(fd) : fsync(fd)) < 0 ? -errno : 0;
      if (r == 0)
        capture(f, fd);
      f->n_fdatasync++;
    }
  }
  pthread_mutex_unlock(&f->mu);
  return r;
}

static int f_fdatasync(void *ctx, int fd) {
  return do_sync(FIO(ctx), fd, 1);
}
static int f_fsync(void *ctx, int fd) {
  return do_sync(FIO(ctx), fd, 0);
}

static int f_ftruncate(void *ctx, int fd, off_t len) {
  struct faulty_io *f = FIO(ctx);
  if (__atomic_load_n(&f->cut, __ATOMIC_SEQ_CST))
    return -EIO;
  return ftruncate(fd, len) < 0 ? -errno : 0;
}

static int f_fallocate(void *ctx, int fd, off_t off, off_t len) {
  struct faulty_io *f = FIO(ctx);
  pthread_mutex_lock(&f->mu);
  int r = 0;
  if (f->cut)
    r = -EIO;
  else if (f->fallocate_errno && f->fallocate_fail_after >= 0 &&
           f->n_fallocate >= f->fallocate_fail_after)
    r = -f->fallocate_errno;
  else {
    r = posix_fallocate(fd, off, len);
    r = r == EOPNOTSUPP ? 0 : -r;
    f->n_fallocate++;
  }
  pthread_mutex_unlock(&f->mu);
  return r;
}

static int f_close(void *ctx, int fd) {
  (void)ctx;
  return close(fd) < 0 ? -errno : 0;
}

static int f_rename(void *ctx, const char *from, const char *to) {
  struct faulty_io *f = FIO(ctx);
  if (__atomic_load_n(&f->cut, __ATOMIC_SEQ_CST))
    return -EIO;
  return rename(from, to) < 0 ? -errno : 0;
}

static int f_unlink(void *ctx, const char *path) {
  struct faulty_io *f = FIO(ctx);
  if (__atomic_load_n(&f->cut, __ATOMIC_SEQ_CST))
    return -EIO;
  return unlink(path) < 0 ? -errno : 0;
}

static int f_fsync_dir(void *ctx, const char *dir) {
  struct faulty_io *f = FIO(ctx);
  pthread_mutex_lock(&f->mu);
  int r = 0;
  if (f->cut) {
    r = -EIO;
  } else {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      r = -errno;
    } else {
      r = fsync(fd) < 0 ? -errno : 0;
      close(fd);
    }
    if (r == 0) {
      snapshot_names(f);
      f->n_fsync_dir++;
    }
  }
  pthread_mutex_unlock(&f->mu);
  return r;
}

void faulty_io_init(struct faulty_io *f, const char *dir) {
  memset(f, 0, sizeof *f);
  pthread_mutex_init(&f->mu, NULL);
  snprintf(f->dir, sizeof f->dir, "%s", dir);
  mkdir(dir, 0755);
  f->pwrite_fail_after = f->fdatasync_fail_after = f->fallocate_fail_after = -1;
  f->io = (struct dray__io){.ctx = f, .open = f_open, .pwrite = f_pwrite, .pread = f_pread,
                            .fdatasync = f_fdatasync, .fsync = f_fsync, .ftruncate = f_ftruncate,
                            .fallocate = f_fallocate, .close = f_close, .rename = f_rename,
                            .unlink = f_unlink, .fsync_dir = f_fsync_dir};
  /* What is there now counts as durable. */
  snapshot_names(f);
  for (size_t i = 0; i < f->n_names; i++) {
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", dir, f->names[i].name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      capture(f, fd);
      close(fd);
    }
  }
}

void faulty_io_free(struct faulty_io *f) {
  for (size_t i = 0; i < f->n_images; i++) {
    free(f->images[i].data);
    free(f->images[i].last);
  }
  free(f->images);
  free(f->names);
  pthread_mutex_destroy(&f->mu);
}

void faulty_io_power_cut(struct faulty_io *f) {
  pthread_mutex_lock(&f->mu);
  __atomic_store_n(&f->cut, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&f->mu);
}

void faulty_io_restore(struct faulty_io *f, unsigned tear_seed) {
  pthread_mutex_lock(&f->mu);
  /* Remove everything, then recreate the dir-synced names with their durable images. */
  DIR *d = opendir(f->dir);
  if (d) {
    for (struct dirent *e; (e = readdir(d));) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
        continue;
      char p[1400];
      snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  unsigned seed = tear_seed;
  for (size_t i = 0; i < f->n_names; i++) {
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", f->dir, f->names[i].name);
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      continue;
    struct faulty_image *im = NULL;
    for (size_t k = 0; k < f->n_images; k++)
      if (f->images[k].ino == f->names[i].ino)
        im = &f->images[k];
    if (im && im->synced && im->size)
      (void)!pwrite(fd, im->data, im->size, 0);
    if (im && tear_seed && im->last && im->last_len) {
      size_t keep = (size_t)(rand_r(&seed) % (unsigned)(im->last_len + 1));
      if (keep)
        (void)!pwrite(fd, im->last, keep, im->last_off);
    }
    close(fd);
  }
  /* The new files get new inode numbers: start over with the restored state as durable. */
  for (size_t i = 0; i < f->n_images; i++) {
    free(f->images[i].data);
    free(f->images[i].last);
  }
  f->n_images = 0;
  f->cut = 0;
  f->sync_failed = 0;
  pthread_mutex_unlock(&f->mu);
  snapshot_names(f);
  pthread_mutex_lock(&f->mu);
  for (size_t i = 0; i < f->n_names; i++) {
    char p[1400];
    snprintf(p, sizeof p, "%s/%s", f->dir, f->names[i].name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      capture(f, fd);
      close(fd);
    }
  }
  pthread_mutex_unlock(&f->mu);
}

int faulty_io_durable_contains(struct faulty_io *f, const void *bytes, size_t n) {
  pthread_mutex_lock(&f->mu);
  int found = 0;
  for (size_t i = 0; i < f->n_images && !found; i++)
    if (f->images[i].synced && f->images[i].data)
      found = memmem(f->images[i].data, f->images[i].size, bytes, n) != NULL;
  pthread_mutex_unlock(&f->mu);
  return found;
}
