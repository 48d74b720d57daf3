/* x12_encode.c - see x12_encode.h and README.md ("Encoding"). */
#include "x12_encode.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_codes.h"
#include "x12_map.h"

static const struct {
  const char *type, *set, *gs01;
} kinds[] = {
    {"dray.invoice.finalized.v1", "810", "IN"},
    {"dray.invoice.received.v1", "810", "IN"},
    {"dray.shipment.tendered.v1", "204", "SM"},
    {"dray.shipment.tender_response.v1", "990", "GF"},
    {"dray.order.created.v1", "850", "PO"},
    {"dray.shipment.milestone.v1", "214", "QM"},
};

const char *x12_encode_set_for_type(const char *type) {
  for (size_t i = 0; type && i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (strcmp(kinds[i].type, type) == 0) return kinds[i].set;
  return NULL;
}

static const char *gs01_for(const char *set) {
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (strcmp(kinds[i].set, set) == 0) return kinds[i].gs01;
  return "ZZ";
}

/* --- JSON access -------------------------------------------------- */

static json_object *get(json_object *o, const char *key) {
  json_object *v = NULL;
  if (o && json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, key, &v);
  return v;
}

static const char *gs(json_object *o, const char *key) {
  json_object *v = get(o, key);
  if (!v || json_object_is_type(v, json_type_null)) return NULL;
  if (json_object_is_type(v, json_type_object) ||
      json_object_is_type(v, json_type_array))
    return NULL;
  return json_object_get_string(v);
}

/* First of several keys that is present. */
static const char *gs2(json_object *o, const char *a, const char *b) {
  const char *v = gs(o, a);
  return v ? v : gs(o, b);
}

/* "2010-11-27" or "2010-11-27T..." -> "20101127"; NULL if not a date. */
static const char *date8(const char *iso, char *out) {
  if (!iso || strlen(iso) < 10 || iso[4] != '-' || iso[7] != '-') return NULL;
  snprintf(out, 9, "%.4s%.2s%.2s", iso, iso + 5, iso + 8);
  return out;
}

/* "...THH:MM[:SS]..." -> "HHMM"; NULL if no time. */
static const char *time4(const char *iso, char *out) {
  if (!iso || strlen(iso) < 16 || iso[10] != 'T') return NULL;
  snprintf(out, 5, "%.2s%.2s", iso + 11, iso + 14);
  return out;
}

/* Money object or number -> N2 digits ("5165"); NULL when absent. */
static const char *n2(json_object *m, char *out, size_t size) {
  if (!m) return NULL;
  long long minor;
  json_object *am = get(m, "amount_minor");
  if (json_object_is_type(m, json_type_int)) am = m;
  if (am && json_object_is_type(am, json_type_int)) {
    snprintf(out, size, "%lld", (long long)json_object_get_int64(am));
    return out;
  }
  const char *a = gs(m, "amount");
  if (a && x12_decimal_minor(a, &minor) == 0) {
    snprintf(out, size, "%lld", minor);
    return out;
  }
  return NULL;
}

/* Money object or minor units -> explicit decimal ("9.25"). */
static const char *rdec(json_object *m, json_object *minor_alt, char *out,
                        size_t size) {
  const char *a = gs(m, "amount");
  if (a) {
    snprintf(out, size, "%s", a);
    return out;
  }
  json_object *am = get(m, "amount_minor");
  if (!am) am = minor_alt;
  if (am && json_object_is_type(am, json_type_int)) {
    long long v = json_object_get_int64(am);
    long long x = v < 0 ? -v : v;
    if (x % 100 == 0)
      snprintf(out, size, "%s%lld", v < 0 ? "-" : "", x / 100);
    else
      snprintf(out, size, "%s%lld.%02lld", v < 0 ? "-" : "", x / 100, x % 100);
    return out;
  }
  return NULL;
}

static void parties(struct x12_writer *w, json_object *list) {
  size_t n = list && json_object_is_type(list, json_type_array)
                 ? json_object_array_length(list)
                 : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *p = json_object_array_get_idx(list, i);
    const char *code = gs(p, "role_code");
    if (!code) code = x12_party_code(gs(p, "role"));
    if (!code) continue;
    x12w_begin(w, "N1");
    x12w_el(w, code);
    x12w_el(w, gs(p, "name"));
    x12w_el(w, gs(p, "id") ? gs(p, "id_qualifier") : NULL);
    x12w_el(w, gs(p, "id"));
    x12w_end(w);
    json_object *a = get(p, "address");
    json_object *lines = get(a, "lines");
    if (lines && json_object_array_length(lines) > 0) {
      x12w_begin(w, "N3");
      for (size_t k = 0; k < json_object_array_length(lines) && k < 2; k++)
        x12w_el(w, json_object_get_string(json_object_array_get_idx(lines, k)));
      x12w_end(w);
    }
    if (gs(a, "city") || gs(a, "postal_code")) {
      x12w_begin(w, "N4");
      x12w_el(w, gs(a, "city"));
      x12w_el(w, gs(a, "state"));
      x12w_el(w, gs(a, "postal_code"));
      x12w_el(w, gs(a, "country"));
      x12w_end(w);
    }
  }
}

