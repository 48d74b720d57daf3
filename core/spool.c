/* The durable spool (core/spool.h): the one record format used by the ingress journal and the
 * dead-letter spool.
 *
 * On-disk format (docs/journal-format.md has the long version; all integers little-endian):
 *
 *   <dir>/<name>-<first seq, 20 decimal digits>.seg   segment files, append-only
 *   <dir>/<name>.ckpt                                  checkpoint, two 64-byte slots at 0 and 512
 *
 *   record = 32-byte header + payload
 *     0  u32 magic 0x314A5244 (bytes "DRJ1")
 *     4  u16 version (1)   6 u16 flags (0)
 *     8  u32 payload length (<= max_record_bytes, checked before anything is allocated)
 *    12  u32 CRC32C of the payload
 *    16  u64 seq (consecutive inside a segment, the first one is in the file name)
 *    24  u32 reserved (0)
 *    28  u32 CRC32C of header bytes 0..27 (so it covers the length, the seq and the payload CRC)
 *
 *   checkpoint slot (64 bytes; slot = generation & 1)
 *     0 u32 magic 0x314B4344 ("DCK1")  4 u32 version (1)  8 u64 generation  16 u64 low-water mark
 *    24 u64 next seq at write time (informational)  32..59 zero  60 u32 CRC32C of bytes 0..59
 *
 * Write path: the appender at the head of the queue leads a group (up to group_max_records), copies
 * header+payload of every queued record into one buffer, pwrites it at the end of the active
 * segment, fdatasyncs, then acks the whole group. A segment is preallocated (fallocate) when created;
 * rotation syncs the old segment, trims its preallocated tail, creates the next file and fsyncs the
 * directory before a record goes into it, so only the last segment can ever hold unsynced bytes.
 *
 * Recovery: every segment is read front to back and each record is checked (magic, header CRC,
 * length bound, expected seq, payload CRC). The first bad record ends the valid prefix. Zeros after
 * it are preallocated space; anything else is a torn tail in the last segment (truncated) and
 * corruption in a sealed one (the segment is quarantined). Crash points: DRAY_FAULT_POINT("spool.*"),
 * listed in docs/journal-format.md. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "fault.h"

#define REC_MAGIC 0x314A5244u
#define REC_VERSION 1
#define HDR 32u
#define CK_MAGIC 0x314B4344u
#define CK_VERSION 1
#define CK_SLOT 64u
#define CK_SLOT_STRIDE 512u
#define CK_FILE_SIZE 1024u
#define WBUF_MAX (1u << 20)          /* group buffer; bigger records are written in place */
#define CK_INTERVAL_NS 10000000ull   /* lazy checkpoint: at most ~10 ms behind the releases */
#define MEM_FLUSH_BYTES (256u << 10) /* memory class: write the buffer out at this size ... */
#define MEM_FLUSH_NS 1000000ull      /* ... or this long after the first buffered record */

struct segment {
  uint64_t first_seq;
  uint32_t count;      /* durable records */
  uint32_t cap;
  uint32_t *offsets;   /* file offset of each durable record */
  uint64_t *released;  /* bitmap over [first_seq, first_seq + cap) */
  uint32_t released_count;
  uint64_t size;       /* end of the last durable record */
  int fd;
  int refs;            /* the list's reference + readers in scan/get */
  int removed;         /* taken off the list (unlinked or closing) */
  int sealed;          /* no longer active and every record written to it is published: only
                          then may "all released" mean it can be unlinked */
  char *path;
  struct segment *next;
};

struct waiter {
  const void *data;
  uint32_t len;
  int first_of_call;  /* the first (or only) record of one append/append_many call */
  int done;
  int rc;
  uint64_t seq;
  struct segment *seg;
  uint64_t off;
  struct waiter *next;
};

struct dray__spool {
  char *dir, *name, *ck_path;
  uint64_t segment_bytes;
  uint32_t max_record;
  uint32_t group_max;
  uint32_t group_delay_us;
  uint64_t max_disk;
  int durable;
  const struct dray__io *io;
  void (*on_event)(void *ctx, const char *line);
  void *event_ctx;

  pthread_mutex_t mu;
  pthread_cond_t ack_cv;   /* appenders wait here for their group */
  pthread_cond_t maint_cv; /* the maintenance thread waits here */
  struct waiter *q_head, *q_tail;
  uint64_t q_count;
  int writing;             /* someone owns the write path (active segment, write_off, wbuf) */
  int lingering;           /* the leader waits for the rest of its group (linger_cv) */
  uint64_t q_calls;        /* calls whose first record is queued */
  uint64_t last_calls;     /* calls that started in the previous group */
  pthread_cond_t linger_cv;
  struct segment *segs, *active;
  uint64_t next_seq;       /* next seq to assign (write path) */
  uint64_t durable_next;   /* every seq below it is durable */
  uint64_t write_off;      /* end of data written to the active segment (write path) */
  unsigned char *wbuf;
  size_t wbuf_len, wbuf_cap;
  uint64_t disk_bytes, reserved_bytes, live_records;
  uint64_t low_water;
  uint64_t ck_low_water, ck_gen;
  int ck_fd;
  int ck_dirty_since_set;
  struct timespec ck_dirty_since;
  int unlink_wanted, rotate_wanted;
  int buffered;            /* memory class: acked records wait in wbuf (flushed within ~1 ms) */
  struct timespec buffered_since;
  int stop;
  int failed;
  uint64_t quarantined, truncated;
  pthread_t maint;
  int maint_started;
};

