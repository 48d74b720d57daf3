/* ledger.h - the idempotency ledger of destinations with financial
 * effects (`effects: financial`): one row per idempotency key,
 *
 *   pending -> attempting -> committed(reference)
 *                        \-> in-doubt (outcome unknown)
 *
 * kept in the site's durable state store (namespace "ledger/INSTANCE").
 * A row left in `attempting` by an earlier run (a crash mid-call) reads
 * as in-doubt: nobody knows whether the effect happened. */
#ifndef DRAY_CORE_LEDGER_H
#define DRAY_CORE_LEDGER_H

#include <stddef.h>

#include "state_store.h"

enum dray__ledger_state {
  DRAY_LEDGER_NONE, /* never seen */
  DRAY_LEDGER_PENDING,
  DRAY_LEDGER_ATTEMPTING,
  DRAY_LEDGER_COMMITTED,
  DRAY_LEDGER_IN_DOUBT
};

/* Reads the row of `key`. 0 with *state (and the reference of a committed
 * effect in ref, "" otherwise), -1 on a store error. */
int dray__ledger_get(dray__state *store, const char *instance, const char *key,
                     enum dray__ledger_state *state, char *ref, size_t ref_size);
/* Writes the row durably before returning. 0 or -1. */
int dray__ledger_set(dray__state *store, const char *instance, const char *key,
                     enum dray__ledger_state state, const char *ref);
const char *dray__ledger_state_name(enum dray__ledger_state s);

#endif