/* A single bill_to object (canonical invoice) written as N1*BT. */
static void bill_to(struct x12_writer *w, json_object *bt) {
  if (!bt || !json_object_is_type(bt, json_type_object)) return;
  json_object *copy = json_object_new_array();
  json_object *p = json_object_new_object();
  json_object_object_add(p, "role", json_object_new_string("bill_to"));
  const char *name = gs(bt, "name"), *id = gs(bt, "id");
  if (name) json_object_object_add(p, "name", json_object_new_string(name));
  if (id) {
    json_object_object_add(p, "id", json_object_new_string(id));
    json_object_object_add(p, "id_qualifier", json_object_new_string("92"));
  }
  json_object *addr = get(bt, "address");
  if (addr) json_object_object_add(p, "address", json_object_get(addr));
  json_object_array_add(copy, p);
  parties(w, copy);
  json_object_put(copy);
}

static size_t alen(json_object *a) {
  return a && json_object_is_type(a, json_type_array)
             ? json_object_array_length(a)
             : 0;
}

/* --- sets ----------------------------------------------------------- */

static int enc_810(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  char d[9], buf[48];
  const char *num = gs2(b, "invoice_number", "number");
  if (!num) num = gs(b, "id");
  const char *date = gs2(b, "invoice_date", "issue_date");
  if (!num || !date8(date, d)) {
    snprintf(err, esz, "$.data.%s: required for an 810 (BIG)",
             num ? "invoice_date" : "invoice_number");
    return -1;
  }
  json_object *orders = get(b, "order_refs");
  const char *po = alen(orders) ? json_object_get_string(json_object_array_get_idx(orders, 0)) : NULL;
  char pod[9];
  x12w_begin(w, "BIG");
  x12w_el(w, d);
  x12w_el(w, num);
  x12w_el(w, date8(gs(b, "po_date"), pod));
  x12w_el(w, po);
  x12w_end(w);
  const char *cur = gs(b, "currency");
  if (cur) {
    x12w_begin(w, "CUR");
    x12w_el(w, "SE");
    x12w_el(w, cur);
    x12w_end(w);
  }
  json_object *srefs = get(b, "shipment_refs");
  if (gs(srefs, "bol")) {
    x12w_begin(w, "REF"); x12w_el(w, "BM"); x12w_el(w, gs(srefs, "bol")); x12w_end(w);
  }
  if (gs(srefs, "pro")) {
    x12w_begin(w, "REF"); x12w_el(w, "CN"); x12w_el(w, gs(srefs, "pro")); x12w_end(w);
  }
  json_object *ships = get(b, "shipment_ids");
  for (size_t i = 0; i < alen(ships); i++) {
    x12w_begin(w, "REF");
    x12w_el(w, "SI");
    x12w_el(w, json_object_get_string(json_object_array_get_idx(ships, i)));
    x12w_end(w);
  }
  parties(w, get(b, "parties"));
  bill_to(w, get(b, "bill_to"));
  const char *due = gs(b, "due_date");
  char dd[9];
  if (date8(due, dd)) {
    x12w_begin(w, "ITD");
    x12w_el(w, "01"); x12w_el(w, "3"); x12w_el(w, NULL); x12w_el(w, NULL);
    x12w_el(w, NULL); x12w_el(w, dd);
    x12w_end(w);
  }
  json_object *lines = get(b, "lines");
  long long total = 0;
  int have_total = 0;
  for (size_t i = 0; i < alen(lines); i++) {
    json_object *l = json_object_array_get_idx(lines, i);
    char ln[24], qty[32], price[48];
    const char *line_no = gs(l, "line_no");
    snprintf(ln, sizeof(ln), "%s", line_no ? line_no : "");
    if (!line_no) snprintf(ln, sizeof(ln), "%zu", i + 1);
    const char *q = gs(l, "qty");
    snprintf(qty, sizeof(qty), "%s", q ? q : "1");
    const char *p = rdec(get(l, "unit_price"), get(l, "unit_price_minor"),
                         price, sizeof(price));
    if (!p) {
      snprintf(err, esz, "$.data.lines[%zu].unit_price: missing", i);
      return -1;
    }
    x12w_begin(w, "IT1");
    x12w_el(w, ln);
    x12w_el(w, qty);
    x12w_el(w, gs(l, "uom") ? gs(l, "uom") : "EA");
    x12w_el(w, p);
    x12w_el(w, NULL);
    json_object *ids = get(l, "item_ids");
    static const struct { const char *key, *q; } idq[] = {
        {"buyer_part", "BP"}, {"vendor_part", "VP"}, {"upc", "UP"},
        {"gtin", "EN"}, {"sku", "SK"}, {"buyer_item", "IN"}};
    for (size_t k = 0; k < sizeof(idq) / sizeof(idq[0]); k++)
      if (gs(ids, idq[k].key)) {
        x12w_el(w, idq[k].q);
        x12w_el(w, gs(ids, idq[k].key));
      }
    x12w_end(w);
    if (gs(l, "description")) {
      x12w_begin(w, "PID");
      x12w_el(w, "F"); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
      x12w_el(w, gs(l, "description"));
      x12w_end(w);
    }
  }
  json_object *totals = get(b, "totals");
  char tds[32];
  const char *t = n2(get(totals, "total"), tds, sizeof(tds));
  if (!t) t = n2(get(totals, "payable"), tds, sizeof(tds));
  if (!t) t = n2(get(totals, "sum"), tds, sizeof(tds));
  if (!t) {
    /* sum of line amounts when the body has no total */
    for (size_t i = 0; i < alen(lines); i++) {
      json_object *l = json_object_array_get_idx(lines, i);
      json_object *am = get(l, "amount_minor");
      if (!am) am = get(get(l, "amount"), "amount_minor");
      if (am) {
        total += json_object_get_int64(am);
        have_total = 1;
      }
    }
    if (!have_total) {
      snprintf(err, esz, "$.data.totals.total: missing (TDS01 is mandatory)");
      return -1;
    }
    snprintf(tds, sizeof(tds), "%lld", total);
    t = tds;
  }
  x12w_begin(w, "TDS");
  x12w_el(w, t);
  x12w_end(w);
  x12w_begin(w, "CTT");
  snprintf(buf, sizeof(buf), "%zu", alen(lines));
  x12w_el(w, buf);
  x12w_end(w);
  return 0;
}