/* ---------- little helpers ---------- */

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}
static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static void set_err(char *err, size_t n, const char *fmt, ...) {
  if (!err || !n)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

/* Reports an event line. Must be called without s->mu held (the callback may log, take its locks). */
static void event(dray__spool *s, const char *fmt, ...) {
  char line[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (s->on_event)
    s->on_event(s->event_ctx, line);
  else
    fprintf(stderr, "dray spool %s: %s\n", s->name, line);
}

static void encode_header(unsigned char *h, uint64_t seq, const void *data, uint32_t len) {
  put32(h, REC_MAGIC);
  h[4] = REC_VERSION;
  h[5] = 0;
  h[6] = h[7] = 0;
  put32(h + 8, len);
  put32(h + 12, dray__crc32c(0, data, len));
  put64(h + 16, seq);
  put32(h + 24, 0);
  put32(h + 28, dray__crc32c(0, h, 28));
}

/* Checks a header alone: 0 if sane, with *len and *seq filled; -1 otherwise. */
static int check_header(const unsigned char *h, uint32_t max_record, uint32_t *len, uint64_t *seq) {
  if (get32(h) != REC_MAGIC || get32(h + 28) != dray__crc32c(0, h, 28))
    return -1;
  if (h[4] != REC_VERSION || get32(h + 8) > max_record)
    return -1;
  *len = get32(h + 8);
  *seq = get64(h + 16);
  return 0;
}

static int write_all(dray__spool *s, int fd, const void *buf, size_t n, uint64_t off) {
  const unsigned char *p = buf;
  while (n > 0) {
    ssize_t w = s->io->pwrite(s->io->ctx, fd, p, n, (off_t)off);
    if (w < 0)
      return (int)w;
    if (w == 0)
      return -EIO; /* no progress: treat as an I/O failure rather than spin */
    p += w;
    n -= (size_t)w;
    off += (uint64_t)w;
  }
  return 0;
}

static int read_all(dray__spool *s, int fd, void *buf, size_t n, uint64_t off) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = s->io->pread(s->io->ctx, fd, p, n, (off_t)off);
    if (r < 0)
      return (int)r;
    if (r == 0)
      return -ENODATA;
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return 0;
}

static char *seg_path(const dray__spool *s, uint64_t first_seq) {
  size_t n = strlen(s->dir) + strlen(s->name) + 40;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s/%s-%020" PRIu64 ".seg", s->dir, s->name, first_seq);
  return p;
}

static struct segment *segment_new(dray__spool *s, uint64_t first_seq, int fd) {
  struct segment *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->path = seg_path(s, first_seq);
  if (!g->path) {
    free(g);
    return NULL;
  }
  g->first_seq = first_seq;
  g->fd = fd;
  g->refs = 1;
  return g;
}

/* Frees a segment once no list or reader refers to it. Called with s->mu held or single-threaded. */
static void segment_unref(dray__spool *s, struct segment *g) {
  if (--g->refs > 0)
    return;
  if (g->fd >= 0)
    s->io->close(s->io->ctx, g->fd);
  free(g->offsets);
  free(g->released);
  free(g->path);
  free(g);
}

static int segment_push_offset(struct segment *g, uint64_t off) {
  if (g->count == g->cap) {
    uint32_t ncap = g->cap ? g->cap * 2 : 1024;
    uint32_t *o = realloc(g->offsets, (size_t)ncap * sizeof *o);
    if (!o)
      return -ENOMEM;
    g->offsets = o;
    uint64_t *r = realloc(g->released, (size_t)(ncap / 64 + 1) * sizeof *r);
    if (!r)
      return -ENOMEM;
    memset(r + (g->cap / 64 + (g->cap ? 1 : 0)), 0,
           (size_t)(ncap / 64 + 1 - (g->cap / 64 + (g->cap ? 1 : 0))) * sizeof *r);
    g->released = r;
    g->cap = ncap;
  }
  g->offsets[g->count++] = (uint32_t)off;
  return 0;
}

static int seg_is_released(const struct segment *g, uint64_t seq) {
  uint64_t i = seq - g->first_seq;
  return (g->released[i / 64] >> (i % 64)) & 1;
}

/* The segment holding seq (durable records only), or NULL. s->mu held. */
static struct segment *find_segment(dray__spool *s, uint64_t seq) {
  for (struct segment *g = s->segs; g; g = g->next)
    if (seq >= g->first_seq && seq < g->first_seq + g->count)
      return g;
  return NULL;
}

static int64_t ns_since(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)(now.tv_sec - t->tv_sec) * 1000000000 + (now.tv_nsec - t->tv_nsec);
}

/* ---------- checkpoint ---------- */

static void encode_slot(unsigned char *b, uint64_t gen, uint64_t low_water, uint64_t next_seq) {
  memset(b, 0, CK_SLOT);
  put32(b, CK_MAGIC);
  put32(b + 4, CK_VERSION);
  put64(b + 8, gen);
  put64(b + 16, low_water);
  put64(b + 24, next_seq);
  put32(b + 60, dray__crc32c(0, b, 60));
}

static int decode_slot(const unsigned char *b, uint64_t *gen, uint64_t *low_water) {
  if (get32(b) != CK_MAGIC || get32(b + 4) != CK_VERSION || get32(b + 60) != dray__crc32c(0, b, 60))
    return -1;
  *gen = get64(b + 8);
  *low_water = get64(b + 16);
  return 0;
}

/* Writes the next slot and syncs it. Only one thread at a time (the maintenance thread, or open and
 * close while it is not running). */
static int checkpoint_write(dray__spool *s, uint64_t low_water, uint64_t next_seq) {
  unsigned char b[CK_SLOT];
  uint64_t gen = s->ck_gen + 1;
  encode_slot(b, gen, low_water, next_seq);
  int rc = write_all(s, s->ck_fd, b, CK_SLOT, (gen & 1) * CK_SLOT_STRIDE);
  if (rc < 0)
    return rc;
  DRAY_FAULT_POINT("spool.checkpoint_written");
  if (s->durable) {
    rc = s->io->fdatasync(s->io->ctx, s->ck_fd);
    if (rc < 0)
      return rc;
  }
  DRAY_FAULT_POINT("spool.checkpoint_synced");
  s->ck_gen = gen;
  s->ck_low_water = low_water;
  return 0;
}

