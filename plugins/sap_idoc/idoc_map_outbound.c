/* idoc_map_outbound.c - canonical messages to IDocs toward SAP:
 *   dray.invoice.finalized.v1 (and .received.v1) -> INVOIC02 (MESTYP INVOIC)
 *   dray.shipment.milestone.v1 -> SHPMNT05 shipment status update
 *     (E1EDT20 TKNUM + E1EDT18 CHA + E1EDT10 actual deadline), only for the
 *     milestones SAP's shipment tracks (README: "ERP-relevant")
 *   dray.ack.received.v1 -> SYSTAT01 (MESTYP STATUS) for IDocs Dray passed
 *     on: 12/11 transport, 14/15 TA1, 16/17 997/999; a business ack (kind
 *     business: the message was processed) -> ALEAUD01 53/51
 * Field by field in README.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc_map.h"

struct out {
  const idoc_registry *reg;
  const struct idoc_type *t;
  idoc_set *set;
  int doc;
  struct idoc_err *err;
  int failed;
};

static int seg_new(struct out *o, int parent, const char *type) {
  const struct idoc_segdef *d = idoc_type_seg(o->t, type, strlen(type));
  int s = d ? idoc_set_add_seg(o->set, o->doc, parent, type, d) : -1;
  if (s < 0) o->failed = 1;
  return s;
}

/* Sets a field, counting characters: a value longer than the field is an
 * error naming the JSON path it came from. */
static void put(struct out *o, int seg, const char *field, const char *v,
                const char *path) {
  if (seg < 0 || !v || !*v) return;
  const struct idoc_segdef *d = o->set->segs[seg].def;
  int f = idoc_seg_field(d, field, strlen(field));
  if (f < 0) {
    o->failed = 1;
    return;
  }
  if (idoc_utf8_chars(v, strlen(v)) > d->fields[f].length && !o->err->msg[0]) {
    idoc_err_set(o->err, "%s: '%s' is longer than %s-%s (%u characters)",
                 path, v, d->type, field, d->fields[f].length);
    o->failed = 1;
    return;
  }
  if (idoc_seg_set(o->set, seg, field, v, strlen(v)) < 0) o->failed = 1;
}

static void put_date(struct out *o, int seg, const char *field,
                     const char *rfc, const char *path) {
  /* "2024-05-14" or "2024-05-14T..." -> 20240514 */
  if (!rfc || strlen(rfc) < 10 || rfc[4] != '-' || rfc[7] != '-') return;
  char d[9] = {rfc[0], rfc[1], rfc[2], rfc[3], rfc[5], rfc[6], rfc[8], rfc[9], 0};
  put(o, seg, field, d, path);
}

static void put_time(struct out *o, int seg, const char *field,
                     const char *rfc, const char *path) {
  if (!rfc || strlen(rfc) < 19 || rfc[10] != 'T') return;
  char t[7] = {rfc[11], rfc[12], rfc[14], rfc[15], rfc[17], rfc[18], 0};
  put(o, seg, field, t, path);
}

static void put_minor(struct out *o, int seg, const char *field,
                      json_object *v, int exp, const char *path) {
  if (!v || !json_object_is_type(v, json_type_int)) return;
  char buf[40];
  idoc_fmt_minor(json_object_get_int64(v), exp, buf, sizeof buf);
  /* SAP writes negative amounts with a trailing minus */
  if (buf[0] == '-') {
    memmove(buf, buf + 1, strlen(buf));
    strcat(buf, "-");
  }
  put(o, seg, field, buf, path);
}

static void put_num(struct out *o, int seg, const char *field, json_object *v,
                    const char *path) {
  if (!v || !(json_object_is_type(v, json_type_int) ||
              json_object_is_type(v, json_type_double)))
    return;
  put(o, seg, field, json_object_get_string(v), path);
}