static int enc_850(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  char d[9];
  const char *po = gs2(b, "po_number", "id");
  if (!po || !date8(gs(b, "order_date"), d)) {
    snprintf(err, esz, "$.data.%s: required for an 850 (BEG)",
             po ? "order_date" : "po_number");
    return -1;
  }
  const char *pc = x12_purpose_code(gs(b, "purpose"));
  x12w_begin(w, "BEG");
  x12w_el(w, pc ? pc : "00");
  x12w_el(w, gs(b, "order_type") ? gs(b, "order_type") : "SA");
  x12w_el(w, po);
  x12w_el(w, gs(b, "release_number"));
  x12w_el(w, d);
  x12w_end(w);
  if (gs(b, "currency")) {
    x12w_begin(w, "CUR"); x12w_el(w, "BY"); x12w_el(w, gs(b, "currency")); x12w_end(w);
  }
  json_object *refs = get(b, "references");
  for (size_t i = 0; i < alen(refs); i++) {
    json_object *r = json_object_array_get_idx(refs, i);
    x12w_begin(w, "REF"); x12w_el(w, gs(r, "qualifier")); x12w_el(w, gs(r, "value")); x12w_end(w);
  }
  json_object *dates = get(b, "dates");
  static const struct { const char *key, *q; } dq[] = {
      {"requested_delivery", "002"}, {"requested_ship", "010"},
      {"ship_not_before", "037"}, {"ship_no_later", "038"}};
  for (size_t i = 0; i < sizeof(dq) / sizeof(dq[0]); i++) {
    char dd[9];
    if (date8(gs(dates, dq[i].key), dd)) {
      x12w_begin(w, "DTM"); x12w_el(w, dq[i].q); x12w_el(w, dd); x12w_end(w);
    }
  }
  json_object *c = get(b, "carrier");
  if (gs(c, "scac") || gs(c, "routing")) {
    x12w_begin(w, "TD5"); x12w_el(w, NULL); x12w_el(w, gs(c, "scac") ? "2" : NULL);
    x12w_el(w, gs(c, "scac")); x12w_el(w, gs(c, "mode")); x12w_el(w, gs(c, "routing"));
    x12w_end(w);
  }
  parties(w, get(b, "parties"));
  json_object *lines = get(b, "lines");
  for (size_t i = 0; i < alen(lines); i++) {
    json_object *l = json_object_array_get_idx(lines, i);
    char price[48], ln[24];
    snprintf(ln, sizeof(ln), "%zu", i + 1);
    x12w_begin(w, "PO1");
    x12w_el(w, gs(l, "line_no") ? gs(l, "line_no") : ln);
    x12w_el(w, gs(l, "qty"));
    x12w_el(w, gs(l, "uom"));
    x12w_el(w, rdec(get(l, "unit_price"), get(l, "unit_price_minor"), price, sizeof(price)));
    x12w_el(w, gs(l, "price_basis"));
    json_object *ids = get(l, "item_ids");
    static const struct { const char *key, *q; } idq[] = {
        {"buyer_catalog", "CB"}, {"buyer_part", "BP"}, {"vendor_part", "VP"},
        {"upc", "UP"}, {"gtin", "EN"}, {"sku", "SK"}, {"buyer_item", "IN"}};
    for (size_t k = 0; k < sizeof(idq) / sizeof(idq[0]); k++)
      if (gs(ids, idq[k].key)) {
        x12w_el(w, idq[k].q);
        x12w_el(w, gs(ids, idq[k].key));
      }
    x12w_end(w);
    if (gs(l, "description")) {
      x12w_begin(w, "PID");
      x12w_el(w, "F"); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
      x12w_el(w, gs(l, "description"));
      x12w_end(w);
    }
  }
  char n[24];
  snprintf(n, sizeof(n), "%zu", alen(lines));
  x12w_begin(w, "CTT"); x12w_el(w, n); x12w_end(w);
  json_object *total = get(b, "total");
  char amt[48];
  if (rdec(total, NULL, amt, sizeof(amt))) {
    x12w_begin(w, "AMT"); x12w_el(w, "1"); x12w_el(w, amt); x12w_end(w);
  }
  return 0;
}