/* Creates <name>.ckpt atomically (temp file, sync, rename, dir fsync) with both slots valid. */
static int checkpoint_create(dray__spool *s, uint64_t low_water) {
  size_t n = strlen(s->ck_path) + 8;
  char *tmp = malloc(n);
  if (!tmp)
    return -ENOMEM;
  snprintf(tmp, n, "%s.tmp", s->ck_path);
  unsigned char file[CK_FILE_SIZE];
  memset(file, 0, sizeof file);
  encode_slot(file, 0, low_water, low_water);
  encode_slot(file + CK_SLOT_STRIDE, 1, low_water, low_water);
  int fd = s->io->open(s->io->ctx, tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
  int rc = fd;
  if (fd < 0)
    goto out;
  rc = write_all(s, fd, file, sizeof file, 0);
  if (rc == 0)
    rc = s->io->fsync(s->io->ctx, fd);
  s->io->close(s->io->ctx, fd);
  if (rc < 0)
    goto out;
  rc = s->io->rename(s->io->ctx, tmp, s->ck_path);
  if (rc < 0)
    goto out;
  DRAY_FAULT_POINT("spool.checkpoint_created");
  rc = s->io->fsync_dir(s->io->ctx, s->dir);
  s->ck_gen = 1;
  s->ck_low_water = low_water;
out:
  free(tmp);
  return rc;
}

/* ---------- write path (caller owns s->writing) ---------- */

static int flush_wbuf(dray__spool *s) {
  if (!s->wbuf_len)
    return 0;
  int rc = write_all(s, s->active->fd, s->wbuf, s->wbuf_len, s->write_off - s->wbuf_len);
  s->wbuf_len = 0;
  return rc;
}

/* Makes a new empty active segment starting at s->next_seq. The previous active segment (if any)
 * must be fully synced already. Returns 0, -EAGAIN when the disk is full (nothing changed, the
 * half-made file removed), or another negative errno (fatal). */
static int segment_create(dray__spool *s) {
  uint64_t first = s->next_seq;
  struct segment *g = segment_new(s, first, -1);
  if (!g)
    return -ENOMEM;
  int fd = s->io->open(s->io->ctx, g->path, O_RDWR | O_CREAT | O_EXCL, 0644);
  if (fd == -EEXIST) {
    /* A leftover empty file from a crash before its first record: reuse it. */
    fd = s->io->open(s->io->ctx, g->path, O_RDWR | O_TRUNC, 0644);
  }
  if (fd < 0) {
    segment_unref(s, g);
    return fd == -ENOSPC || fd == -EDQUOT ? -EAGAIN : fd;
  }
  g->fd = fd;
  DRAY_FAULT_POINT("spool.segment_created");
  int rc = s->io->fallocate(s->io->ctx, fd, 0, (off_t)s->segment_bytes);
  if (rc == -ENOSPC || rc == -EDQUOT) {
    /* Out of space before a single record went in: back off instead of failing the spool. */
    s->io->unlink(s->io->ctx, g->path);
    s->io->fsync_dir(s->io->ctx, s->dir);
    segment_unref(s, g);
    return -EAGAIN;
  }
  if (rc == 0)
    rc = s->io->fsync_dir(s->io->ctx, s->dir);
  if (rc < 0) {
    segment_unref(s, g);
    return rc;
  }
  DRAY_FAULT_POINT("spool.segment_dir_synced");
  pthread_mutex_lock(&s->mu);
  struct segment **pp = &s->segs;
  while (*pp)
    pp = &(*pp)->next;
  *pp = g;
  s->active = g;
  pthread_mutex_unlock(&s->mu);
  s->write_off = 0;
  return 0;
}

/* Seals the active segment (everything written is synced, the preallocated tail trimmed) and
 * starts the next one. */
static int rotate(dray__spool *s) {
  int rc = flush_wbuf(s);
  if (rc == 0 && s->durable)
    rc = s->io->fdatasync(s->io->ctx, s->active->fd);
  if (rc < 0)
    return rc;
  DRAY_FAULT_POINT("spool.rotate_synced");
  /* Trimming is tidiness only: zeros after the last record read as preallocated space. */
  rc = s->io->ftruncate(s->io->ctx, s->active->fd, (off_t)s->write_off);
  if (rc < 0)
    return rc;
  DRAY_FAULT_POINT("spool.rotate_sealed");
  return segment_create(s);
}

/* Writes a group and syncs it. Fills each waiter's seq/seg/off. On return, the waiters before
 * *n_ok are durable; the rest failed with the returned code (-EAGAIN: not written, seqs not used;
 * anything else: fatal). */
static int write_group(dray__spool *s, struct waiter *batch, uint32_t *n_ok) {
  int rc = 0;
  uint32_t n = 0;
  *n_ok = 0;
  if (!s->active) {
    rc = segment_create(s);
    if (rc < 0)
      return rc;
  }
  for (struct waiter *w = batch; w; w = w->next) {
    uint64_t rec = HDR + (uint64_t)w->len;
    if (s->write_off > 0 && s->write_off + rec > s->segment_bytes) {
      rc = rotate(s);
      if (rc < 0)
        break;
    }
    w->seq = s->next_seq++;
    w->seg = s->active;
    w->off = s->write_off;
    unsigned char h[HDR];
    encode_header(h, w->seq, w->data, w->len);
    if (rec <= s->wbuf_cap) {
      if (s->wbuf_len + rec > s->wbuf_cap && (rc = flush_wbuf(s)) < 0)
        break;
      memcpy(s->wbuf + s->wbuf_len, h, HDR);
      memcpy(s->wbuf + s->wbuf_len + HDR, w->data, w->len);
      s->wbuf_len += rec;
    } else {
      if ((rc = flush_wbuf(s)) < 0 || (rc = write_all(s, s->active->fd, h, HDR, w->off)) < 0 ||
          (rc = write_all(s, s->active->fd, w->data, w->len, w->off + HDR)) < 0)
        break;
    }
    s->write_off += rec;
    n++;
  }
  if (rc == -EAGAIN) {
    /* Rotation found the disk full: what came before it is synced, the rest was not written
     * and got no seq (next_seq was not advanced for it). */
    *n_ok = n;
    return rc;
  }
  /* The memory class acks from the buffer: one pwrite per MEM_FLUSH_BYTES instead of per group;
   * the background thread writes a partial buffer out within MEM_FLUSH_NS. */
  if (rc == 0 && (s->durable || s->wbuf_len >= MEM_FLUSH_BYTES))
    rc = flush_wbuf(s);
  if (rc < 0)
    return rc;
  DRAY_FAULT_POINT("spool.after_write");
  if (s->durable) {
    rc = s->io->fdatasync(s->io->ctx, s->active->fd);
    if (rc < 0)
      return rc;
  }
  DRAY_FAULT_POINT("spool.after_sync");
  *n_ok = n;
  return 0;
}

/* Marks the spool failed and fails every queued appender. s->mu held. */
static void fail_locked(dray__spool *s, int rc) {
  if (!s->failed)
    s->failed = rc < 0 ? rc : -EIO;
  for (struct waiter *w = s->q_head; w; w = w->next) {
    w->done = 1;
    w->rc = s->failed;
  }
  s->q_head = s->q_tail = NULL;
  s->q_count = 0;
  s->q_calls = 0;
}

/* Seals the segments the write path has left behind, once the records written to them are
 * published (before that, a segment whose published records are all released is not done).
 * s->mu held. */
static void seal_left_behind(dray__spool *s) {
  for (struct segment *g = s->segs; g; g = g->next)
    if (g != s->active && !g->sealed) {
      g->sealed = 1;
      if (g->released_count == g->count) {
        s->unlink_wanted = 1;
        pthread_cond_signal(&s->maint_cv);
      }
    }
}

/* Leads one group commit: takes up to group_max queued appenders, writes, syncs, publishes and
 * wakes them. Called and returns with s->mu held and s->writing set by the caller. */
static void lead_group(dray__spool *s) {
  struct waiter *batch = s->q_head, *last = batch;
  uint32_t taken = 1;
  /* Group formation: whatever queued while the previous group was syncing. If fewer callers are
   * queued than started in the previous group, the others are most likely just returning from
   * their ack and about to append again: wait for them, at most group_delay_us. A lone appender
   * (previous group of 1 call) never waits. */
  if (s->durable && s->group_delay_us && s->q_calls < s->last_calls && s->q_count < s->group_max) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += (long)s->group_delay_us * 1000;
    while (dl.tv_nsec >= 1000000000) {
      dl.tv_sec++;
      dl.tv_nsec -= 1000000000;
    }
    s->lingering = 1;
    while (s->q_calls < s->last_calls && s->q_count < s->group_max && !s->stop)
      if (pthread_cond_timedwait(&s->linger_cv, &s->mu, &dl) == ETIMEDOUT)
        break;
    s->lingering = 0;
    batch = last = s->q_head;
    if (!batch) { /* the spool failed meanwhile and every queued appender was answered */
      s->writing = 0;
      pthread_cond_broadcast(&s->ack_cv);
      return;
    }
  }
  uint64_t calls = batch->first_of_call;
  while (last->next && taken < s->group_max) {
    last = last->next;
    taken++;
    calls += last->first_of_call;
  }
  s->q_head = last->next;
  if (!s->q_head)
    s->q_tail = NULL;
  last->next = NULL;
  s->q_count -= taken;
  s->q_calls -= calls;
  s->last_calls = calls;
  pthread_mutex_unlock(&s->mu);

  uint32_t n_ok = 0;
  int rc = write_group(s, batch, &n_ok);
  int fatal = rc < 0 && rc != -EAGAIN;

  pthread_mutex_lock(&s->mu);
  uint32_t i = 0;
  for (struct waiter *w = batch, *nx; w; w = nx, i++) {
    nx = w->next;
    uint64_t rec = HDR + (uint64_t)w->len;
    if (i < n_ok && !fatal) {
      struct segment *g = w->seg;
      if (segment_push_offset(g, w->off) < 0) {
        fatal = 1;
        rc = -ENOMEM;
      } else {
        g->size = w->off + rec;
        s->durable_next = w->seq + 1;
        s->disk_bytes += rec;
        s->live_records++;
        w->rc = 0;
      }
    } else {
      w->rc = rc < 0 ? rc : -EIO;
    }
    s->reserved_bytes -= rec;
    w->done = 1;
  }
  if (fatal)
    fail_locked(s, rc);
  seal_left_behind(s);
  if (s->wbuf_len && !s->buffered) {
    s->buffered = 1;
    clock_gettime(CLOCK_MONOTONIC, &s->buffered_since);
  }
  s->writing = 0;
  pthread_cond_broadcast(&s->ack_cv);
  pthread_cond_signal(&s->maint_cv);
  if (fatal) {
    pthread_mutex_unlock(&s->mu);
    event(s, "write failed (%s): spool failed, no further appends are acknowledged", strerror(-rc));
    pthread_mutex_lock(&s->mu);
  }
}

