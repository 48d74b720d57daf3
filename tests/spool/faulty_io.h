/* A fault-injecting implementation of the spool I/O seam (core/io.h) for tests.
 *
 * It passes calls through to the real file system and can:
 *  - fail pwrite / fdatasync / fallocate with a chosen errno after N successful calls;
 *  - make every pwrite short (at most short_write_max bytes);
 *  - model power loss: it keeps, per inode, the file content as of its last fdatasync/fsync
 *    ("durable image"), the directory listing as of the last fsync_dir, and the last unsynced
 *    pwrite. faulty_io_power_cut() makes every later call fail with EIO (the machine is "off");
 *    faulty_io_restore() then rewrites the directory to what a power loss would leave: only
 *    dir-synced names, each with its durable image, optionally plus a torn prefix of its last
 *    unsynced write. */
#ifndef DRAY_TESTS_FAULTY_IO_H
#define DRAY_TESTS_FAULTY_IO_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io.h"

struct faulty_image {
  ino_t ino;
  unsigned char *data; /* durable content (NULL + size 0: never synced) */
  size_t size;
  int synced;
  unsigned char *last;  /* last unsynced write */
  size_t last_len;
  off_t last_off;
};

struct faulty_name {
  char name[256];
  ino_t ino;
};

struct faulty_io {
  struct dray__io io; /* hand &fio->io to the spool */
  pthread_mutex_t mu;
  char dir[1024];
  /* knobs (set before use, or under mu) */
  int pwrite_errno;        /* fail pwrite with this errno ... */
  long pwrite_fail_after;  /* ... after this many successful pwrites (-1: never) */
  int fdatasync_errno;
  long fdatasync_fail_after;
  int fallocate_errno;
  long fallocate_fail_after;
  size_t short_write_max;  /* 0: full writes */
  /* counters */
  long n_pwrite, n_short, n_fdatasync, n_fsync_dir, n_fallocate;
  long n_syncs_after_failure; /* fdatasync calls made after one failed: must stay 0 */
  int sync_failed;
  /* power-loss model */
  int cut;
  struct faulty_image *images;
  size_t n_images, cap_images;
  struct faulty_name *names;
  size_t n_names;
};

/* Initializes fio over directory dir (created if missing); the current directory content is
 * taken as durable. All knobs off. */
void faulty_io_init(struct faulty_io *fio, const char *dir);
void faulty_io_free(struct faulty_io *fio);
/* From now on every call (except close) fails with -EIO. */
void faulty_io_power_cut(struct faulty_io *fio);
/* Rewrites fio->dir to its post-power-loss state. tear_seed = 0: unsynced writes vanish; else the
 * last unsynced write of each file keeps a prefix of pseudo-random length (seeded). */
void faulty_io_restore(struct faulty_io *fio, unsigned tear_seed);
/* Does the durable image of any file contain exactly these bytes? (Used to check that an
 * acknowledged record had been synced when it was acknowledged.) */
int faulty_io_durable_contains(struct faulty_io *fio, const void *bytes, size_t n);

#endif