static void g62(struct x12_writer *w, const char *q, const char *iso) {
  char d[9], t[5];
  if (!date8(iso, d)) return;
  x12w_begin(w, "G62");
  x12w_el(w, q);
  x12w_el(w, d);
  if (time4(iso, t)) {
    x12w_el(w, "Y");
    x12w_el(w, t);
    /* the offset is kept: UT for Z/+00:00, else local time (LT) */
    size_t n = strlen(iso);
    x12w_el(w, (iso[n - 1] == 'Z' || (n >= 6 && !strcmp(iso + n - 6, "+00:00"))) ? "UT" : "LT");
  }
  x12w_end(w);
}

static int enc_204(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  const char *id = gs2(b, "shipment_id", "id");
  if (!id) {
    snprintf(err, esz, "$.data.shipment_id: required for a 204 (B204)");
    return -1;
  }
  const char *pm = gs(b, "payment_method");
  const char *pmc = !pm ? "PP" : !strcmp(pm, "prepaid") ? "PP"
                    : !strcmp(pm, "collect") ? "CC"
                    : !strcmp(pm, "third_party") ? "TP" : pm;
  x12w_begin(w, "B2");
  x12w_el(w, NULL);
  x12w_el(w, gs(get(b, "carrier"), "scac"));
  x12w_el(w, NULL);
  x12w_el(w, id);
  x12w_el(w, NULL);
  x12w_el(w, pmc);
  x12w_end(w);
  const char *pc = x12_purpose_code(gs(b, "purpose"));
  x12w_begin(w, "B2A"); x12w_el(w, pc ? pc : "00"); x12w_end(w);
  json_object *refs = get(b, "references");
  for (size_t i = 0; i < alen(refs); i++) {
    json_object *r = json_object_array_get_idx(refs, i);
    x12w_begin(w, "L11"); x12w_el(w, gs(r, "value")); x12w_el(w, gs(r, "qualifier")); x12w_end(w);
  }
  g62(w, "64", gs(get(b, "dates"), "respond_by"));
  parties(w, get(b, "parties"));
  json_object *stops = get(b, "stops");
  if (!alen(stops)) {
    snprintf(err, esz, "$.data.stops: a 204 needs at least one stop (S5)");
    return -1;
  }
  for (size_t i = 0; i < alen(stops); i++) {
    json_object *s = json_object_array_get_idx(stops, i);
    char seq[24];
    snprintf(seq, sizeof(seq), "%zu", i + 1);
    const char *type = gs(s, "type");
    const char *rc = gs(s, "reason_code");
    if (!rc) rc = type && !strcmp(type, "delivery") ? "UL" : "LD";
    x12w_begin(w, "S5");
    x12w_el(w, gs(s, "sequence") ? gs(s, "sequence") : seq);
    x12w_el(w, rc);
    json_object *wt = get(s, "weight");
    x12w_el(w, gs(wt, "value"));
    x12w_el(w, gs(wt, "value") ? (gs(wt, "qualifier") ? gs(wt, "qualifier") : "L") : NULL);
    x12w_el(w, gs(s, "units"));
    x12w_el(w, gs(s, "units") ? (gs(s, "units_uom") ? gs(s, "units_uom") : "PC") : NULL);
    x12w_end(w);
    json_object *srefs = get(s, "references");
    for (size_t k = 0; k < alen(srefs); k++) {
      json_object *r = json_object_array_get_idx(srefs, k);
      x12w_begin(w, "L11"); x12w_el(w, gs(r, "value")); x12w_el(w, gs(r, "qualifier")); x12w_end(w);
    }
    static const char *const gq[][2] = {
        {"scheduled_pickup", "69"}, {"scheduled_delivery", "70"},
        {"requested_pickup", "10"}, {"deliver_not_before", "53"},
        {"deliver_no_later", "54"}, {"ship_not_before", "37"},
        {"ship_no_later", "38"}};
    for (size_t k = 0; k < sizeof(gq) / sizeof(gq[0]); k++)
      g62(w, gq[k][1], gs(s, gq[k][0]));
    json_object *loc = get(s, "location");
    if (loc) {
      json_object *one = json_object_new_array();
      json_object_array_add(one, json_object_get(loc));
      parties(w, one);
      json_object_put(one);
    }
    json_object *ords = get(s, "orders");
    for (size_t k = 0; k < alen(ords); k++) {
      json_object *o = json_object_array_get_idx(ords, k);
      x12w_begin(w, "OID"); x12w_el(w, gs(o, "reference")); x12w_el(w, gs(o, "po_number")); x12w_end(w);
    }
  }
  json_object *t = get(b, "totals");
  char ch[32];
  if (t) {
    x12w_begin(w, "L3");
    x12w_el(w, gs(t, "weight"));
    x12w_el(w, gs(t, "weight") ? (gs(t, "weight_qualifier") ? gs(t, "weight_qualifier") : "G") : NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, n2(get(t, "charge"), ch, sizeof(ch)));
    x12w_end(w);
  }
  return 0;
}

