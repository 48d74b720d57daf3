/* dlq_ops.h - what an operator does with dead letters: list, show,
 * replay, purge. The same code runs in `dray dlq` (when no runtime holds
 * the data_dir) and inside `dray run` (when one does: the command leaves
 * a request in DATA_DIR/requests/ and reads the answer). */
#ifndef DRAY_CORE_DLQ_OPS_H
#define DRAY_CORE_DLQ_OPS_H

#include <stdio.h>

#include "dlq.h"
#include "journal.h"
#include "spool.h"

struct json_object;

enum dray__dlq_action { DRAY_DLQ_LIST, DRAY_DLQ_SHOW, DRAY_DLQ_REPLAY, DRAY_DLQ_PURGE };

struct dray__dlq_op {
  enum dray__dlq_action action;
  struct dray__dlq_filter filter;
  int json; /* output JSON Lines instead of a table */
};

/* For replays in a running runtime: hand the re-journaled record to its
 * destination now (offline, the next start replays it from the journal). */
typedef int (*dray__dlq_inject_fn)(void *ctx, uint64_t journal_seq,
                                   struct dray__journal_record *rec);

/* Runs op over the dead letters. Output (table or JSON Lines) goes to out;
 * progress lines ("replayed N of M") to progress when not NULL. Returns
 * the number of dead letters that matched, or -1 on an error (message in
 * err). */
long dray__dlq_run(dray__spool *dlq, dray__spool *journal, const struct dray__dlq_op *op,
                   dray__dlq_inject_fn inject, void *inject_ctx, FILE *out, FILE *progress,
                   char *err, size_t err_size);

/* The request form of an op (for a running runtime), and back. */
struct json_object *dray__dlq_op_to_json(const struct dray__dlq_op *op);
/* Fills op from JSON; strings point into `o` (keep it alive). 0 or -1. */
int dray__dlq_op_from_json(struct json_object *o, struct dray__dlq_op *op);

#endif
