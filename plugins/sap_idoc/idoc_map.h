/* idoc_map.h - mappings between IDocs and Dray's canonical JSON bodies
 * (docs/schemas), documented field by field in README.md. */
#ifndef SAP_IDOC_MAP_H
#define SAP_IDOC_MAP_H

#include <json-c/json.h>

#include "idoc.h"

/* Envelope attributes the plugin sets on each canonical message. */
struct idoc_headers {
  char subject[128];
  char partitionkey[128];
  char correlationid[200];
  char idempotencykey[200];
};

/* Receives one canonical message: ownership of body moves to the callee
 * (json_object_put it). Returns 0, or -1 to stop the mapping. */
typedef int (*idoc_emit_fn)(void *ctx, const char *type, json_object *body,
                            const struct idoc_headers *h, int doc);

struct idoc_map_opts {
  const char *tz; /* offset of SAP's local times: "Z" (default), "+01:00" */
};

/* Maps IDoc `doc` of the set to canonical messages (one or more: SYSTAT01
 * gives one ack per status record). Returns 0; 1 when the IDoc type has no
 * mapping; -1 with err naming DOCNUM/segment/field. */
int idoc_map_inbound(const idoc_set *set, int doc,
                     const struct idoc_map_opts *opts, idoc_emit_fn emit,
                     void *ctx, struct idoc_err *err);

/* Control record values for IDocs Dray writes toward SAP. */
struct idoc_out_opts {
  const char *mandt, *sndpor, *sndprt, *sndprn, *rcvpor, *rcvprt, *rcvprn;
  const char *docnum; /* may be NULL: SAP assigns on inbound */
  const char *credat, *cretim; /* YYYYMMDD, HHMMSS (now) */
  /* Resolves the SAP DOCNUM and MESTYP of the IDoc that produced event
   * `event_id` (for SYSTAT01 / ALEAUD01 feedback); returns 0 and fills
   * docnum (and mestyp, "" when unknown), or -1. */
  int (*docnum_of_event)(void *ctx, const char *event_id, char *docnum,
                         size_t docnum_size, char *mestyp, size_t mestyp_size);
  void *ctx;
};

/* Builds the IDoc for canonical message (type, body) into set. Returns 0;
 * 1 when the message is not relevant to the ERP (no mapping, or a
 * milestone SAP does not track) with the reason in err; -1 on bad input
 * with err naming the JSON path. */
int idoc_map_outbound(const idoc_registry *reg, const char *type,
                      const char *json, size_t len,
                      const struct idoc_out_opts *opts, idoc_set *set,
                      struct idoc_err *err);

/* --- helpers shared by the mappings (idoc_json.c) ------------------- */

/* "20240514" -> "2024-05-14"; returns 0 or -1 when not a date. */
int idoc_fmt_date(const char *yyyymmdd, char *out, size_t size);
/* date + time (HHMMSS or HHMM, may be empty) + offset -> RFC 3339. */
int idoc_fmt_datetime(const char *yyyymmdd, const char *hhmmss,
                      const char *tz, char *out, size_t size);
/* Decimal text ("1250.00", "12.5-", " 3") -> integer minor units with
 * `exp` decimals, rounding half away from zero. 0 or -1. */
int idoc_parse_minor(const char *s, int exp, int64_t *out);
/* Minor units -> decimal text with `exp` decimals. */
void idoc_fmt_minor(int64_t v, int exp, char *out, size_t size);
/* ISO 4217 minor-unit exponent (2 unless the currency has 0 or 3). */
int idoc_currency_exp(const char *cur);
/* A JSON number for a decimal text, keeping its spelling; NULL if not a
 * number or negative. */
json_object *idoc_json_decimal(const char *s);

/* JSON getters: NULL / fallback when absent or of another type. */
const char *idoc_jstr(json_object *o, const char *key);
json_object *idoc_jget(json_object *o, const char *key);
/* Adds key -> string when s is non-empty. */
void idoc_jadd_str(json_object *o, const char *key, const char *s);

#endif