static int enc_990(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  const char *id = gs(b, "shipment_id");
  const char *resp = gs(b, "response");
  const char *scac = gs(get(b, "carrier"), "scac");
  if (!id || !resp || !scac) {
    snprintf(err, esz, "$.data.%s: required for a 990 (B1)",
             !id ? "shipment_id" : !resp ? "response" : "carrier.scac");
    return -1;
  }
  char d[9];
  x12w_begin(w, "B1");
  x12w_el(w, scac);
  x12w_el(w, id);
  x12w_el(w, date8(gs(b, "response_date"), d));
  x12w_el(w, !strcmp(resp, "accepted") ? "A" : !strcmp(resp, "declined") ? "D" : resp);
  x12w_end(w);
  json_object *refs = get(b, "references");
  for (size_t i = 0; i < alen(refs); i++) {
    json_object *r = json_object_array_get_idx(refs, i);
    x12w_begin(w, "N9"); x12w_el(w, gs(r, "qualifier")); x12w_el(w, gs(r, "value")); x12w_end(w);
  }
  json_object *rem = get(b, "remarks");
  for (size_t i = 0; i < alen(rem); i++) {
    x12w_begin(w, "K1");
    x12w_el(w, json_object_get_string(json_object_array_get_idx(rem, i)));
    x12w_end(w);
  }
  return 0;
}