int dray__spool_append(dray__spool *s, const void *data, uint32_t len, uint64_t *seq) {
  if (!s || (!data && len))
    return -EINVAL;
  if (len > s->max_record)
    return -EMSGSIZE;
  uint64_t rec = HDR + (uint64_t)len;
  struct waiter w = {.data = data ? data : "", .len = len, .first_of_call = 1};
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  if (s->failed) {
    rc = s->failed;
    goto out;
  }
  if (s->stop) {
    rc = -ESHUTDOWN;
    goto out;
  }
  if (s->max_disk && s->disk_bytes + s->reserved_bytes + rec > s->max_disk) {
    /* If the only thing holding the space is a fully released active segment, ask for a rotation
     * so the maintenance thread can unlink it; the caller retries later either way. */
    if (s->active && s->active->count && s->active->released_count == s->active->count) {
      s->rotate_wanted = 1;
      pthread_cond_signal(&s->maint_cv);
    }
    rc = -EAGAIN;
    goto out;
  }
  s->reserved_bytes += rec;
  if (s->q_tail)
    s->q_tail->next = &w;
  else
    s->q_head = &w;
  s->q_tail = &w;
  s->q_count++;
  s->q_calls++;
  if (s->lingering)
    pthread_cond_signal(&s->linger_cv);
  while (!w.done) {
    if (!s->writing && !s->failed) {
      s->writing = 1;
      lead_group(s);
      continue;
    }
    pthread_cond_wait(&s->ack_cv, &s->mu);
  }
  rc = w.rc;
  if (rc == 0 && seq)
    *seq = w.seq;
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

int dray__spool_append_many(dray__spool *s, const struct dray__spool_rec *recs, size_t n,
                            uint64_t *seqs) {
  if (!s || (n && !recs))
    return -EINVAL;
  if (n == 0)
    return 0;
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (recs[i].len > s->max_record)
      return -EMSGSIZE;
    total += HDR + (uint64_t)recs[i].len;
  }
  struct waiter *ws = calloc(n, sizeof *ws);
  if (!ws)
    return -ENOMEM;
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  if (s->failed) {
    rc = s->failed;
    goto out;
  }
  if (s->stop) {
    rc = -ESHUTDOWN;
    goto out;
  }
  if (s->max_disk && s->disk_bytes + s->reserved_bytes + total > s->max_disk) {
    if (s->active && s->active->count && s->active->released_count == s->active->count) {
      s->rotate_wanted = 1;
      pthread_cond_signal(&s->maint_cv);
    }
    rc = -EAGAIN;
    goto out;
  }
  s->reserved_bytes += total;
  /* Consecutive waiters: one or more group commits, in order. */
  for (size_t i = 0; i < n; i++) {
    ws[i].data = recs[i].data ? recs[i].data : "";
    ws[i].len = recs[i].len;
    if (s->q_tail)
      s->q_tail->next = &ws[i];
    else
      s->q_head = &ws[i];
    s->q_tail = &ws[i];
    s->q_count++;
  }
  ws[0].first_of_call = 1;
  s->q_calls++;
  if (s->lingering)
    pthread_cond_signal(&s->linger_cv);
  while (!ws[n - 1].done) {
    if (!s->writing && !s->failed) {
      s->writing = 1;
      lead_group(s);
      continue;
    }
    pthread_cond_wait(&s->ack_cv, &s->mu);
  }
  for (size_t i = 0; i < n; i++) {
    if (ws[i].rc != 0 && rc == 0)
      rc = ws[i].rc;
    if (seqs)
      seqs[i] = ws[i].rc == 0 ? ws[i].seq : 0;
  }
out:
  pthread_mutex_unlock(&s->mu);
  free(ws);
  return rc;
}

/* Memory class: writes buffered records to the file so they can be read. s->mu held (dropped
 * while writing). Returns 0 or the spool's failure. */
static int flush_buffered_locked(dray__spool *s) {
  while (s->writing && !s->failed)
    pthread_cond_wait(&s->ack_cv, &s->mu);
  if (s->failed || !s->wbuf_len) {
    s->buffered = 0;
    return s->failed;
  }
  s->writing = 1;
  pthread_mutex_unlock(&s->mu);
  int rc = flush_wbuf(s);
  pthread_mutex_lock(&s->mu);
  s->writing = 0;
  s->buffered = 0;
  if (rc < 0)
    fail_locked(s, rc);
  pthread_cond_broadcast(&s->ack_cv);
  return rc;
}

/* ---------- release, low-water mark, maintenance ---------- */

/* Advances the low-water mark over released seqs and gaps. s->mu held. */
static void advance_low_water(dray__spool *s) {
  uint64_t lw = s->low_water;
  struct segment *g = NULL;
  while (lw < s->durable_next) {
    if (!g || lw < g->first_seq || lw >= g->first_seq + g->count)
      g = find_segment(s, lw);
    if (!g) {
      /* A gap (quarantined or unlinked range): jump to the next segment that starts above. */
      uint64_t nx = s->durable_next;
      for (struct segment *h = s->segs; h; h = h->next)
        if (h->first_seq > lw && h->first_seq < nx && h->count)
          nx = h->first_seq;
      lw = nx;
      continue;
    }
    if (!seg_is_released(g, lw))
      break;
    lw++;
  }
  if (lw != s->low_water) {
    s->low_water = lw;
    if (!s->ck_dirty_since_set) {
      s->ck_dirty_since_set = 1;
      clock_gettime(CLOCK_MONOTONIC, &s->ck_dirty_since);
      pthread_cond_signal(&s->maint_cv);
    }
  }
}