static const char *parvw_of_role(const char *role) {
  static const char *map[][2] = {{"sold_to", "AG"}, {"ship_to", "WE"},
                                 {"bill_to", "RE"}, {"payer", "RG"},
                                 {"seller", "RS"},  {"remit_to", "RS"},
                                 {"vendor", "LF"},  {"carrier", "SP"},
                                 {"supplier", "LF"}, {NULL, NULL}};
  for (int i = 0; role && map[i][0]; i++)
    if (!strcmp(role, map[i][0])) return map[i][1];
  return NULL;
}

static int start_doc(struct out *o, const char *idoctyp, const char *mestyp,
                     const struct idoc_out_opts *op) {
  o->t = idoc_registry_find(o->reg, idoctyp);
  if (!o->t) {
    idoc_err_set(o->err, "no definitions for IDoc type %s", idoctyp);
    return -1;
  }
  o->doc = idoc_set_add_doc(o->set, o->t);
  if (o->doc < 0) return -1;
  struct {
    int f;
    const char *v;
  } dc[] = {{DC_MANDT, op->mandt},   {DC_DOCNUM, op->docnum},
            {DC_DIRECT, "2"},        {DC_IDOCTYP, idoctyp},
            {DC_MESTYP, mestyp},     {DC_SNDPOR, op->sndpor},
            {DC_SNDPRT, op->sndprt}, {DC_SNDPRN, op->sndprn},
            {DC_RCVPOR, op->rcvpor}, {DC_RCVPRT, op->rcvprt},
            {DC_RCVPRN, op->rcvprn}, {DC_CREDAT, op->credat},
            {DC_CRETIM, op->cretim}};
  for (size_t i = 0; i < sizeof dc / sizeof *dc; i++) {
    if (dc[i].v && strlen(dc[i].v) > idoc_dc40[dc[i].f].length) {
      idoc_err_set(o->err, "control record %s '%s' is longer than %u",
                   idoc_dc40[dc[i].f].name, dc[i].v, idoc_dc40[dc[i].f].length);
      return -1;
    }
    if (idoc_doc_set_dc(o->set, o->doc, dc[i].f, dc[i].v) < 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */

static int invoice(struct out *o, json_object *b,
                   const struct idoc_out_opts *op) {
  const char *cur = idoc_jstr(b, "currency");
  const char *number = idoc_jstr(b, "number");
  if (!cur || strlen(cur) != 3) {
    idoc_err_set(o->err, "$.data.currency: an ISO 4217 code is required");
    return -1;
  }
  if (!number) {
    idoc_err_set(o->err, "$.data.number: a finalized invoice has a number");
    return -1;
  }
  int exp = idoc_currency_exp(cur);
  if (start_doc(o, "INVOIC02", "INVOIC", op) < 0) return -1;
  const char *type = idoc_jstr(b, "type");
  int k01 = seg_new(o, -1, "E1EDK01");
  put(o, k01, "CURCY", cur, "$.data.currency");
  put(o, k01, "BELNR", number, "$.data.number");
  /* BSART: INVO invoice, CRME credit memo */
  put(o, k01, "BSART", type && !strcmp(type, "credit_note") ? "CRME" : "INVO",
      "$.data.type");
  json_object *pt = idoc_jget(b, "payment_terms");
  put(o, k01, "ZTERM", idoc_jstr(pt, "code"), "$.data.payment_terms.code");
  json_object *parties = idoc_jget(b, "parties");
  for (size_t i = 0; parties && i < json_object_array_length(parties); i++) {
    json_object *p = json_object_array_get_idx(parties, i);
    const char *parvw = parvw_of_role(idoc_jstr(p, "role"));
    if (!parvw) continue;
    char path[64];
    snprintf(path, sizeof path, "$.data.parties[%zu]", i);
    int ka1 = seg_new(o, -1, "E1EDKA1");
    put(o, ka1, "PARVW", parvw, path);
    put(o, ka1, "PARTN", idoc_jstr(p, "id"), path);
    put(o, ka1, "NAME1", idoc_jstr(p, "name"), path);
    json_object *a = idoc_jget(p, "address");
    json_object *st = idoc_jget(a, "street");
    if (st && json_object_array_length(st))
      put(o, ka1, "STRAS", json_object_get_string(json_object_array_get_idx(st, 0)), path);
    put(o, ka1, "ORT01", idoc_jstr(a, "city"), path);
    put(o, ka1, "PSTLZ", idoc_jstr(a, "postal_code"), path);
    put(o, ka1, "REGIO", idoc_jstr(a, "region"), path);
    put(o, ka1, "LAND1", idoc_jstr(a, "country"), path);
    put(o, ka1, "ILNNR", idoc_jstr(p, "gln"), path);
  }
  int k02 = seg_new(o, -1, "E1EDK02");
  put(o, k02, "QUALF", "009", "$.data.number");
  put(o, k02, "BELNR", number, "$.data.number");
  put_date(o, k02, "DATUM", idoc_jstr(b, "issue_date"), "$.data.issue_date");
  json_object *orefs = idoc_jget(b, "order_refs");
  for (size_t i = 0; orefs && i < json_object_array_length(orefs); i++) {
    json_object *r = json_object_array_get_idx(orefs, i);
    const char *po = idoc_jstr(r, "po_number");
    if (!po) po = idoc_jstr(r, "order_no");
    if (!po) continue;
    int s = seg_new(o, -1, "E1EDK02");
    put(o, s, "QUALF", "001", "$.data.order_refs");
    put(o, s, "BELNR", po, "$.data.order_refs");
  }
  json_object *srefs = idoc_jget(b, "shipment_refs");
  for (size_t i = 0; srefs && i < json_object_array_length(srefs); i++) {
    json_object *r = json_object_array_get_idx(srefs, i);
    const char *dn = idoc_jstr(r, "asn_no");
    if (!dn) dn = idoc_jstr(r, "bol_number");
    if (!dn) dn = idoc_jstr(r, "shipment_id");
    if (!dn) continue;
    int s = seg_new(o, -1, "E1EDK02");
    put(o, s, "QUALF", "012", "$.data.shipment_refs");
    put(o, s, "BELNR", dn, "$.data.shipment_refs");
  }
  const char *issue = idoc_jstr(b, "issue_date");
  if (issue) {
    const char *q[] = {"012", "016"};
    for (int i = 0; i < 2; i++) {
      int s = seg_new(o, -1, "E1EDK03");
      put(o, s, "IDDAT", q[i], "$.data.issue_date");
      put_date(o, s, "DATUM", issue, "$.data.issue_date");
    }
  }
  if (idoc_jstr(b, "due_date")) {
    int s = seg_new(o, -1, "E1EDK03");
    put(o, s, "IDDAT", "028", "$.data.due_date");
    put_date(o, s, "DATUM", idoc_jstr(b, "due_date"), "$.data.due_date");
  }
  json_object *taxes = idoc_jget(b, "taxes");
  for (size_t i = 0; taxes && i < json_object_array_length(taxes); i++) {
    json_object *tx = json_object_array_get_idx(taxes, i);
    int s = seg_new(o, -1, "E1EDK04");
    put(o, s, "MWSKZ", idoc_jstr(tx, "code"), "$.data.taxes");
    put(o, s, "MSATZ", idoc_jstr(tx, "rate_pct"), "$.data.taxes");
    put_minor(o, s, "MWSBT", idoc_jget(tx, "amount_minor"), exp, "$.data.taxes");
  }
  if (pt && (idoc_jget(pt, "net_days") || idoc_jstr(pt, "description"))) {
    int s = seg_new(o, -1, "E1EDK18");
    put(o, s, "QUALF", "001", "$.data.payment_terms");
    put_num(o, s, "TAGE", idoc_jget(pt, "net_days"), "$.data.payment_terms.net_days");
    put(o, s, "ZTERM_TXT", idoc_jstr(pt, "description"), "$.data.payment_terms");
  }
  json_object *lines = idoc_jget(b, "lines");
  size_t nlines = lines ? json_object_array_length(lines) : 0;
  for (size_t i = 0; i < nlines; i++) {
    json_object *l = json_object_array_get_idx(lines, i);
    char path[64], posex[16];
    snprintf(path, sizeof path, "$.data.lines[%zu]", i);
    const char *ln = idoc_jstr(l, "line_no");
    if (!ln) {
      snprintf(posex, sizeof posex, "%06zu", (i + 1) * 10);
      ln = posex;
    }
    int p01 = seg_new(o, -1, "E1EDP01");
    put(o, p01, "POSEX", ln, path);
    put_num(o, p01, "MENGE", idoc_jget(l, "qty"), path);
    put(o, p01, "MENEE", idoc_jstr(l, "uom"), path);
    put_minor(o, p01, "VPREI", idoc_jget(l, "unit_price_minor"), exp, path);
    put_num(o, p01, "PEINH", idoc_jget(l, "price_per"), path);
    put_minor(o, p01, "NETWR", idoc_jget(l, "amount_minor"), exp, path);
    json_object *ref = idoc_jget(l, "order_ref");
    if (ref && (idoc_jstr(ref, "po_number") || idoc_jstr(ref, "order_no"))) {
      int p02 = seg_new(o, p01, "E1EDP02");
      put(o, p02, "QUALF", "001", path);
      put(o, p02, "BELNR", idoc_jstr(ref, "po_number") ? idoc_jstr(ref, "po_number")
                                                       : idoc_jstr(ref, "order_no"),
          path);
      put(o, p02, "ZEILE", idoc_jstr(ref, "line_no"), path);
    }
    json_object *ids = idoc_jget(l, "item_ids");
    const char *idq[][2] = {{"buyer", "001"}, {"vendor", "002"},
                            {"material", "002"}, {"gtin", "003"}};
    const char *desc = idoc_jstr(l, "description");
    int wrote_vendor = 0;
    for (int k = 0; k < 4; k++) {
      const char *v = idoc_jstr(ids, idq[k][0]);
      if (!v || (!strcmp(idq[k][1], "002") && wrote_vendor++)) continue;
      int p19 = seg_new(o, p01, "E1EDP19");
      put(o, p19, "QUALF", idq[k][1], path);
      put(o, p19, "IDTNR", v, path);
      put(o, p19, "KTEXT", desc, path);
      desc = NULL;
    }
    if (desc || idoc_jstr(l, "charge_code")) {
      /* a charge line: the description and code travel as a condition */
      int p05 = seg_new(o, p01, "E1EDP05");
      json_object *amt = idoc_jget(l, "amount_minor");
      int neg = amt && json_object_get_int64(amt) < 0;
      put(o, p05, "ALCKZ", neg ? "-" : "+", path);
      put(o, p05, "KOTXT", desc ? desc : idoc_jstr(l, "charge_code"), path);
      put_minor(o, p05, "BETRG", amt, exp, path);
    }
    int p26 = seg_new(o, p01, "E1EDP26");
    put(o, p26, "QUALF", "003", path);
    put_minor(o, p26, "BETRG", idoc_jget(l, "amount_minor"), exp, path);
    json_object *tx = idoc_jget(l, "tax");
    if (tx) {
      int p04 = seg_new(o, p01, "E1EDP04");
      put(o, p04, "MWSKZ", idoc_jstr(tx, "code"), path);
      put(o, p04, "MSATZ", idoc_jstr(tx, "rate_pct"), path);
      put_minor(o, p04, "MWSBT", idoc_jget(tx, "amount_minor"), exp, path);
    }
  }
  json_object *tot = idoc_jget(b, "totals");
  int s = seg_new(o, -1, "E1EDS01");
  char cnt[16];
  snprintf(cnt, sizeof cnt, "%zu", nlines);
  put(o, s, "SUMID", "001", "$.data.lines");
  put(o, s, "SUMME", cnt, "$.data.lines");
  struct {
    const char *id, *key;
  } sums[] = {{"010", "net_minor"}, {"005", "tax_minor"}, {"011", "payable_minor"}};
  for (int i = 0; tot && i < 3; i++) {
    json_object *v = idoc_jget(tot, sums[i].key);
    if (!v) continue;
    int t = seg_new(o, -1, "E1EDS01");
    char path[64];
    snprintf(path, sizeof path, "$.data.totals.%s", sums[i].key);
    put(o, t, "SUMID", sums[i].id, path);
    put_minor(o, t, "SUMME", v, exp, path);
    put(o, t, "WAERQ", cur, path);
  }
  return o->failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */

/* Milestones SAP's shipment (VTTK deadlines) tracks, and the E1EDT10
 * qualifier Dray writes for each; others are not posted to the ERP. */
static const char *shpmnt_qualf(const char *status) {
  static const char *map[][2] = {
      {"arrived_pickup", "002"},  /* check-in */
      {"loading_started", "003"}, /* loading start */
      {"loaded", "004"},          /* loading end */
      {"picked_up", "006"},       /* shipment start */
      {"departed_pickup", "006"},
      {"delivered", "007"},       /* shipment end */
      {"unloaded", "007"},
      {NULL, NULL}};
  for (int i = 0; status && map[i][0]; i++)
    if (!strcmp(status, map[i][0])) return map[i][1];
  return NULL;
}

static const char *tknum_of(json_object *b) {
  json_object *er = idoc_jget(b, "external_refs");
  for (size_t i = 0; er && i < json_object_array_length(er); i++) {
    json_object *r = json_object_array_get_idx(er, i);
    const char *sys = idoc_jstr(r, "system"), *t = idoc_jstr(r, "type");
    if (sys && !strncmp(sys, "sap", 3) && t && !strcmp(t, "TKNUM"))
      return idoc_jstr(r, "value");
  }
  /* shipments decoded from SHPMNT carry id "sap:<SNDPRN>:shipment:<TKNUM>" */
  const char *sid = idoc_jstr(b, "shipment_id");
  const char *p = sid ? strstr(sid, ":shipment:") : NULL;
  if (sid && !strncmp(sid, "sap:", 4) && p) return p + 10;
  return NULL;
}

static int milestone(struct out *o, json_object *b,
                     const struct idoc_out_opts *op) {
  const char *status = idoc_jstr(b, "status");
  const char *q = shpmnt_qualf(status);
  if (!q) {
    idoc_err_set(o->err, "milestone status '%s' is not tracked by SAP "
                 "shipments: not posted", status ? status : "(none)");
    return 1;
  }
  const char *tknum = tknum_of(b);
  if (!tknum) {
    idoc_err_set(o->err, "$.data.external_refs: no SAP shipment number (an "
                 "external_ref of type TKNUM, or a shipment_id from SAP): "
                 "not an SAP shipment, not posted");
    return 1;
  }
  const char *at = idoc_jstr(b, "occurred_at");
  if (!at) {
    idoc_err_set(o->err, "$.data.occurred_at: required");
    return -1;
  }
  if (start_doc(o, "SHPMNT05", "SHPMNT", op) < 0) return -1;
  int t20 = seg_new(o, -1, "E1EDT20");
  put(o, t20, "TKNUM", tknum, "$.data.external_refs");
  int t18 = seg_new(o, t20, "E1EDT18");
  put(o, t18, "QUALF", "CHA", "$.data");
  int t10 = seg_new(o, t20, "E1EDT10");
  put(o, t10, "QUALF", q, "$.data.status");
  /* the local clock time as sent, its offset in TZONE_BEG */
  put_date(o, t10, "ISDD", at, "$.data.occurred_at");
  put_time(o, t10, "ISDZ", at, "$.data.occurred_at");
  const char *tz = idoc_jstr(b, "tz_offset");
  if (!tz && strlen(at) > 19) tz = at + 19;
  while (tz && *tz == '.') { /* fractional seconds */
    tz++;
    while (isdigit((unsigned char)*tz)) tz++;
  }
  if (tz && *tz) put(o, t10, "TZONE_BEG", !strcmp(tz, "Z") ? "UTC" : tz,
                     "$.data.tz_offset");
  put(o, t10, "EVENT", status, "$.data.status");
  return o->failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */

/* ALEAUD01: the receiving side's confirmation that it processed an IDoc
 * SAP sent (SAP then sets 39/40/41 on its outbound IDoc). */
static int aleaud(struct out *o, json_object *b, const struct idoc_out_opts *op,
                  const char *docnum, const char *mestyp, int ok) {
  if (start_doc(o, "ALEAUD01", "ALEAUD", op) < 0) return -1;
  int hdr = seg_new(o, -1, "E1ADHDR");
  put(o, hdr, "MESTYP", strlen(mestyp) <= 6 ? mestyp : "", "$.data");
  put(o, hdr, "MESTYP_LNG", mestyp, "$.data");
  int st = seg_new(o, hdr, "E1STATE");
  put(o, st, "DOCNUM", docnum, "$.data.idoc_number");
  /* 53: application document posted; 51: not posted */
  put(o, st, "STATUS", ok ? "53" : "51", "$.data.status");
  put(o, st, "STATYP", ok ? "S" : "E", "$.data.status");
  json_object *e = idoc_jget(b, "error");
  const char *text = e ? idoc_jstr(e, "message") : NULL;
  char buf[71];
  if (text) snprintf(buf, sizeof buf, "%s", text);
  else snprintf(buf, sizeof buf, "%s by Dray", ok ? "processed" : "rejected");
  put(o, st, "STATXT", buf, "$.data.error.message");
  json_object *ids = idoc_jget(b, "produced_event_ids");
  const char *key = ids && json_object_array_length(ids)
                        ? json_object_get_string(json_object_array_get_idx(ids, 0))
                        : idoc_jstr(b, "ref_event_id");
  if (key) {
    int ob = seg_new(o, st, "E1PRTOB");
    put(o, ob, "DOCNUM", docnum, "$.data.idoc_number");
    put(o, ob, "OBJTYPE", "DRAY", "$.data");
    char k[71];
    snprintf(k, sizeof k, "%s", key);
    put(o, ob, "OBJKEY", k, "$.data.produced_event_ids");
  }
  return o->failed ? -1 : 0;
}

static int ack(struct out *o, json_object *b, const struct idoc_out_opts *op) {
  char docnum[20] = "", mestyp[40] = "";
  const char *ref = idoc_jstr(b, "ref_event_id");
  if (ref && op->docnum_of_event &&
      op->docnum_of_event(op->ctx, ref, docnum, sizeof docnum, mestyp,
                          sizeof mestyp) == 0) {
  } else if (idoc_jstr(b, "idoc_number")) {
    snprintf(docnum, sizeof docnum, "%s", idoc_jstr(b, "idoc_number"));
  } else {
    idoc_err_set(o->err, "ack of %s: the acknowledged message did not come "
                 "from an SAP IDoc: no status to report", ref ? ref : "?");
    return 1;
  }
  const char *protocol = idoc_jstr(b, "protocol");
  const char *status = idoc_jstr(b, "status");
  if (!status) {
    idoc_err_set(o->err, "$.data.status: required");
    return -1;
  }
  int ok = strcmp(status, "rejected") != 0;
  const char *kind = idoc_jstr(b, "kind");
  if (kind && !strcmp(kind, "business") &&
      !(protocol && !strcmp(protocol, "idoc_status"))) {
    char padded_b[17];
    size_t bl = strlen(docnum);
    if (bl == 0 || bl > 16) {
      idoc_err_set(o->err, "IDoc number '%s' is not 1..16 digits", docnum);
      return -1;
    }
    memset(padded_b, '0', 16 - bl);
    memcpy(padded_b + 16 - bl, docnum, bl);
    padded_b[16] = 0;
    return aleaud(o, b, op, padded_b, mestyp, ok);
  }
  const char *code;
  if (protocol && (!strcmp(protocol, "x12_997") || !strcmp(protocol, "x12_999")))
    code = ok ? "16" : "17";
  else if (protocol && !strcmp(protocol, "x12_ta1"))
    code = ok ? "14" : "15";
  else if (protocol && !strcmp(protocol, "idoc_status")) {
    idoc_err_set(o->err, "ack of %s is itself an IDoc status: not echoed "
                 "back to SAP", ref ? ref : "?");
    return 1;
  } else
    code = ok ? "12" : "11"; /* dispatch OK / dispatch error */
  if (start_doc(o, "SYSTAT01", "STATUS", op) < 0) return -1;
  int s = seg_new(o, -1, "E1STATS");
  char padded[17];
  size_t dl = strlen(docnum);
  if (dl > 16 || dl == 0) {
    idoc_err_set(o->err, "IDoc number '%s' is not 1..16 digits", docnum);
    return -1;
  }
  memset(padded, '0', 16 - dl);
  memcpy(padded + 16 - dl, docnum, dl);
  padded[16] = 0;
  put(o, s, "TABNAM", "EDI_DS40", "$.data");
  put(o, s, "MANDT", op->mandt, "$.data");
  put(o, s, "DOCNUM", padded, "$.data.idoc_number");
  const char *when = idoc_jstr(b, "received_at");
  if (when) {
    put_date(o, s, "LOGDAT", when, "$.data.received_at");
    put_time(o, s, "LOGTIM", when, "$.data.received_at");
  } else {
    put(o, s, "LOGDAT", op->credat, "$.data");
    put(o, s, "LOGTIM", op->cretim, "$.data");
  }
  put(o, s, "STATUS", code, "$.data.status");
  put(o, s, "STATYP", ok ? "S" : "E", "$.data.status");
  json_object *e = idoc_jget(b, "error");
  char text[71];
  const char *partner = idoc_jstr(b, "partner");
  snprintf(text, sizeof text, "%s %s%s%s", protocol ? protocol : "transport",
           status, partner ? " by " : "", partner ? partner : "");
  if (e && idoc_jstr(e, "message"))
    snprintf(text, sizeof text, "%s", idoc_jstr(e, "message"));
  put(o, s, "STATXT", text, "$.data.error.message");
  json_object *cn = idoc_jget(b, "control_numbers");
  put(o, s, "REFINT", idoc_jstr(cn, "interchange"), "$.data.control_numbers");
  put(o, s, "REFGRP", idoc_jstr(cn, "group"), "$.data.control_numbers");
  put(o, s, "REFMES", idoc_jstr(cn, "transaction_set"), "$.data.control_numbers");
  return o->failed ? -1 : 0;
}

int idoc_map_outbound(const idoc_registry *reg, const char *type,
                      const char *json, size_t len,
                      const struct idoc_out_opts *opts, idoc_set *set,
                      struct idoc_err *err) {
  struct out o = {reg, NULL, set, -1, err, 0};
  err->msg[0] = 0;
  json_tokener *tok = json_tokener_new();
  if (!tok) return -1;
  json_object *b = json_tokener_parse_ex(tok, json, (int)len);
  enum json_tokener_error je = json_tokener_get_error(tok);
  json_tokener_free(tok);
  if (!b || je != json_tokener_success ||
      !json_object_is_type(b, json_type_object)) {
    json_object_put(b);
    idoc_err_set(err, "$.data: not a JSON object (%s)",
                 json_tokener_error_desc(je));
    return -1;
  }
  int rc;
  if (!strcmp(type, "dray.invoice.finalized.v1") ||
      !strcmp(type, "dray.invoice.credit_note.v1"))
    rc = invoice(&o, b, opts);
  else if (!strcmp(type, "dray.shipment.milestone.v1"))
    rc = milestone(&o, b, opts);
  else if (!strcmp(type, "dray.ack.received.v1"))
    rc = ack(&o, b, opts);
  else {
    idoc_err_set(err, "%s has no IDoc mapping: not posted to SAP", type);
    rc = 1;
  }
  json_object_put(b);
  if (rc < 0 && !err->msg[0]) idoc_err_set(err, "out of memory");
  return rc;
}
