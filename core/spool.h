/* The durable spool: one on-disk record format shared by the ingress journal and the dead-letter
 * spool (DESIGN.md §4, docs/journal-format.md). Core-internal.
 *
 * Records are appended to segment files under one directory, each made durable (fdatasync, group
 * commit across concurrent appenders) before dray__spool_append returns; a record stays on disk
 * until it is released, and a restart replays every record at or above the persisted low-water
 * mark (at-least-once). All file I/O goes through struct dray__io (core/io.h). */
#ifndef DRAY_CORE_SPOOL_H
#define DRAY_CORE_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct dray__spool_options {
  const char *dir;             /* created (with parents) if missing */
  const char *name;            /* file prefix, e.g. "journal" or "dlq" */
  uint64_t segment_bytes;      /* 0 = 64 MiB; a record larger than this gets a segment of its own */
  uint32_t max_record_bytes;   /* 0 = 16 MiB; enforced before any allocation, on write and on read */
  uint32_t group_max_records;  /* 0 = 256: at most this many records share one fdatasync ... */
  uint32_t group_max_delay_us; /* 0 = 2000: ... and a group never waits to fill up longer than this */
  uint64_t max_disk_bytes;     /* 0 = unlimited; over the cap append returns -EAGAIN, never drops */
  int durable;                 /* 1 (set it!): fdatasync per group before the ack. 0: "memory"
                                  delivery class: no sync; acked from a write buffer that reaches
                                  the file within ~1 ms (or 256 KiB): a crash may lose that window */
  const struct dray__io *io;   /* NULL = dray__io_posix() */
  /* Optional: called (from any spool thread, never with a spool lock held) with one line per
   * notable event: torn tail truncated, segment quarantined, I/O failure. NULL = stderr. */
  void (*on_event)(void *ctx, const char *line);
  void *event_ctx;
};

typedef struct dray__spool dray__spool;

/* Opens the spool in opt->dir and recovers it:
 *  - a torn tail (incomplete or CRC-bad records at the end of the last segment) is truncated to the
 *    valid prefix, counted in truncated_bytes; if complete valid records follow the bad spot, the
 *    cut bytes are first saved to <segment>.tail.bad.<unix time> (counted as quarantined);
 *  - a bad record inside a sealed segment quarantines the whole segment (renamed to
 *    <segment>.bad.<unix time>), counted in quarantined_segments and reported via on_event;
 *  - one bad checkpoint slot: the other is used; both bad (or the checkpoint file missing while
 *    segments exist): refuses to open, with the reason in err.
 * durable is taken as given: callers that zero the options must set durable = 1 explicitly.
 * Returns a spool the caller owns (dray__spool_close), or NULL with a message in err. */
dray__spool *dray__spool_open(const struct dray__spool_options *opt, char *err, size_t err_size);

/* Appends one record (copied; the caller keeps data) and blocks until it is durable (its group's
 * fdatasync returned; with durable = 0 until it is in the write buffer). Thread-safe; the
 * first waiting appender leads the group commit for everyone queued behind it.
 * Returns 0 and *seq (monotonic, starting after the highest recovered seq), -EMSGSIZE if len is over
 * max_record_bytes, -EAGAIN over max_disk_bytes (backpressure: retry after releases), or a negative
 * errno after a write/fsync failure. After such a failure the spool is FAILED: every later append
 * fails too and the fsync is never retried (the caller must exit non-zero and recover on restart). */
int dray__spool_append(dray__spool *s, const void *data, uint32_t len, uint64_t *seq);

/* One record for dray__spool_append_many. */
struct dray__spool_rec {
  const void *data;
  uint32_t len;
};

/* Appends n records in order (copied) and blocks until all are durable: one group commit per
 * group_max_records, shared with concurrent appenders. Returns 0 with seqs[i] set (seqs may be
 * NULL), or an error as for append: -EMSGSIZE or -EAGAIN over max_disk_bytes (nothing written);
 * otherwise the first error met, and seqs[i] non-zero marks the records that are durable anyway
 * (a disk found full while preallocating a segment fails only the records from there on with
 * -EAGAIN and leaves the spool healthy; a write/fsync failure fails the spool). Thread-safe. */
int dray__spool_append_many(dray__spool *s, const struct dray__spool_rec *recs, size_t n,
                            uint64_t *seqs);

/* Calls cb for every durable, unreleased record with seq >= from_seq in seq order, up to the last
 * record durable when the scan started. cb returns 0 to continue, non-zero to stop (scan then
 * returns that value). data is valid only during the call. Thread-safe. A record that fails its CRC
 * on read returns -EBADMSG (and is reported). */
int dray__spool_scan(dray__spool *s, uint64_t from_seq,
                     int (*cb)(void *ctx, uint64_t seq, const void *data, uint32_t len), void *ctx);

/* Reads one record into a malloc'd buffer the caller frees. 0, 1 if absent or released, -errno. */
int dray__spool_get(dray__spool *s, uint64_t seq, void **data, uint32_t *len);

/* Marks a record finished; idempotent, thread-safe, any order. The low-water mark (every seq below
 * it released) is persisted lazily in the checkpoint (within ~10 ms by a background thread, and at
 * close); segments whose records are all released are unlinked. 0, or -EINVAL for a seq that was
 * never made durable. */
int dray__spool_release(dray__spool *s, uint64_t seq);

struct dray__spool_stats {
  uint64_t records;              /* durable records not yet released */
  uint64_t bytes;                /* record bytes in live segment files (counted against the cap) */
  uint64_t next_seq;             /* seq the next append will get */
  uint64_t low_water;            /* every seq below it is released */
  uint64_t pending;              /* appends waiting for their group commit */
  uint64_t quarantined_segments; /* since open: segments (or cut tails) renamed to *.bad.<time> */
  uint64_t truncated_bytes;      /* since open: torn-tail bytes cut off the last segment */
  int failed;                    /* 0, or the negative errno that failed the spool */
};
void dray__spool_stats(dray__spool *s, struct dray__spool_stats *out);

/* Waits for in-flight appends, writes the checkpoint, closes the files and frees the spool; sets
 * *self_p to NULL. No other call may be running or start on the spool. */
void dray__spool_close(dray__spool **self_p);

#endif
