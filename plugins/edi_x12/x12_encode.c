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

/* The X12 time code that keeps an RFC 3339 offset (UT, ES/ED, CS/CD, ...),
 * or "LT" when no fixed code matches. */
static const char *zone_code(const char *iso) {
  static const char *const zones[][2] = {
      {"+00:00", "UT"}, {"-05:00", "ES"}, {"-04:00", "ED"}, {"-06:00", "CS"},
      {"-07:00", "MS"}, {"-08:00", "PS"}, {"-10:00", "HS"}};
  size_t n = iso ? strlen(iso) : 0;
  if (n && iso[n - 1] == 'Z') return "UT";
  if (n < 6) return "LT";
  for (size_t k = 0; k < sizeof(zones) / sizeof(zones[0]); k++)
    if (!strcmp(iso + n - 6, zones[k][0])) return zones[k][1];
  return "LT";
}

/* Minor units (with price_per) -> explicit decimal: 925 -> "9.25",
 * 3535 per 10 -> "3.535". */
static const char *minor_decimal(long long v, long long per, char *out,
                                 size_t size) {
  int scale = 2;
  while (per > 1) {
    per /= 10;
    scale++;
  }
  long long p10 = 1;
  for (int i = 0; i < scale; i++) p10 *= 10;
  long long x = v < 0 ? -v : v;
  if (x % p10 == 0)
    snprintf(out, size, "%s%lld", v < 0 ? "-" : "", x / p10);
  else {
    char frac[24];
    snprintf(frac, sizeof(frac), "%0*lld", scale, x % p10);
    for (size_t k = strlen(frac); k > 0 && frac[k - 1] == '0'; k--) frac[k - 1] = '\0';
    snprintf(out, size, "%s%lld.%s", v < 0 ? "-" : "", x / p10, frac);
  }
  return out;
}

static long long gi(json_object *o, const char *key, long long fallback) {
  json_object *v = get(o, key);
  return v && (json_object_is_type(v, json_type_int) ||
               json_object_is_type(v, json_type_double))
             ? json_object_get_int64(v)
             : fallback;
}

static size_t alen(json_object *a) {
  return a && json_object_is_type(a, json_type_array)
             ? json_object_array_length(a)
             : 0;
}

/* X12 qualifier for a canonical reference. */
static const char *ref_qualifier(json_object *r) {
  static const char *const t[][2] = {
      {"bol", "BM"}, {"pro", "CN"}, {"po", "PO"}, {"shipment", "SI"},
      {"invoice", "IV"}, {"department", "DP"}, {"vendor", "IA"},
      {"vendor_order", "VN"}, {"customer", "CR"}, {"lot", "LT"},
      {"seal", "SN"}, {"appointment", "AO"}, {"stop", "QN"}, {"other", "ZZ"}};
  const char *q = gs(r, "qualifier_raw");
  if (q) return q;
  const char *type = gs(r, "type");
  for (size_t i = 0; type && i < sizeof(t) / sizeof(t[0]); i++)
    if (!strcmp(t[i][0], type)) return t[i][1];
  return type && strlen(type) <= 3 ? type : "ZZ";
}

static void references(struct x12_writer *w, json_object *refs,
                       const char *tag, int value_first) {
  for (size_t i = 0; i < alen(refs); i++) {
    json_object *r = json_object_array_get_idx(refs, i);
    x12w_begin(w, tag);
    if (value_first) {
      x12w_el(w, gs(r, "value"));
      x12w_el(w, ref_qualifier(r));
    } else {
      x12w_el(w, ref_qualifier(r));
      x12w_el(w, gs(r, "value"));
    }
    x12w_end(w);
  }
}