int dray__spool_release(dray__spool *s, uint64_t seq) {
  if (!s)
    return -EINVAL;
  int rc = 0;
  pthread_mutex_lock(&s->mu);
  if (seq >= s->durable_next) {
    rc = -EINVAL;
    goto out;
  }
  struct segment *g = find_segment(s, seq);
  if (!g || seq < s->low_water || seg_is_released(g, seq))
    goto out; /* already released (or in a range already gone): idempotent */
  uint64_t i = seq - g->first_seq;
  g->released[i / 64] |= 1ull << (i % 64);
  g->released_count++;
  s->live_records--;
  if (seq == s->low_water)
    advance_low_water(s);
  if (g->released_count == g->count && g->sealed) {
    s->unlink_wanted = 1;
    pthread_cond_signal(&s->maint_cv);
  }
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* Unlinks every sealed, fully released segment. Runs without s->mu for the I/O. */
static int unlink_released(dray__spool *s) {
  int rc = 0;
  for (;;) {
    pthread_mutex_lock(&s->mu);
    /* Only sealed segments qualify: a segment rotation has just left behind may still receive
     * the records of the group in flight, and only looks fully released until they are
     * published (seal_left_behind). */
    struct segment **pp = &s->segs, *g = NULL;
    for (; *pp; pp = &(*pp)->next)
      if ((*pp)->sealed && (*pp)->released_count == (*pp)->count) {
        g = *pp;
        *pp = g->next;
        g->removed = 1;
        s->disk_bytes -= g->size;
        break;
      }
    if (!g)
      s->unlink_wanted = 0;
    pthread_mutex_unlock(&s->mu);
    if (!g)
      return rc;
    DRAY_FAULT_POINT("spool.before_unlink");
    int r = s->io->unlink(s->io->ctx, g->path);
    if (r == 0 || r == -ENOENT) {
      DRAY_FAULT_POINT("spool.after_unlink");
      r = s->io->fsync_dir(s->io->ctx, s->dir);
    }
    if (r < 0 && !rc)
      rc = r;
    pthread_mutex_lock(&s->mu);
    segment_unref(s, g);
    pthread_mutex_unlock(&s->mu);
  }
}

static void *maintenance_main(void *arg) {
  dray__spool *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->stop && !s->failed) {
    int due_ck = s->ck_dirty_since_set && ns_since(&s->ck_dirty_since) >= (int64_t)CK_INTERVAL_NS;
    int rotate_now = s->rotate_wanted && !s->writing && !s->q_head;
    int flush_now = s->buffered && !s->writing &&
                    ns_since(&s->buffered_since) >= (int64_t)MEM_FLUSH_NS;
    if (!due_ck && !s->unlink_wanted && !rotate_now && !flush_now) {
      if (s->ck_dirty_since_set || s->rotate_wanted || s->buffered) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += s->buffered ? 500000 : 2000000;
        if (t.tv_nsec >= 1000000000) {
          t.tv_sec++;
          t.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->maint_cv, &s->mu, &t);
      } else {
        pthread_cond_wait(&s->maint_cv, &s->mu);
      }
      continue;
    }
    int rc = 0;
    if (flush_now) {
      flush_buffered_locked(s);
      if (s->failed)
        continue; /* reported by the loop exit below */
    }
    if (rotate_now) {
      s->rotate_wanted = 0;
      /* Rotation only helps when the active segment holds nothing but released records. */
      if (s->active && s->active->count && s->active->released_count == s->active->count) {
        s->writing = 1;
        pthread_mutex_unlock(&s->mu);
        rc = rotate(s);
        pthread_mutex_lock(&s->mu);
        seal_left_behind(s);
        s->writing = 0;
        pthread_cond_broadcast(&s->ack_cv);
        if (rc == -EAGAIN)
          rc = 0;
        if (rc == 0)
          s->unlink_wanted = 1;
      }
    }
    if (rc == 0 && due_ck) {
      uint64_t lw = s->low_water, nx = s->durable_next;
      s->ck_dirty_since_set = 0;
      pthread_mutex_unlock(&s->mu);
      rc = checkpoint_write(s, lw, nx);
      pthread_mutex_lock(&s->mu);
    }
    if (rc == 0 && s->unlink_wanted) {
      pthread_mutex_unlock(&s->mu);
      rc = unlink_released(s);
      pthread_mutex_lock(&s->mu);
    }
    if (rc < 0) {
      fail_locked(s, rc);
      pthread_cond_broadcast(&s->ack_cv);
      pthread_mutex_unlock(&s->mu);
      event(s, "checkpoint/segment maintenance failed (%s): spool failed", strerror(-rc));
      pthread_mutex_lock(&s->mu);
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* ---------- reading ---------- */

/* Reads record `seq` of segment g (a reference held by the caller) into *buf (grown as needed)
 * and verifies it. 0 with *data and *len set, or a negative errno (-EBADMSG on a CRC failure). */
static int read_record(dray__spool *s, struct segment *g, uint64_t seq, uint64_t off, uint64_t end,
                       unsigned char **buf, size_t *cap, const unsigned char **data, uint32_t *len) {
  uint64_t n = end - off;
  if (n < HDR || n - HDR > s->max_record)
    return -EBADMSG;
  if (n > *cap) {
    unsigned char *b = realloc(*buf, n);
    if (!b)
      return -ENOMEM;
    *buf = b;
    *cap = n;
  }
  int rc = read_all(s, g->fd, *buf, n, off);
  if (rc < 0)
    return rc;
  uint32_t l;
  uint64_t sq;
  if (check_header(*buf, s->max_record, &l, &sq) < 0 || sq != seq || l != n - HDR ||
      get32(*buf + 12) != dray__crc32c(0, *buf + HDR, l))
    return -EBADMSG;
  *data = *buf + HDR;
  *len = l;
  return 0;
}

/* Finds the next unreleased durable record at or after *seq below `end` and pins its segment.
 * s->mu held. Returns the segment (with a reference) or NULL when there is none. */
static struct segment *next_record(dray__spool *s, uint64_t *seq, uint64_t end, uint64_t *off,
                                   uint64_t *rec_end) {
  uint64_t q = *seq < s->low_water ? s->low_water : *seq;
  while (q < end) {
    struct segment *g = find_segment(s, q);
    if (!g) {
      uint64_t nx = end;
      for (struct segment *h = s->segs; h; h = h->next)
        if (h->first_seq > q && h->first_seq < nx && h->count)
          nx = h->first_seq;
      q = nx;
      continue;
    }
    uint64_t stop = g->first_seq + g->count < end ? g->first_seq + g->count : end;
    for (; q < stop; q++) {
      if (seg_is_released(g, q))
        continue;
      uint64_t i = q - g->first_seq;
      *off = g->offsets[i];
      *rec_end = i + 1 < g->count ? g->offsets[i + 1] : g->size;
      *seq = q;
      g->refs++;
      return g;
    }
  }
  *seq = q;
  return NULL;
}

int dray__spool_scan(dray__spool *s, uint64_t from_seq,
                     int (*cb)(void *ctx, uint64_t seq, const void *data, uint32_t len), void *ctx) {
  if (!s || !cb)
    return -EINVAL;
  unsigned char *buf = NULL;
  size_t cap = 0;
  int rc = 0;
  pthread_mutex_lock(&s->mu);
  if (s->buffered)
    flush_buffered_locked(s);
  uint64_t end = s->durable_next, seq = from_seq;
  for (;;) {
    uint64_t off, rec_end;
    struct segment *g = next_record(s, &seq, end, &off, &rec_end);
    pthread_mutex_unlock(&s->mu);
    if (!g)
      break;
    const unsigned char *data;
    uint32_t len;
    rc = read_record(s, g, seq, off, rec_end, &buf, &cap, &data, &len);
    if (rc == -EBADMSG)
      event(s, "record %" PRIu64 " in %s failed its CRC on read", seq, g->path);
    if (rc == 0)
      rc = cb(ctx, seq, data, len);
    pthread_mutex_lock(&s->mu);
    segment_unref(s, g);
    if (rc != 0) {
      pthread_mutex_unlock(&s->mu);
      break;
    }
    seq++;
  }
  free(buf);
  return rc;
}

int dray__spool_get(dray__spool *s, uint64_t seq, void **data, uint32_t *len) {
  if (!s || !data || !len)
    return -EINVAL;
  *data = NULL;
  *len = 0;
  pthread_mutex_lock(&s->mu);
  if (s->buffered)
    flush_buffered_locked(s);
  uint64_t q = seq, off, rec_end;
  struct segment *g = next_record(s, &q, s->durable_next, &off, &rec_end);
  if (g && q != seq) {
    segment_unref(s, g);
    g = NULL;
  }
  pthread_mutex_unlock(&s->mu);
  if (!g)
    return 1;
  unsigned char *buf = NULL;
  size_t cap = 0;
  const unsigned char *d;
  uint32_t l;
  int rc = read_record(s, g, seq, off, rec_end, &buf, &cap, &d, &l);
  pthread_mutex_lock(&s->mu);
  segment_unref(s, g);
  pthread_mutex_unlock(&s->mu);
  if (rc < 0) {
    if (rc == -EBADMSG)
      event(s, "record %" PRIu64 " failed its CRC on read", seq);
    free(buf);
    return rc;
  }
  memmove(buf, d, l);
  *data = buf;
  *len = l;
  return 0;
}

void dray__spool_stats(dray__spool *s, struct dray__spool_stats *out) {
  memset(out, 0, sizeof *out);
  if (!s)
    return;
  pthread_mutex_lock(&s->mu);
  out->records = s->live_records;
  out->bytes = s->disk_bytes;
  out->next_seq = s->durable_next; /* next_seq itself belongs to the write path */
  out->low_water = s->low_water;
  out->pending = s->q_count;
  out->quarantined_segments = s->quarantined;
  out->truncated_bytes = s->truncated;
  out->failed = s->failed;
  pthread_mutex_unlock(&s->mu);
}

/* ---------- recovery ---------- */

/* A window over a file for sequential parsing without a read per record. */
struct reader {
  dray__spool *s;
  int fd;
  uint64_t size;
  unsigned char *buf;
  size_t cap;
  uint64_t win_off, win_len;
};

/* Pointer to bytes [off, off+n) of the file, or NULL if past the end or on a read error
 * (*err set). n is bounded by the caller (header size or max_record + HDR). */
static const unsigned char *reader_get(struct reader *r, uint64_t off, size_t n, int *err) {
  if (off + n > r->size)
    return NULL;
  if (off >= r->win_off && off + n <= r->win_off + r->win_len)
    return r->buf + (off - r->win_off);
  size_t want = n > WBUF_MAX ? n : WBUF_MAX;
  if (off + want > r->size)
    want = (size_t)(r->size - off);
  if (want > r->cap) {
    unsigned char *b = realloc(r->buf, want);
    if (!b) {
      *err = -ENOMEM;
      return NULL;
    }
    r->buf = b;
    r->cap = want;
  }
  int rc = read_all(r->s, r->fd, r->buf, want, off);
  if (rc < 0) {
    *err = rc;
    r->win_len = 0;
    return NULL;
  }
  r->win_off = off;
  r->win_len = want;
  return r->buf + (off - r->win_off);
}

/* Is there a complete record at off? Fills len/seq. */
static int record_at(struct reader *r, uint64_t off, uint32_t max_record, uint32_t *len,
                     uint64_t *seq, int *err) {
  const unsigned char *h = reader_get(r, off, HDR, err);
  if (!h || check_header(h, max_record, len, seq) < 0)
    return 0;
  uint32_t pcrc = get32(h + 12);
  const unsigned char *p = reader_get(r, off + HDR, *len, err);
  if (!p && *len)
    return 0;
  return dray__crc32c(0, p ? p : (const unsigned char *)"", *len) == pcrc;
}

static int all_zero_from(struct reader *r, uint64_t off, int *err) {
  while (off < r->size) {
    size_t n = r->size - off > 65536 ? 65536 : (size_t)(r->size - off);
    const unsigned char *p = reader_get(r, off, n, err);
    if (!p)
      return 0;
    for (size_t i = 0; i < n; i++)
      if (p[i])
        return 0;
    off += n;
  }
  return 1;
}

static int valid_record_after(struct reader *r, uint64_t off, uint32_t max_record, int *err) {
  for (uint64_t p = off + 1; p + HDR <= r->size; p++) {
    const unsigned char *h = reader_get(r, p, 4, err);
    if (!h)
      return 0;
    if (get32(h) != REC_MAGIC)
      continue;
    uint32_t len;
    uint64_t seq;
    if (record_at(r, p, max_record, &len, &seq, err))
      return 1;
  }
  return 0;
}

/* Copies bytes [from, size) of fd into dest (a quarantine file), synced. */
static int copy_tail(dray__spool *s, struct reader *r, uint64_t from, const char *dest) {
  int fd = s->io->open(s->io->ctx, dest, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    return fd;
  int rc = 0;
  uint64_t out = 0;
  for (uint64_t off = from; off < r->size && rc == 0;) {
    size_t n = r->size - off > WBUF_MAX ? WBUF_MAX : (size_t)(r->size - off);
    const unsigned char *p = reader_get(r, off, n, &rc);
    if (!p)
      break;
    rc = write_all(s, fd, p, n, out);
    off += n;
    out += n;
  }
  if (rc == 0)
    rc = s->io->fsync(s->io->ctx, fd);
  s->io->close(s->io->ctx, fd);
  return rc;
}

/* "<path>.<kind>.<unix time>", made unique with a counter if that name exists. malloc'd. */
static char *bad_name(const char *path, const char *kind) {
  size_t n = strlen(path) + strlen(kind) + 48;
  char *p = malloc(n);
  if (!p)
    return NULL;
  long long now = (long long)time(NULL);
  snprintf(p, n, "%s.%s.%lld", path, kind, now);
  for (int i = 1; access(p, F_OK) == 0 && i < 1000; i++)
    snprintf(p, n, "%s.%s.%lld.%d", path, kind, now, i);
  return p;
}

static int parse_seg_name(const char *name, const char *prefix, uint64_t *first) {
  size_t pl = strlen(prefix);
  if (strncmp(name, prefix, pl) != 0 || name[pl] != '-')
    return -1;
  const char *d = name + pl + 1;
  for (int i = 0; i < 20; i++)
    if (d[i] < '0' || d[i] > '9')
      return -1;
  if (strcmp(d + 20, ".seg") != 0)
    return -1;
  *first = strtoull(d, NULL, 10);
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Recovers one segment file. On success the segment is in the list (or quarantined and counted).
 * A fatal error (I/O, memory) returns a negative errno with err filled. */
static int recover_segment(dray__spool *s, uint64_t first, int is_last, char *err, size_t err_size) {
  struct segment *g = segment_new(s, first, -1);
  if (!g)
    return -ENOMEM;
  int rc = 0;
  int fd = s->io->open(s->io->ctx, g->path, is_last ? O_RDWR : O_RDONLY, 0);
  if (fd < 0) {
    set_err(err, err_size, "%s: cannot open: %s", g->path, strerror(-fd));
    segment_unref(s, g);
    return fd;
  }
  g->fd = fd;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    rc = -errno;
    set_err(err, err_size, "%s: cannot stat: %s", g->path, strerror(errno));
    goto fail;
  }
  struct reader r = {.s = s, .fd = fd, .size = (uint64_t)st.st_size};
  uint64_t off = 0, expect = first;
  for (;;) {
    uint32_t len;
    uint64_t seq;
    if (!record_at(&r, off, s->max_record, &len, &seq, &rc) || seq != expect)
      break;
    if ((rc = segment_push_offset(g, off)) < 0)
      break;
    off += HDR + (uint64_t)len;
    expect++;
  }
  if (rc < 0) {
    set_err(err, err_size, "%s: cannot read: %s", g->path, strerror(-rc));
    goto fail_reader;
  }
  g->size = off;
  if (off < r.size && !all_zero_from(&r, off, &rc)) {
    if (rc < 0) {
      set_err(err, err_size, "%s: cannot read: %s", g->path, strerror(-rc));
      goto fail_reader;
    }
    if (is_last) {
      /* Torn tail. If whole valid records follow the bad spot, this is more than a torn write:
       * keep a copy of the cut bytes for the operator before truncating. */
      if (valid_record_after(&r, off, s->max_record, &rc)) {
        char *bad = bad_name(g->path, "tail.bad");
        rc = bad ? copy_tail(s, &r, off, bad) : -ENOMEM;
        if (rc == 0)
          rc = s->io->fsync_dir(s->io->ctx, s->dir);
        if (rc < 0) {
          set_err(err, err_size, "%s: cannot save corrupt tail: %s", g->path, strerror(-rc));
          free(bad);
          goto fail_reader;
        }
        s->quarantined++;
        event(s, "%s: corrupt record at offset %" PRIu64 " (seq %" PRIu64 ") with valid records after it; bytes %" PRIu64 "..%" PRIu64 " saved to %s",
              g->path, off, expect, off, r.size, bad);
        free(bad);
      }
      s->truncated += r.size - off;
      event(s, "%s: torn tail: truncated %" PRIu64 " bytes at offset %" PRIu64 " (records up to seq %" PRIu64 " kept)",
            g->path, r.size - off, off, expect - 1);
      rc = s->io->ftruncate(s->io->ctx, fd, (off_t)off);
      DRAY_FAULT_POINT("spool.recovery_truncated");
      if (rc == 0)
        rc = s->io->fdatasync(s->io->ctx, fd);
      if (rc < 0) {
        set_err(err, err_size, "%s: cannot truncate torn tail: %s", g->path, strerror(-rc));
        goto fail_reader;
      }
    } else {
      char *bad = bad_name(g->path, "bad");
      rc = bad ? s->io->rename(s->io->ctx, g->path, bad) : -ENOMEM;
      DRAY_FAULT_POINT("spool.quarantine_renamed");
      if (rc == 0)
        rc = s->io->fsync_dir(s->io->ctx, s->dir);
      if (rc < 0) {
        set_err(err, err_size, "%s: cannot quarantine corrupt segment: %s", g->path, strerror(-rc));
        free(bad);
        goto fail_reader;
      }
      s->quarantined++;
      event(s, "%s: corrupt record at offset %" PRIu64 " (expected seq %" PRIu64 "); segment quarantined as %s; %" PRIu32 " records before it are not replayed",
            g->path, off, expect, bad, g->count);
      free(bad);
      free(r.buf);
      segment_unref(s, g);
      return 0;
    }
  }
  free(r.buf);
  struct segment **pp = &s->segs;
  while (*pp)
    pp = &(*pp)->next;
  *pp = g;
  return 0;
fail_reader:
  free(r.buf);
fail:
  segment_unref(s, g);
  return rc < 0 ? rc : -EIO;
}

static int mkdir_p(const char *dir, const struct dray__io *io) {
  char *p = strdup(dir);
  if (!p)
    return -ENOMEM;
  int rc = 0;
  for (char *c = p + 1;; c++) {
    if (*c == '/' || *c == '\0') {
      char save = *c;
      *c = '\0';
      if (mkdir(p, 0755) == 0) {
        /* Make the new directory entry durable in its parent. */
        char *slash = strrchr(p, '/');
        if (slash && slash != p) {
          *slash = '\0';
          io->fsync_dir(io->ctx, p);
          *slash = '/';
        } else {
          io->fsync_dir(io->ctx, slash ? "/" : ".");
        }
      } else if (errno != EEXIST) {
        rc = -errno;
        break;
      }
      *c = save;
      if (!save)
        break;
    }
  }
  free(p);
  return rc;
}

dray__spool *dray__spool_open(const struct dray__spool_options *opt, char *err, size_t err_size) {
  if (!opt || !opt->dir || !opt->name || !*opt->name || strchr(opt->name, '/')) {
    set_err(err, err_size, "spool: dir and name (without '/') are required");
    return NULL;
  }
  dray__spool *s = calloc(1, sizeof *s);
  if (!s) {
    set_err(err, err_size, "spool: out of memory");
    return NULL;
  }
  s->ck_fd = -1;
  s->io = opt->io ? opt->io : dray__io_posix();
  s->segment_bytes = opt->segment_bytes ? opt->segment_bytes : 64ull << 20;
  if (s->segment_bytes > UINT32_MAX)
    s->segment_bytes = UINT32_MAX; /* offsets are 32-bit */
  if (s->segment_bytes < 4096)
    s->segment_bytes = 4096;
  s->max_record = opt->max_record_bytes ? opt->max_record_bytes : 16u << 20;
  if (s->max_record > UINT32_MAX - HDR - 1)
    s->max_record = UINT32_MAX - HDR - 1;
  s->group_max = opt->group_max_records ? opt->group_max_records : 256;
  s->group_delay_us = opt->group_max_delay_us ? opt->group_max_delay_us : 2000;
  s->max_disk = opt->max_disk_bytes;
  if (s->max_disk && s->segment_bytes > s->max_disk / 4) {
    /* Space comes back a segment at a time: keep segments small against the cap. */
    s->segment_bytes = s->max_disk / 4 < 4096 ? 4096 : s->max_disk / 4;
  }
  s->durable = opt->durable;
  s->on_event = opt->on_event;
  s->event_ctx = opt->event_ctx;
  s->dir = strdup(opt->dir);
  s->name = strdup(opt->name);
  size_t ckn = strlen(opt->dir) + strlen(opt->name) + 16;
  s->ck_path = malloc(ckn);
  s->wbuf_cap = WBUF_MAX;
  s->wbuf = malloc(s->wbuf_cap);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->ack_cv, NULL);
  pthread_cond_init(&s->maint_cv, NULL);
  pthread_cond_init(&s->linger_cv, NULL);
  uint64_t *firsts = NULL;
  size_t nfirst = 0, capfirst = 0;
  DIR *d = NULL;
  int rc;
  if (!s->dir || !s->name || !s->ck_path || !s->wbuf) {
    set_err(err, err_size, "spool: out of memory");
    goto fail;
  }
  snprintf(s->ck_path, ckn, "%s/%s.ckpt", s->dir, s->name);

  rc = mkdir_p(s->dir, s->io);
  if (rc < 0) {
    set_err(err, err_size, "spool: cannot create directory %s: %s", s->dir, strerror(-rc));
    goto fail;
  }
  d = opendir(s->dir);
  if (!d) {
    set_err(err, err_size, "spool: cannot read directory %s: %s", s->dir, strerror(errno));
    goto fail;
  }
  for (struct dirent *e; (e = readdir(d));) {
    uint64_t first;
    if (parse_seg_name(e->d_name, s->name, &first) < 0)
      continue;
    if (nfirst == capfirst) {
      capfirst = capfirst ? capfirst * 2 : 16;
      uint64_t *f = realloc(firsts, capfirst * sizeof *f);
      if (!f) {
        set_err(err, err_size, "spool: out of memory");
        goto fail;
      }
      firsts = f;
    }
    firsts[nfirst++] = first;
  }
  closedir(d);
  d = NULL;
  if (nfirst)
    qsort(firsts, nfirst, sizeof *firsts, cmp_u64);

  /* Checkpoint: the newest valid slot wins; both bad refuses to open. */
  uint64_t low_water = 1;
  int ckfd = s->io->open(s->io->ctx, s->ck_path, O_RDWR, 0);
  if (ckfd == -ENOENT) {
    if (nfirst) {
      set_err(err, err_size,
              "spool: checkpoint %s is missing but %zu segment file(s) exist in %s; refusing to "
              "guess which records were released (restore the checkpoint, or move the segments away)",
              s->ck_path, nfirst, s->dir);
      goto fail;
    }
    size_t tn = strlen(s->ck_path) + 8;
    char tmp[tn];
    snprintf(tmp, tn, "%s.tmp", s->ck_path);
    s->io->unlink(s->io->ctx, tmp); /* a crash during creation may have left it */
    rc = checkpoint_create(s, 1);
    if (rc < 0) {
      set_err(err, err_size, "spool: cannot create checkpoint %s: %s", s->ck_path, strerror(-rc));
      goto fail;
    }
    ckfd = s->io->open(s->io->ctx, s->ck_path, O_RDWR, 0);
  }
  if (ckfd < 0) {
    set_err(err, err_size, "spool: cannot open checkpoint %s: %s", s->ck_path, strerror(-ckfd));
    goto fail;
  }
  s->ck_fd = ckfd;
  {
    unsigned char file[CK_FILE_SIZE];
    memset(file, 0, sizeof file);
    ssize_t got = 0;
    for (size_t done = 0; done < sizeof file; done += (size_t)got) {
      got = s->io->pread(s->io->ctx, ckfd, file + done, sizeof file - done, (off_t)done);
      if (got <= 0)
        break;
    }
    if (got < 0) {
      set_err(err, err_size, "spool: cannot read checkpoint %s: %s", s->ck_path, strerror((int)-got));
      goto fail;
    }
    uint64_t g0 = 0, g1 = 0, l0 = 0, l1 = 0;
    int ok0 = decode_slot(file, &g0, &l0) == 0;
    int ok1 = decode_slot(file + CK_SLOT_STRIDE, &g1, &l1) == 0;
    if (!ok0 && !ok1) {
      set_err(err, err_size,
              "spool: both checkpoint slots in %s are corrupt (bad magic or CRC32C); refusing to "
              "open: the released/unreleased boundary is unknown. Restore the file from a backup; "
              "deleting it makes open refuse too while segments exist",
              s->ck_path);
      goto fail;
    }
    if (!ok0 || !ok1)
      event(s, "%s: checkpoint slot %c is corrupt; using slot %c", s->ck_path, ok0 ? 'B' : 'A',
            ok0 ? 'A' : 'B');
    if (ok0 && (!ok1 || g0 > g1)) {
      s->ck_gen = g0;
      low_water = l0;
    } else {
      s->ck_gen = g1;
      low_water = l1;
    }
    if (low_water == 0)
      low_water = 1;
  }
  s->ck_low_water = low_water;

  /* Segments, oldest first. Sealed segments entirely below the low-water mark need no reading. */
  for (size_t i = 0; i < nfirst; i++) {
    int is_last = i + 1 == nfirst;
    if (!is_last && firsts[i + 1] <= low_water) {
      char *p = seg_path(s, firsts[i]);
      if (!p)
        goto fail;
      DRAY_FAULT_POINT("spool.before_unlink");
      rc = s->io->unlink(s->io->ctx, p);
      free(p);
      if (rc == 0)
        rc = s->io->fsync_dir(s->io->ctx, s->dir);
      if (rc < 0 && rc != -ENOENT) {
        set_err(err, err_size, "spool: cannot remove released segment in %s: %s", s->dir, strerror(-rc));
        goto fail;
      }
      continue;
    }
    rc = recover_segment(s, firsts[i], is_last, err, err_size);
    if (rc < 0)
      goto fail;
  }

  /* Rebuild the in-memory state: released bits below the low-water mark, counts, the next seq. */
  uint64_t next = low_water;
  struct segment *last = NULL;
  for (struct segment *g = s->segs; g; g = g->next) {
    last = g;
    for (uint32_t i = 0; i < g->count && g->first_seq + i < low_water; i++) {
      g->released[i / 64] |= 1ull << (i % 64);
      g->released_count++;
    }
    s->live_records += g->count - g->released_count;
    s->disk_bytes += g->size;
    if (g->first_seq + g->count > next)
      next = g->first_seq + g->count;
  }
  if (last && last->first_seq > next)
    next = last->first_seq;
  s->next_seq = next;
  s->durable_next = next;
  s->low_water = low_water;
  if (last && last->first_seq + last->count == next) {
    /* The last segment stays active only if its name matches where the next record goes. */
    s->active = last;
    s->write_off = last->size;
    if (last->size < s->segment_bytes)
      s->io->fallocate(s->io->ctx, last->fd, 0, (off_t)s->segment_bytes);
  } else if (last) {
    s->io->close(s->io->ctx, last->fd);
    last->fd = s->io->open(s->io->ctx, last->path, O_RDONLY, 0);
  }
  for (struct segment *g = s->segs; g; g = g->next)
    g->sealed = g != s->active;
  advance_low_water(s);
  s->unlink_wanted = 1;
  free(firsts);
  firsts = NULL;

  if (pthread_create(&s->maint, NULL, maintenance_main, s) != 0) {
    set_err(err, err_size, "spool: cannot start its maintenance thread");
    goto fail;
  }
  s->maint_started = 1;
  return s;

fail:
  if (d)
    closedir(d);
  free(firsts);
  dray__spool_close(&s);
  return NULL;
}

void dray__spool_close(dray__spool **self_p) {
  if (!self_p || !*self_p)
    return;
  dray__spool *s = *self_p;
  *self_p = NULL;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  while (s->writing || s->q_head)
    pthread_cond_wait(&s->ack_cv, &s->mu);
  pthread_cond_broadcast(&s->maint_cv);
  pthread_mutex_unlock(&s->mu);
  if (s->maint_started) {
    pthread_join(s->maint, NULL);
    if (!s->failed && s->wbuf_len) {
      int rc = flush_wbuf(s);
      if (rc < 0) {
        s->failed = rc;
        event(s, "cannot write buffered records at close: %s", strerror(-rc));
      }
    }
    if (!s->failed) {
      if (s->low_water != s->ck_low_water && s->ck_fd >= 0) {
        int rc = checkpoint_write(s, s->low_water, s->next_seq);
        if (rc < 0)
          event(s, "cannot write the checkpoint at close: %s", strerror(-rc));
      }
      if (s->unlink_wanted)
        unlink_released(s);
    }
  }
  while (s->segs) {
    struct segment *g = s->segs;
    s->segs = g->next;
    g->removed = 1;
    segment_unref(s, g);
  }
  if (s->ck_fd >= 0)
    s->io->close(s->io->ctx, s->ck_fd);
  pthread_cond_destroy(&s->maint_cv);
  pthread_cond_destroy(&s->linger_cv);
  pthread_cond_destroy(&s->ack_cv);
  pthread_mutex_destroy(&s->mu);
  free(s->wbuf);
  free(s->ck_path);
  free(s->name);
  free(s->dir);
  free(s);
}