static int enc_214(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  const char *id = gs(b, "shipment_id");
  const char *scac = gs(get(b, "carrier"), "scac");
  json_object *raw = get(b, "raw");
  const char *code = gs(raw, "code");
  const char *at = gs(b, "occurred_at");
  if (!id || !scac || !code) {
    snprintf(err, esz, "$.data.%s: required for a 214",
             !id ? "shipment_id" : !scac ? "carrier.scac" : "raw.code");
    return -1;
  }
  x12w_begin(w, "B10");
  x12w_el(w, gs(b, "pro") ? gs(b, "pro") : id);
  x12w_el(w, id);
  x12w_el(w, scac);
  x12w_end(w);
  x12w_begin(w, "LX"); x12w_el(w, "1"); x12w_end(w);
  char d[9], t[5];
  int appt = json_object_get_boolean(get(b, "is_appointment"));
  x12w_begin(w, "AT7");
  x12w_el(w, appt ? NULL : code);
  x12w_el(w, appt ? NULL : (gs(raw, "reason_code") ? gs(raw, "reason_code") : "NS"));
  x12w_el(w, appt ? code : NULL);
  x12w_el(w, appt ? (gs(raw, "reason_code") ? gs(raw, "reason_code") : "NA") : NULL);
  x12w_el(w, date8(at, d));
  x12w_el(w, time4(at, t));
  if (at && strlen(at) >= 25) {
    /* keep the offset: a fixed X12 zone code when one matches */
    const char *off = at + strlen(at) - 6;
    static const char *const zones[][2] = {
        {"+00:00", "UT"}, {"-05:00", "ES"}, {"-04:00", "ED"}, {"-06:00", "CS"},
        {"-07:00", "MS"}, {"-08:00", "PS"}};
    const char *zc = "LT";
    for (size_t k = 0; k < sizeof(zones) / sizeof(zones[0]); k++)
      if (!strcmp(off, zones[k][0])) zc = zones[k][1];
    x12w_el(w, zc);
  }
  x12w_end(w);
  json_object *loc = get(b, "location");
  if (gs(loc, "city")) {
    x12w_begin(w, "MS1");
    x12w_el(w, gs(loc, "city")); x12w_el(w, gs(loc, "state")); x12w_el(w, gs(loc, "country"));
    x12w_end(w);
  }
  json_object *e = get(b, "equipment");
  if (gs(e, "number")) {
    x12w_begin(w, "MS2");
    x12w_el(w, gs(e, "scac") ? gs(e, "scac") : scac); x12w_el(w, gs(e, "number"));
    x12w_end(w);
  }
  return 0;
}

