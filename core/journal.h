/* journal.h - the ingress journal's record: what the runtime appends to
 * the durable spool (spool.h) for every accepted message, before the
 * source's emit returns OK.
 *
 *   "DRJ2"  u8 flags,
 *           u16 source-instance length, name,
 *           u16 destination count, each u16 length + instance name,
 *           then the packed message (dray__msg_pack)
 *
 * ("DRJ1", written before the backlog existed, is the same without the
 * flags byte, and is still read.) Flag DRAY__JOURNAL_QUEUED: the message
 * was not handed to the lanes at ingress (they were full, or a backlog
 * was already waiting); the journal feeder delivers it from here, in
 * sequence order.
 *
 * No destinations: route by the current routes when replayed (a restart
 * re-delivers what was not released). Named destinations: a dead letter
 * replayed to the instance that refused it, and only there. Integers are
 * little-endian; every length is checked when read. */
#ifndef DRAY_CORE_JOURNAL_H
#define DRAY_CORE_JOURNAL_H

#include <stddef.h>

#include "msg_internal.h"

#define DRAY__JOURNAL_QUEUED 0x01u

struct dray__journal_record {
  unsigned flags;
  char *source;  /* emitting instance */
  char **dests;  /* NULL-terminated; empty = route normally */
  size_t dest_count;
  dray_msg *msg;
};

int dray__journal_encode(dray_buf *out, const char *source, const char *const *dests,
                         size_t dest_count, unsigned flags, const dray_msg *msg);
/* The flags of an encoded record without decoding it; -1 if it is not a
 * journal record. */
int dray__journal_peek_flags(const void *data, size_t len);
/* 0, or -1 with the reason in err. The record owns what it holds. */
int dray__journal_decode(const void *data, size_t len, struct dray__journal_record *rec,
                         char *err, size_t err_size);
void dray__journal_record_release(struct dray__journal_record *rec);

#endif