static void party(struct x12_writer *w, json_object *p) {
  const char *code = gs(p, "role_raw");
  if (!code) code = x12_party_code(gs(p, "role"));
  if (!code) return;
  json_object *a = get(p, "address");
  x12w_begin(w, "N1");
  x12w_el(w, code);
  x12w_el(w, gs(p, "name") ? gs(p, "name") : gs(a, "name"));
  x12w_el(w, gs(p, "id") ? (gs(p, "id_qualifier") ? gs(p, "id_qualifier") : "92") : NULL);
  x12w_el(w, gs(p, "id"));
  x12w_end(w);
  json_object *street = get(a, "street");
  if (alen(street)) {
    x12w_begin(w, "N3");
    for (size_t k = 0; k < alen(street) && k < 2; k++)
      x12w_el(w, json_object_get_string(json_object_array_get_idx(street, k)));
    x12w_end(w);
  }
  if (gs(a, "city") || gs(a, "postal_code")) {
    x12w_begin(w, "N4");
    x12w_el(w, gs(a, "city"));
    x12w_el(w, gs(a, "region"));
    x12w_el(w, gs(a, "postal_code"));
    x12w_el(w, gs(a, "country"));
    x12w_end(w);
  }
  json_object *c = get(p, "contact");
  if (c && (gs(c, "name") || gs(c, "phone") || gs(c, "email"))) {
    x12w_begin(w, "PER");
    x12w_el(w, "IC");
    x12w_el(w, gs(c, "name"));
    if (gs(c, "phone")) {
      x12w_el(w, "TE");
      x12w_el(w, gs(c, "phone"));
    }
    if (gs(c, "email")) {
      x12w_el(w, "EM");
      x12w_el(w, gs(c, "email"));
    }
    x12w_end(w);
  }
}

static void parties(struct x12_writer *w, json_object *list) {
  for (size_t i = 0; i < alen(list); i++)
    party(w, json_object_array_get_idx(list, i));
}

/* Item id pairs for PO1/IT1/LIN. */
static void item_id_pairs(struct x12_writer *w, json_object *ids) {
  static const struct { const char *key, *q; } idq[] = {
      {"buyer", "BP"}, {"vendor", "VP"}, {"upc", "UP"},
      {"gtin", "EN"},  {"sku", "SK"}};
  for (size_t k = 0; k < sizeof(idq) / sizeof(idq[0]); k++)
    if (gs(ids, idq[k].key)) {
      x12w_el(w, idq[k].q);
      x12w_el(w, gs(ids, idq[k].key));
    }
  /* x12_<qualifier> keys keep qualifiers we have no canonical name for */
  if (ids && json_object_is_type(ids, json_type_object)) {
    json_object_object_foreach(ids, key, val) {
      if (!strncmp(key, "x12_", 4) && strlen(key) <= 6) {
        x12w_el(w, key + 4);
        x12w_el(w, json_object_get_string(val));
      }
    }
  }
}

/* Unit price of a line: unit_price_minor (+price_per), or amount / qty. */
static const char *line_price(json_object *l, char *out, size_t size) {
  json_object *up = get(l, "unit_price_minor");
  if (up) return minor_decimal(json_object_get_int64(up), gi(l, "price_per", 1), out, size);
  const char *rate = gs(l, "rate");
  if (rate) {
    snprintf(out, size, "%s", rate);
    return out;
  }
  json_object *am = get(l, "amount_minor");
  json_object *q = get(l, "qty");
  if (am) {
    double qty = q ? json_object_get_double(q) : 1;
    if (qty <= 0) qty = 1;
    double v = (double)json_object_get_int64(am) / 100.0 / qty;
    snprintf(out, size, "%.4f", v);
    /* trim trailing zeros */
    for (size_t k = strlen(out); k > 0 && out[k - 1] == '0'; k--) out[k - 1] = '\0';
    if (out[strlen(out) - 1] == '.') out[strlen(out) - 1] = '\0';
    return out;
  }
  return NULL;
}

/* --- sets ----------------------------------------------------------- */

