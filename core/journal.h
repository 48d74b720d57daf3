/* journal.h - the ingress journal's record: what the runtime appends to
 * the durable spool (spool.h) for every accepted message, before the
 * source's emit returns OK.
 *
 *   "DRJ1"  u16 source-instance length, name,
 *           u16 destination count, each u16 length + instance name,
 *           then the packed message (dray__msg_pack)
 *
 * No destinations: route by the current routes when replayed (a restart
 * re-delivers what was not released). Named destinations: a dead letter
 * replayed to the instance that refused it, and only there. Integers are
 * little-endian; every length is checked when read. */
#ifndef DRAY_CORE_JOURNAL_H
#define DRAY_CORE_JOURNAL_H

#include <stddef.h>

#include "msg_internal.h"

struct dray__journal_record {
  char *source;  /* emitting instance */
  char **dests;  /* NULL-terminated; empty = route normally */
  size_t dest_count;
  dray_msg *msg;
};

int dray__journal_encode(dray_buf *out, const char *source, const char *const *dests,
                         size_t dest_count, const dray_msg *msg);
/* 0, or -1 with the reason in err. The record owns what it holds. */
int dray__journal_decode(const void *data, size_t len, struct dray__journal_record *rec,
                         char *err, size_t err_size);
void dray__journal_record_release(struct dray__journal_record *rec);

#endif