int x12_encode(const char *type, const char *body, size_t len,
               const struct x12_encode_options *o, struct x12_writer *w,
               char *err, size_t esz) {
  const char *set = x12_encode_set_for_type(type);
  if (!set) {
    snprintf(err, esz, "type %s has no X12 encoding", type ? type : "(null)");
    return -1;
  }
  struct json_tokener *tok = json_tokener_new();
  if (!tok) {
    snprintf(err, esz, "out of memory");
    return -1;
  }
  json_object *b = json_tokener_parse_ex(tok, body, (int)len);
  json_tokener_free(tok);
  if (!b || !json_object_is_type(b, json_type_object)) {
    snprintf(err, esz, "$.data: not a JSON object");
    json_object_put(b);
    return -1;
  }
  struct x12_isa_fields f = {o->sender_qual, o->sender_id, o->receiver_qual,
                             o->receiver_id, o->date8 + 2, o->time4,
                             o->isa_version, o->isa13, o->ack_requested,
                             o->usage};
  x12w_isa(w, &f);
  x12w_begin(w, "GS");
  x12w_el(w, gs01_for(set));
  x12w_el(w, o->sender_id);
  x12w_el(w, o->receiver_id);
  x12w_el(w, o->date8);
  x12w_el(w, o->time4);
  x12w_elf(w, "%ld", o->gs06);
  x12w_el(w, "X");
  x12w_el(w, o->gs_version);
  x12w_end(w);
  char st02[16];
  snprintf(st02, sizeof(st02), "%04ld", o->st02 % 1000000000L);
  x12w_begin(w, "ST");
  x12w_el(w, set);
  x12w_el(w, st02);
  x12w_end(w);
  w->set_segments = 1;
  int r;
  if (!strcmp(set, "810")) r = enc_810(w, b, err, esz);
  else if (!strcmp(set, "850")) r = enc_850(w, b, err, esz);
  else if (!strcmp(set, "204")) r = enc_204(w, b, err, esz);
  else if (!strcmp(set, "990")) r = enc_990(w, b, err, esz);
  else r = enc_214(w, b, err, esz);
  json_object_put(b);
  if (r < 0) return -1;
  x12w_begin(w, "SE");
  x12w_elf(w, "%u", w->set_segments + 1);
  x12w_el(w, st02);
  x12w_end(w);
  x12w_begin(w, "GE"); x12w_el(w, "1"); x12w_elf(w, "%ld", o->gs06); x12w_end(w);
  x12w_begin(w, "IEA"); x12w_el(w, "1"); x12w_elf(w, "%09ld", o->isa13 % 1000000000L); x12w_end(w);
  if (w->oom) {
    snprintf(err, esz, "out of memory");
    return -1;
  }
  return 0;
}