static int enc_810(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  char d[9], buf[48];
  const char *num = gs2(b, "number", "invoice_number");
  if (!num) num = gs(b, "id");
  const char *date = gs2(b, "issue_date", "invoice_date");
  if (!num || !date8(date, d)) {
    snprintf(err, esz, "$.data.%s: required for an 810 (BIG)",
             num ? "issue_date" : "number");
    return -1;
  }
  json_object *orders = get(b, "order_refs");
  const char *po = NULL;
  if (alen(orders)) {
    json_object *o0 = json_object_array_get_idx(orders, 0);
    po = json_object_is_type(o0, json_type_string) ? json_object_get_string(o0)
                                                    : gs(o0, "po_number");
  }
  x12w_begin(w, "BIG");
  x12w_el(w, d);
  x12w_el(w, num);
  x12w_el(w, NULL);
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
  json_object *refs = get(b, "references");
  int have_bm = 0, have_cn = 0;
  for (size_t i = 0; i < alen(refs); i++) {
    const char *q = ref_qualifier(json_object_array_get_idx(refs, i));
    if (!strcmp(q, "BM")) have_bm = 1;
    if (!strcmp(q, "CN")) have_cn = 1;
  }
  references(w, refs, "REF", 0);
  for (size_t i = 0; i < alen(srefs); i++) {
    json_object *r = json_object_array_get_idx(srefs, i);
    if (gs(r, "bol_number") && !have_bm) {
      x12w_begin(w, "REF"); x12w_el(w, "BM"); x12w_el(w, gs(r, "bol_number")); x12w_end(w);
    }
    if (gs(r, "pro_number") && !have_cn) {
      x12w_begin(w, "REF"); x12w_el(w, "CN"); x12w_el(w, gs(r, "pro_number")); x12w_end(w);
    }
  }
  if (!alen(srefs)) {
    json_object *ships = get(b, "shipment_ids");
    for (size_t i = 0; i < alen(ships); i++) {
      x12w_begin(w, "REF");
      x12w_el(w, "SI");
      x12w_el(w, json_object_get_string(json_object_array_get_idx(ships, i)));
      x12w_end(w);
    }
  }
  parties(w, get(b, "parties"));
  json_object *bt = get(b, "bill_to");
  if (bt && json_object_is_type(bt, json_type_object)) {
    json_object *p = json_object_new_object();
    json_object_object_add(p, "role", json_object_new_string("bill_to"));
    json_object_object_foreach(bt, k, v) json_object_object_add(p, k, json_object_get(v));
    party(w, p);
    json_object_put(p);
  }
  json_object *terms = get(b, "payment_terms");
  const char *due = gs(b, "due_date");
  char dd[9];
  if (terms || date8(due, dd)) {
    char nd[16] = "";
    if (get(terms, "net_days")) snprintf(nd, sizeof(nd), "%lld", gi(terms, "net_days", 0));
    x12w_begin(w, "ITD");
    x12w_el(w, gs(terms, "code") ? gs(terms, "code") : "01");
    x12w_el(w, "3");
    x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
    x12w_el(w, date8(due, dd));
    x12w_el(w, nd);
    x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
    x12w_el(w, gs(terms, "description"));
    x12w_end(w);
  }
  json_object *lines = get(b, "lines");
  long long sum = 0;
  size_t items = 0;
  for (size_t i = 0; i < alen(lines); i++) {
    json_object *l = json_object_array_get_idx(lines, i);
    char ln[24], price[48];
    const char *line_no = gs(l, "line_no");
    if (line_no) snprintf(ln, sizeof(ln), "%s", line_no);
    else snprintf(ln, sizeof(ln), "%zu", i + 1);
    sum += gi(l, "amount_minor", 0);
    /* allowance/charge lines without a quantity and with an SAC code
     * (1300, 4 characters) go out as SAC; other charges as IT1 lines */
    if (!get(l, "qty") && !get(l, "unit_price_minor") && gs(l, "x12_code") &&
        strlen(gs(l, "x12_code")) == 4) {
      long long a = gi(l, "amount_minor", 0);
      x12w_begin(w, "SAC");
      x12w_el(w, a < 0 ? "A" : "C");
      x12w_el(w, gs(l, "x12_code"));
      x12w_el(w, NULL); x12w_el(w, NULL);
      x12w_elf(w, "%lld", a < 0 ? -a : a);
      x12w_end(w);
      continue;
    }
    const char *p = line_price(l, price, sizeof(price));
    if (!p) {
      snprintf(err, esz, "$.data.lines[%zu].unit_price_minor: missing (and no amount_minor)", i);
      return -1;
    }
    items++;
    x12w_begin(w, "IT1");
    x12w_el(w, ln);
    x12w_el(w, gs(l, "qty") ? gs(l, "qty") : "1");
    x12w_el(w, gs(l, "uom") && strlen(gs(l, "uom")) == 2 ? gs(l, "uom") : "EA");
    x12w_el(w, p);
    x12w_el(w, NULL);
    item_id_pairs(w, get(l, "item_ids"));
    x12w_end(w);
    if (gs(l, "description")) {
      x12w_begin(w, "PID");
      x12w_el(w, "F"); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
      x12w_el(w, gs(l, "description"));
      x12w_end(w);
    }
  }
  json_object *totals = get(b, "totals");
  long long total = gi(totals, "payable_minor", gi(totals, "net_minor", sum));
  x12w_begin(w, "TDS");
  x12w_elf(w, "%lld", total);
  x12w_end(w);
  x12w_begin(w, "CTT");
  snprintf(buf, sizeof(buf), "%zu", items);
  x12w_el(w, buf);
  x12w_end(w);
  return 0;
}

static int enc_850(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  char d[9];
  const char *po = gs(b, "po_number");
  if (!po) po = gs2(b, "order_no", "id");
  if (!po || !date8(gs2(b, "order_date", "po_date"), d)) {
    snprintf(err, esz, "$.data.%s: required for an 850 (BEG)",
             po ? "order_date" : "po_number");
    return -1;
  }
  const char *pc = x12_purpose_code(gs(b, "purpose"));
  if (gs(b, "purpose") && !strcmp(gs(b, "purpose"), "cancel")) pc = "01";
  x12w_begin(w, "BEG");
  x12w_el(w, pc ? pc : "00");
  x12w_el(w, gs(b, "order_type") ? gs(b, "order_type") : "SA");
  x12w_el(w, po);
  x12w_el(w, NULL);
  x12w_el(w, d);
  x12w_el(w, gs(b, "customer_ref"));
  x12w_end(w);
  if (gs(b, "currency")) {
    x12w_begin(w, "CUR"); x12w_el(w, "BY"); x12w_el(w, gs(b, "currency")); x12w_end(w);
  }
  references(w, get(b, "references"), "REF", 0);
  json_object *terms = get(b, "payment_terms");
  if (terms) {
    char nd[16] = "";
    if (get(terms, "net_days")) snprintf(nd, sizeof(nd), "%lld", gi(terms, "net_days", 0));
    x12w_begin(w, "ITD");
    x12w_el(w, gs(terms, "code"));
    x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
    x12w_el(w, nd);
    x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
    x12w_el(w, gs(terms, "description"));
    x12w_end(w);
  }
  char dd[9];
  json_object *dw = get(b, "requested_delivery_window");
  if (date8(gs2(dw, "from", "to"), dd)) {
    x12w_begin(w, "DTM"); x12w_el(w, "002"); x12w_el(w, dd); x12w_end(w);
  }
  json_object *pw = get(b, "requested_pickup_window");
  if (gs(pw, "from") && gs(pw, "to") && date8(gs(pw, "from"), dd)) {
    char d2[9];
    if (!strcmp(date8(gs(pw, "to"), d2), dd)) {
      x12w_begin(w, "DTM"); x12w_el(w, "010"); x12w_el(w, dd); x12w_end(w);
    } else {
      x12w_begin(w, "DTM"); x12w_el(w, "037"); x12w_el(w, dd); x12w_end(w);
      x12w_begin(w, "DTM"); x12w_el(w, "038"); x12w_el(w, d2); x12w_end(w);
    }
  }
  json_object *c = get(b, "routing");
  if (gs(c, "scac") || gs(c, "text")) {
    x12w_begin(w, "TD5"); x12w_el(w, NULL); x12w_el(w, gs(c, "scac") ? "2" : NULL);
    x12w_el(w, gs(c, "scac")); x12w_el(w, gs(c, "mode")); x12w_el(w, gs(c, "text"));
    x12w_end(w);
  }
  json_object *notes = get(b, "notes");
  for (size_t i = 0; i < alen(notes); i++) {
    x12w_begin(w, "MSG");
    x12w_el(w, json_object_get_string(json_object_array_get_idx(notes, i)));
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
    x12w_el(w, get(l, "unit_price_minor") ? line_price(l, price, sizeof(price)) : NULL);
    x12w_el(w, NULL);
    item_id_pairs(w, get(l, "item_ids"));
    x12w_end(w);
    if (gs(l, "description")) {
      x12w_begin(w, "PID");
      x12w_el(w, "F"); x12w_el(w, NULL); x12w_el(w, NULL); x12w_el(w, NULL);
      x12w_el(w, gs(l, "description"));
      x12w_end(w);
    }
    const char *rd = gs(l, "requested_delivery_at");
    if (date8(rd, dd)) {
      x12w_begin(w, "DTM"); x12w_el(w, "002"); x12w_el(w, dd); x12w_end(w);
    }
  }
  json_object *t = get(b, "totals");
  char n[24];
  snprintf(n, sizeof(n), "%lld", gi(t, "line_count", (long long)alen(lines)));
  x12w_begin(w, "CTT"); x12w_el(w, n); x12w_el(w, gs(t, "qty")); x12w_end(w);
  if (get(t, "amount_minor")) {
    char amt[48];
    x12w_begin(w, "AMT");
    x12w_el(w, "1");
    x12w_el(w, minor_decimal(gi(t, "amount_minor", 0), 1, amt, sizeof(amt)));
    x12w_end(w);
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
    x12w_el(w, zone_code(iso));
  }
  x12w_end(w);
}

/* Weight {value, unit} -> (value text, X12 unit code L/K) or NULL. */
static const char *weight_x12(json_object *wt, char *value, size_t size,
                              const char **unit) {
  const char *v = gs(wt, "value"), *u = gs(wt, "unit");
  if (!v) return NULL;
  snprintf(value, size, "%s", v);
  *unit = u && !strcmp(u, "kg") ? "K" : "L";
  return value;
}

static int enc_204(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  const char *id = gs(b, "id");
  if (!id) {
    snprintf(err, esz, "$.data.id: required for a 204 (B204)");
    return -1;
  }
  const char *pm = gs(b, "payment_method");
  const char *pmc = !pm ? "PP" : !strcmp(pm, "collect") ? "CC"
                    : !strcmp(pm, "third_party") ? "TP" : "PP";
  x12w_begin(w, "B2");
  x12w_el(w, NULL);
  x12w_el(w, gs(get(b, "carrier"), "scac"));
  x12w_el(w, NULL);
  x12w_el(w, id);
  x12w_el(w, NULL);
  x12w_el(w, pmc);
  x12w_end(w);
  const char *pc = x12_purpose_code(gs(b, "purpose"));
  if (gs(b, "purpose") && !strcmp(gs(b, "purpose"), "cancel")) pc = "01";
  x12w_begin(w, "B2A"); x12w_el(w, pc ? pc : "00"); x12w_end(w);
  references(w, get(b, "references"), "L11", 1);
  g62(w, "64", gs(get(b, "tender"), "respond_by"));
  json_object *eq = get(b, "equipment");
  if (gs(eq, "number")) {
    x12w_begin(w, "N7"); x12w_el(w, NULL); x12w_el(w, gs(eq, "number")); x12w_end(w);
  }
  parties(w, get(b, "parties"));
  json_object *stops = get(b, "stops");
  if (!alen(stops)) {
    snprintf(err, esz, "$.data.stops: a 204 needs at least one stop (S5)");
    return -1;
  }
  for (size_t i = 0; i < alen(stops); i++) {
    json_object *s = json_object_array_get_idx(stops, i);
    char seq[24], wv[32];
    snprintf(seq, sizeof(seq), "%lld", gi(s, "sequence", (long long)i + 1));
    const char *type = gs(s, "type");
    const char *rc = gs(get(s, "type_raw"), "code");
    if (!rc) rc = type && !strcmp(type, "delivery") ? "UL" : "LD";
    const char *unit = NULL;
    const char *wval = weight_x12(get(s, "weight"), wv, sizeof(wv), &unit);
    x12w_begin(w, "S5");
    x12w_el(w, seq);
    x12w_el(w, rc);
    x12w_el(w, wval);
    x12w_el(w, wval ? unit : NULL);
    x12w_el(w, gs(s, "lading_qty"));
    x12w_el(w, gs(s, "lading_qty") ? "PC" : NULL);
    x12w_end(w);
    references(w, get(s, "references"), "L11", 1);
    json_object *ap = get(s, "appointment");
    const char *gq = type && !strcmp(type, "delivery") ? "70" : "69";
    const char *raw = gs(get(ap, "raw"), "code");
    if (gs(ap, "from")) g62(w, raw ? raw : gq, gs(ap, "from"));
    else if (gs(s, "planned_arrival")) g62(w, gq, gs(s, "planned_arrival"));
    if (gs(ap, "to"))
      g62(w, type && !strcmp(type, "delivery") ? "54" : "38", gs(ap, "to"));
    json_object *sp = get(s, "parties");
    if (alen(sp)) {
      parties(w, sp);
    } else if (get(s, "location")) {
      json_object *loc = get(s, "location");
      json_object *p = json_object_new_object();
      json_object_object_add(p, "role_raw",
                             json_object_new_string(type && !strcmp(type, "delivery") ? "ST" : "SF"));
      json_object_object_foreach(loc, k, v) json_object_object_add(p, k, json_object_get(v));
      party(w, p);
      json_object_put(p);
    }
    json_object *ords = get(s, "orders");
    for (size_t k = 0; k < alen(ords); k++) {
      json_object *o = json_object_array_get_idx(ords, k);
      x12w_begin(w, "OID"); x12w_el(w, gs(o, "order_no")); x12w_el(w, gs(o, "po_number")); x12w_end(w);
    }
  }
  char wv[32];
  const char *unit = NULL;
  const char *wval = weight_x12(get(b, "weight"), wv, sizeof(wv), &unit);
  json_object *rate = get(get(b, "tender"), "rate");
  if (wval || rate) {
    x12w_begin(w, "L3");
    x12w_el(w, wval);
    x12w_el(w, wval ? "G" : NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    if (rate) x12w_elf(w, "%lld", gi(rate, "amount_minor", 0));
    x12w_end(w);
  }
  return 0;
}

static int enc_990(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  const char *id = gs(b, "id");
  json_object *tender = get(b, "tender");
  const char *resp = gs(tender, "response");
  const char *scac = gs(get(b, "carrier"), "scac");
  if (!id || !resp || !scac) {
    snprintf(err, esz, "$.data.%s: required for a 990 (B1)",
             !id ? "id" : !resp ? "tender.response" : "carrier.scac");
    return -1;
  }
  char d[9];
  x12w_begin(w, "B1");
  x12w_el(w, scac);
  x12w_el(w, id);
  x12w_el(w, date8(gs(tender, "responded_at"), d));
  x12w_el(w, !strcmp(resp, "accepted") ? "A" : !strcmp(resp, "declined") ? "D" : NULL);
  x12w_end(w);
  references(w, get(b, "references"), "N9", 0);
  json_object *notes = get(b, "notes");
  for (size_t i = 0; i < alen(notes); i++) {
    x12w_begin(w, "K1");
    x12w_el(w, json_object_get_string(json_object_array_get_idx(notes, i)));
    x12w_end(w);
  }
  return 0;
}

static int enc_214(struct x12_writer *w, json_object *b, char *err,
                   size_t esz) {
  const char *id = gs(b, "shipment_id");
  const char *scac = gs(get(b, "carrier"), "scac");
  json_object *raw = get(b, "raw");
  json_object *at7 = get(b, "x12_at7");
  const char *at = gs(b, "occurred_at");
  const char *st = gs(at7, "status"), *ap = gs(at7, "appointment_status");
  if (!st && !ap) {
    /* from the canonical status: the first AT7 code mapping to it */
    const char *status = gs(b, "status");
    static const char *const codes[] = {"XB", "X3", "L1", "CP", "AF", "X6",
                                        "X2", "X1", "D1", "CD", "AH", "A9",
                                        "A3", "SD", "CA"};
    for (size_t k = 0; status && k < sizeof(codes) / sizeof(codes[0]); k++) {
      const struct x12_code *c = x12_at7_status(codes[k]);
      if (c && !strcmp(c->canonical, status)) st = codes[k];
    }
    if (!st && raw && gs(raw, "system") && !strncmp(gs(raw, "system"), "x12", 3))
      st = gs(raw, "code");
  }
  if (!scac) scac = "ZZZZ";
  if (!id || (!st && !ap) || !at) {
    snprintf(err, esz, "$.data.%s: required for a 214",
             !id ? "shipment_id" : !at ? "occurred_at" : "x12_at7.status");
    return -1;
  }
  x12w_begin(w, "B10");
  x12w_el(w, gs(b, "tracking_number") ? gs(b, "tracking_number") : id);
  x12w_el(w, id);
  x12w_el(w, scac);
  x12w_end(w);
  char lx[24];
  snprintf(lx, sizeof(lx), "%lld", gi(b, "stop_sequence", 1));
  x12w_begin(w, "LX"); x12w_el(w, lx); x12w_end(w);
  char d[9], t[5];
  x12w_begin(w, "AT7");
  x12w_el(w, st);
  x12w_el(w, st ? (gs(at7, "reason") ? gs(at7, "reason") : "NS") : NULL);
  x12w_el(w, st ? NULL : ap);
  x12w_el(w, st ? NULL : (gs(at7, "appointment_reason") ? gs(at7, "appointment_reason") : "NA"));
  x12w_el(w, date8(at, d));
  x12w_el(w, time4(at, t));
  x12w_el(w, zone_code(at));
  x12w_end(w);
  json_object *loc = get(b, "location");
  if (gs(loc, "city")) {
    x12w_begin(w, "MS1");
    x12w_el(w, gs(loc, "city")); x12w_el(w, gs(loc, "region")); x12w_el(w, gs(loc, "country"));
    x12w_end(w);
  }
  if (gs(b, "equipment_number")) {
    x12w_begin(w, "MS2");
    x12w_el(w, scac); x12w_el(w, gs(b, "equipment_number"));
    x12w_end(w);
  }
  references(w, get(b, "references"), "L11", 1);
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
