/* idoc_map_inbound.c - IDocs from SAP to canonical messages:
 *   ORDERS05 -> dray.order.created|changed|cancelled.v1
 *   DELVRY07 -> dray.shipment.created|changed.v1 (lines, handling units)
 *   SHPMNT05 -> dray.shipment.created|changed.v1 (stops from stages)
 *   SYSTAT01 -> dray.ack.received.v1, one per E1STATS status record
 *   ALEAUD01 -> dray.ack.received.v1, one per E1STATE
 * Field by field in README.md. Basic types are matched by family
 * (ORDERS0x, DELVRY0x, SHPMNT0x) so older releases map the same way.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc_map.h"

struct in {
  const idoc_set *set;
  int doc;
  const struct idoc_map_opts *opts;
  struct idoc_err *err;
  char system[48]; /* "sap:<SNDPRN>" */
  const char *docnum;
};

static const char *S(const struct in *m, int seg, const char *f) {
  return idoc_seg_str(m->set, seg, f);
}

#define FOR_CHILD(m, var, parent, type)                                 \
  for (int var = idoc_find_child((m)->set, (m)->doc, (parent), (type), -1); \
       var >= 0;                                                        \
       var = idoc_find_child((m)->set, (m)->doc, (parent), (type), var))

static const char *party_role(const char *q) {
  static const char *map[][2] = {
      {"AG", "sold_to"}, {"WE", "ship_to"}, {"RE", "bill_to"},
      {"RG", "payer"},   {"LF", "vendor"},  {"SP", "carrier"},
      {"RS", "seller"},  {"OSP", "ship_from"}, {"OSO", "sold_to"},
      {"BA", "buyer"},   {"CR", "carrier"}, {NULL, NULL}};
  for (int i = 0; map[i][0]; i++)
    if (!strcmp(q, map[i][0])) return map[i][1];
  return "other";
}

static int is_upper_n(const char *s, size_t n) {
  if (strlen(s) != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isupper((unsigned char)s[i])) return 0;
  return 1;
}

static int is_digits_n(const char *s, size_t lo, size_t hi) {
  size_t n = strlen(s);
  if (n < lo || n > hi) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i])) return 0;
  return 1;
}

static void add_date(json_object *o, const char *key, const char *d) {
  char buf[16];
  if (idoc_fmt_date(d, buf, sizeof buf) == 0) idoc_jadd_str(o, key, buf);
}

static void add_dt(const struct in *m, json_object *o, const char *key,
                   const char *d, const char *t) {
  char buf[40];
  if (idoc_fmt_datetime(d, t, m->opts ? m->opts->tz : NULL, buf,
                        sizeof buf) == 0)
    idoc_jadd_str(o, key, buf);
}

/* A deadline segment's own zone (TZONE_BEG) when it is an offset Dray
 * understands ("+01:00", "-0700", "UTC"); else the configured one. */
static void add_dt_zoned(const struct in *m, json_object *o, const char *key,
                         const char *d, const char *t, const char *zone) {
  char tz[8] = "";
  size_t n = zone ? strlen(zone) : 0;
  if (n && (!strcmp(zone, "UTC") || !strcmp(zone, "Z") || !strcmp(zone, "GMT")))
    snprintf(tz, sizeof tz, "Z");
  else if (n == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
           isdigit((unsigned char)zone[1]) && isdigit((unsigned char)zone[2]) &&
           isdigit((unsigned char)zone[4]) && isdigit((unsigned char)zone[5]))
    snprintf(tz, sizeof tz, "%s", zone);
  else if (n == 5 && (zone[0] == '+' || zone[0] == '-') &&
           is_digits_n(zone + 1, 4, 4))
    snprintf(tz, sizeof tz, "%.3s:%.2s", zone, zone + 3);
  char buf[40];
  if (idoc_fmt_datetime(d, t, tz[0] ? tz : (m->opts ? m->opts->tz : NULL), buf,
                        sizeof buf) == 0)
    idoc_jadd_str(o, key, buf);
}

static void add_num(json_object *o, const char *key, const char *s) {
  json_object *n = idoc_json_decimal(s);
  if (n) json_object_object_add(o, key, n);
}

static void add_minor(json_object *o, const char *key, const char *s,
                      const char *cur) {
  int64_t v;
  if (s && *s && idoc_parse_minor(s, idoc_currency_exp(cur), &v) == 0)
    json_object_object_add(o, key, json_object_new_int64(v));
}

static json_object *ext_ref(const struct in *m, const char *type,
                            const char *value) {
  json_object *r = json_object_new_object();
  json_object_object_add(r, "system", json_object_new_string(m->system));
  json_object_object_add(r, "type", json_object_new_string(type));
  json_object_object_add(r, "value", json_object_new_string(value));
  return r;
}

static json_object *ext_refs(const struct in *m) {
  json_object *a = json_object_new_array();
  if (m->docnum[0]) json_object_array_add(a, ext_ref(m, "DOCNUM", m->docnum));
  return a;
}

static const char *unit_weight(const char *u) {
  if (!strcmp(u, "KGM") || !strcmp(u, "KG")) return "kg";
  if (!strcmp(u, "GRM") || !strcmp(u, "G")) return "g";
  if (!strcmp(u, "TNE") || !strcmp(u, "TO")) return "t";
  if (!strcmp(u, "LBR") || !strcmp(u, "LB")) return "lb";
  return NULL;
}

static const char *unit_volume(const char *u) {
  if (!strcmp(u, "MTQ") || !strcmp(u, "M3")) return "m3";
  if (!strcmp(u, "LTR") || !strcmp(u, "L")) return "l";
  if (!strcmp(u, "FTQ") || !strcmp(u, "FT3")) return "ft3";
  if (!strcmp(u, "CMQ") || !strcmp(u, "CCM")) return "cm3";
  return NULL;
}

static void add_measure(json_object *o, const char *key, const char *value,
                        const char *unit, int volume, const char *kind) {
  const char *u = volume ? unit_volume(unit) : unit_weight(unit);
  json_object *n = idoc_json_decimal(value);
  if (!u || !n) {
    json_object_put(n);
    return;
  }
  json_object *w = json_object_new_object();
  json_object_object_add(w, "value", n);
  json_object_object_add(w, "unit", json_object_new_string(u));
  if (kind) json_object_object_add(w, "kind", json_object_new_string(kind));
  json_object_object_add(o, key, w);
}

/* E1EDKA1 / E1EDPA1 style partner (PARVW, PARTN, NAME1, STRAS, ORT01...). */
static json_object *party_ka1(const struct in *m, int seg) {
  json_object *p = json_object_new_object();
  const char *q = S(m, seg, "PARVW");
  json_object_object_add(p, "role", json_object_new_string(party_role(q)));
  idoc_jadd_str(p, "role_raw", q);
  const char *id = S(m, seg, "PARTN");
  idoc_jadd_str(p, "id", id[0] ? id : S(m, seg, "LIFNR"));
  if (is_digits_n(S(m, seg, "ILNNR"), 13, 13))
    idoc_jadd_str(p, "gln", S(m, seg, "ILNNR"));
  idoc_jadd_str(p, "name", S(m, seg, "NAME1"));
  json_object *a = json_object_new_object();
  idoc_jadd_str(a, "name", S(m, seg, "NAME1"));
  json_object *st = json_object_new_array();
  if (S(m, seg, "STRAS")[0])
    json_object_array_add(st, json_object_new_string(S(m, seg, "STRAS")));
  if (S(m, seg, "STRS2")[0])
    json_object_array_add(st, json_object_new_string(S(m, seg, "STRS2")));
  if (json_object_array_length(st)) json_object_object_add(a, "street", st);
  else json_object_put(st);
  idoc_jadd_str(a, "city", S(m, seg, "ORT01"));
  idoc_jadd_str(a, "region", S(m, seg, "REGIO"));
  idoc_jadd_str(a, "postal_code", S(m, seg, "PSTLZ"));
  if (is_upper_n(S(m, seg, "LAND1"), 2))
    idoc_jadd_str(a, "country", S(m, seg, "LAND1"));
  json_object_object_add(p, "address", a);
  return p;
}

/* E1ADRMx style partner (PARTNER_Q, PARTNER_ID, NAME1, STREET1, CITY1...). */
static json_object *address_adrm(const struct in *m, int seg) {
  json_object *a = json_object_new_object();
  idoc_jadd_str(a, "name", S(m, seg, "NAME1"));
  json_object *st = json_object_new_array();
  const char *sf[] = {"STREET1", "STREET2", "STREET3"};
  for (int i = 0; i < 3; i++)
    if (S(m, seg, sf[i])[0])
      json_object_array_add(st, json_object_new_string(S(m, seg, sf[i])));
  if (json_object_array_length(st)) json_object_object_add(a, "street", st);
  else json_object_put(st);
  idoc_jadd_str(a, "city", S(m, seg, "CITY1"));
  idoc_jadd_str(a, "region", S(m, seg, "REGION"));
  idoc_jadd_str(a, "postal_code", S(m, seg, "POSTL_COD1"));
  if (is_upper_n(S(m, seg, "COUNTRY1"), 2))
    idoc_jadd_str(a, "country", S(m, seg, "COUNTRY1"));
  return a;
}

static json_object *party_adrm(const struct in *m, int seg) {
  json_object *p = json_object_new_object();
  const char *q = S(m, seg, "PARTNER_Q");
  json_object_object_add(p, "role", json_object_new_string(party_role(q)));
  idoc_jadd_str(p, "role_raw", q);
  idoc_jadd_str(p, "id", S(m, seg, "PARTNER_ID"));
  idoc_jadd_str(p, "name", S(m, seg, "NAME1"));
  json_object_object_add(p, "address", address_adrm(m, seg));
  return p;
}

static void set_headers(const struct in *m, struct idoc_headers *h,
                        const char *key) {
  const idoc_set *set = m->set;
  const char *sndprn = idoc_doc_dc(set, m->doc, DC_SNDPRN);
  const char *typ = idoc_doc_dc(set, m->doc, DC_IDOCTYP);
  const char *serial = idoc_doc_dc(set, m->doc, DC_SERIAL);
  snprintf(h->subject, sizeof h->subject, "%s", key);
  snprintf(h->partitionkey, sizeof h->partitionkey, "%s", key);
  snprintf(h->correlationid, sizeof h->correlationid, "%s", key);
  /* SAP assigns DOCNUM; files written for SAP leave it blank: then the
   * business key and the creation time identify the IDoc */
  if (m->docnum[0])
    snprintf(h->idempotencykey, sizeof h->idempotencykey, "sap:%s:%s:%s%s%s",
             sndprn, typ, m->docnum, serial[0] ? ":" : "", serial);
  else
    snprintf(h->idempotencykey, sizeof h->idempotencykey,
             "sap:%s:%s:%s:%s%s", sndprn, typ, key,
             idoc_doc_dc(set, m->doc, DC_CREDAT),
             idoc_doc_dc(set, m->doc, DC_CRETIM));
}

static const char *purpose_of_action(const char *a) {
  if (!strcmp(a, "002") || !strcmp(a, "004")) return "change";
  if (!strcmp(a, "003")) return "cancel";
  return "original";
}

/* ------------------------------------------------------------------ */

static int map_orders(struct in *m, idoc_emit_fn emit, void *ctx) {
  int k01 = idoc_find_child(m->set, m->doc, -1, "E1EDK01", -1);
  const char *cur = S(m, k01, "CURCY");
  const char *order_no = NULL, *po_date = NULL;
  json_object *refs = json_object_new_array();
  FOR_CHILD(m, k02, -1, "E1EDK02") {
    const char *q = S(m, k02, "QUALF"), *b = S(m, k02, "BELNR");
    if (!b[0]) continue;
    if (!strcmp(q, "001") && !order_no) {
      order_no = b;
      po_date = S(m, k02, "DATUM");
    }
    json_object *r = json_object_new_object();
    const char *t = !strcmp(q, "001") ? "customer_po"
                    : !strcmp(q, "002") ? "vendor_order"
                    : !strcmp(q, "012") ? "delivery_note" : "other";
    json_object_object_add(r, "type", json_object_new_string(t));
    json_object_object_add(r, "value", json_object_new_string(b));
    idoc_jadd_str(r, "qualifier_raw", q);
    json_object_array_add(refs, r);
  }
  if (!order_no && S(m, k01, "BELNR")[0]) order_no = S(m, k01, "BELNR");
  if (!order_no) {
    json_object_put(refs);
    idoc_err_set(m->err, "IDoc %s (ORDERS): no order number: neither "
                 "E1EDK02 QUALF 001 BELNR nor E1EDK01 BELNR is set",
                 m->docnum);
    return -1;
  }
  json_object *o = json_object_new_object();
  char id[160];
  snprintf(id, sizeof id, "%s:order:%s", m->system, order_no);
  json_object_object_add(o, "id", json_object_new_string(id));
  json_object_object_add(o, "order_no", json_object_new_string(order_no));
  const char *action = S(m, k01, "ACTION");
  const char *purpose = purpose_of_action(action);
  json_object_object_add(o, "purpose", json_object_new_string(purpose));
  idoc_jadd_str(o, "order_type", S(m, k01, "BSART"));
  if (strcmp(order_no, S(m, k01, "BELNR")) && S(m, k01, "BELNR")[0])
    idoc_jadd_str(o, "erp_ref", S(m, k01, "BELNR"));
  FOR_CHILD(m, k02, -1, "E1EDK02")
    if (!strcmp(S(m, k02, "QUALF"), "001"))
      idoc_jadd_str(o, "po_number", S(m, k02, "BELNR"));
  if (po_date) add_date(o, "po_date", po_date);
  if (is_upper_n(cur, 3)) idoc_jadd_str(o, "currency", cur);
  json_object *win = NULL;
  FOR_CHILD(m, k03, -1, "E1EDK03") {
    const char *q = S(m, k03, "IDDAT");
    if (!strcmp(q, "012") || !strcmp(q, "022"))
      add_date(o, !strcmp(q, "012") ? "order_date" : "po_date",
               S(m, k03, "DATUM"));
    else if (!strcmp(q, "002")) {
      if (!win) win = json_object_new_object();
      add_dt(m, win, "from", S(m, k03, "DATUM"), S(m, k03, "UZEIT"));
    }
  }
  if (win) json_object_object_add(o, "requested_delivery_window", win);
  int k17 = idoc_find_child(m->set, m->doc, -1, "E1EDK17", -1);
  if (k17 >= 0 && is_upper_n(S(m, k17, "LKOND"), 3)) {
    json_object *inc = json_object_new_object();
    idoc_jadd_str(inc, "code", S(m, k17, "LKOND"));
    idoc_jadd_str(inc, "place", S(m, k17, "LKTEXT"));
    json_object_object_add(o, "incoterm", inc);
  }
  int k18 = idoc_find_child(m->set, m->doc, -1, "E1EDK18", -1);
  if (S(m, k01, "ZTERM")[0] || k18 >= 0) {
    json_object *pt = json_object_new_object();
    idoc_jadd_str(pt, "code", S(m, k01, "ZTERM"));
    if (k18 >= 0) {
      const char *tage = S(m, k18, "TAGE");
      if (is_digits_n(tage, 1, 8))
        json_object_object_add(pt, "net_days",
                               json_object_new_int(atoi(tage)));
      idoc_jadd_str(pt, "description", S(m, k18, "ZTERM_TXT"));
    }
    json_object_object_add(o, "payment_terms", pt);
  }
  json_object *parties = json_object_new_array();
  FOR_CHILD(m, ka1, -1, "E1EDKA1")
    json_object_array_add(parties, party_ka1(m, ka1));
  json_object_object_add(o, "parties", parties);
  if (json_object_array_length(refs)) json_object_object_add(o, "references", refs);
  else json_object_put(refs);
  json_object *lines = json_object_new_array();
  FOR_CHILD(m, p01, -1, "E1EDP01") {
    json_object *l = json_object_new_object();
    const char *posex = S(m, p01, "POSEX");
    json_object_object_add(l, "line_no", json_object_new_string(posex[0] ? posex : "?"));
    const char *la = S(m, p01, "ACTION");
    if (!strcmp(la, "001")) idoc_jadd_str(l, "action", "add");
    else if (!strcmp(la, "002")) idoc_jadd_str(l, "action", "change");
    else if (!strcmp(la, "003")) idoc_jadd_str(l, "action", "delete");
    add_num(l, "qty", S(m, p01, "MENGE"));
    idoc_jadd_str(l, "uom", S(m, p01, "MENEE"));
    const char *lcur = S(m, p01, "CURCY")[0] ? S(m, p01, "CURCY") : cur;
    add_minor(l, "unit_price_minor", S(m, p01, "VPREI"), lcur);
    const char *peinh = S(m, p01, "PEINH");
    if (is_digits_n(peinh, 1, 9) && atoi(peinh) >= 1)
      json_object_object_add(l, "price_per", json_object_new_int(atoi(peinh)));
    add_minor(l, "amount_minor", S(m, p01, "NETWR"), lcur);
    if (is_upper_n(lcur, 3)) idoc_jadd_str(l, "currency", lcur);
    idoc_jadd_str(l, "plant", S(m, p01, "WERKS"));
    json_object *ids = json_object_new_object();
    idoc_jadd_str(ids, "material", S(m, p01, "MATNR"));
    const char *desc = NULL;
    FOR_CHILD(m, p19, p01, "E1EDP19") {
      const char *q = S(m, p19, "QUALF"), *v = S(m, p19, "IDTNR");
      if (!strcmp(q, "001")) idoc_jadd_str(ids, "buyer", v);
      else if (!strcmp(q, "002")) idoc_jadd_str(ids, "vendor", v);
      else if (!strcmp(q, "003") && is_digits_n(v, 8, 14))
        idoc_jadd_str(ids, "gtin", v);
      if (!desc && S(m, p19, "KTEXT")[0]) desc = S(m, p19, "KTEXT");
    }
    if (json_object_object_length(ids)) json_object_object_add(l, "item_ids", ids);
    else json_object_put(ids);
    idoc_jadd_str(l, "description", desc);
    json_object *sched = json_object_new_array();
    const char *first_d = NULL, *first_t = NULL;
    FOR_CHILD(m, p20, p01, "E1EDP20") {
      json_object *q = idoc_json_decimal(S(m, p20, "WMENG"));
      if (!q) continue;
      json_object *s = json_object_new_object();
      json_object_object_add(s, "qty", q);
      add_date(s, "date", S(m, p20, "EDATU"));
      if (!first_d) {
        first_d = S(m, p20, "EDATU");
        first_t = S(m, p20, "EZEIT");
      }
      json_object_array_add(sched, s);
    }
    if (json_object_array_length(sched)) json_object_object_add(l, "schedule", sched);
    else json_object_put(sched);
    if (first_d) add_dt(m, l, "requested_delivery_at", first_d, first_t);
    json_object *lp = json_object_new_array();
    FOR_CHILD(m, pa1, p01, "E1EDPA1")
      json_object_array_add(lp, party_ka1(m, pa1));
    if (json_object_array_length(lp)) json_object_object_add(l, "parties", lp);
    else json_object_put(lp);
    json_object_array_add(lines, l);
  }
  size_t nlines = json_object_array_length(lines);
  json_object_object_add(o, "lines", lines);
  json_object *tot = json_object_new_object();
  json_object_object_add(tot, "line_count", json_object_new_int((int)nlines));
  FOR_CHILD(m, s01, -1, "E1EDS01")
    if (!strcmp(S(m, s01, "SUMID"), "002"))
      add_minor(tot, "amount_minor", S(m, s01, "SUMME"), cur);
  json_object_object_add(o, "totals", tot);
  json_object *er = ext_refs(m);
  if (S(m, k01, "BELNR")[0])
    json_object_array_add(er, ext_ref(m, "BELNR", S(m, k01, "BELNR")));
  json_object_object_add(o, "external_refs", er);
  struct idoc_headers h;
  set_headers(m, &h, order_no);
  const char *type = !strcmp(purpose, "cancel") ? "dray.order.cancelled.v1"
                     : !strcmp(purpose, "change") ? "dray.order.changed.v1"
                     : "dray.order.created.v1";
  return emit(ctx, type, o, &h, m->doc);
}

/* ------------------------------------------------------------------ */

static json_object *delivery_line(const struct in *m, int l24) {
  json_object *l = json_object_new_object();
  idoc_jadd_str(l, "line_no", S(m, l24, "POSNR"));
  json_object *ids = json_object_new_object();
  idoc_jadd_str(ids, "material", S(m, l24, "MATNR"));
  idoc_jadd_str(ids, "buyer", S(m, l24, "KDMAT"));
  if (is_digits_n(S(m, l24, "EAN11"), 8, 14))
    idoc_jadd_str(ids, "gtin", S(m, l24, "EAN11"));
  if (json_object_object_length(ids)) json_object_object_add(l, "item_ids", ids);
  else json_object_put(ids);
  idoc_jadd_str(l, "description", S(m, l24, "ARKTX"));
  add_num(l, "qty", S(m, l24, "LFIMG"));
  idoc_jadd_str(l, "uom", S(m, l24, "VRKME"));
  idoc_jadd_str(l, "lot", S(m, l24, "CHARG"));
  add_measure(l, "weight", S(m, l24, "BRGEW"), S(m, l24, "GEWEI"), 0, "gross");
  json_object *ref = json_object_new_object();
  idoc_jadd_str(ref, "order_no", S(m, l24, "VGBEL"));
  idoc_jadd_str(ref, "line_no", S(m, l24, "VGPOS"));
  int l41 = idoc_find_child(m->set, m->doc, l24, "E1EDL41", -1);
  if (l41 >= 0) idoc_jadd_str(ref, "po_number", S(m, l41, "BSTNR"));
  if (json_object_object_length(ref)) json_object_object_add(l, "order_ref", ref);
  else json_object_put(ref);
  return l;
}

/* Handling units: E1EDL37 (DELVRY) or E1EDT37 (SHPMNT) with their
 * contents (E1EDL44 / E1EDT44: VELIN 1 = a delivery item, 3 = a nested
 * handling unit). */
static void add_packages(const struct in *m, json_object *packages,
                         int parent, const char *hu_type,
                         const char *content_type) {
  FOR_CHILD(m, hu, parent, hu_type) {
    const char *exidv = S(m, hu, "EXIDV");
    if (!exidv[0]) continue;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_string(exidv));
    /* SAP keeps SSCCs as 18 digits, sometimes "00"-prefixed to 20 */
    if (is_digits_n(exidv, 18, 18)) idoc_jadd_str(p, "sscc", exidv);
    else if (is_digits_n(exidv, 20, 20) && !strncmp(exidv, "00", 2))
      idoc_jadd_str(p, "sscc", exidv + 2);
    idoc_jadd_str(p, "packaging", S(m, hu, "VHILM"));
    add_measure(p, "weight", S(m, hu, "BRGEW"), S(m, hu, "GWEIM"), 0, "gross");
    json_object *lines = json_object_new_array();
    FOR_CHILD(m, c, hu, content_type) {
      const char *velin = S(m, c, "VELIN");
      if (!strcmp(velin, "3")) continue; /* nested HU: parent_id below */
      json_object *l = json_object_new_object();
      idoc_jadd_str(l, "line_no", S(m, c, "POSNR"));
      add_num(l, "qty", S(m, c, "VEMNG"));
      idoc_jadd_str(l, "uom", S(m, c, "VEMEH"));
      if (S(m, c, "MATNR")[0]) {
        json_object *ids = json_object_new_object();
        idoc_jadd_str(ids, "material", S(m, c, "MATNR"));
        json_object_object_add(l, "item_ids", ids);
      }
      idoc_jadd_str(l, "lot", S(m, c, "CHARG"));
      if (S(m, c, "VBELN")[0]) {
        json_object *ref = json_object_new_object();
        idoc_jadd_str(ref, "order_no", S(m, c, "VBELN"));
        json_object_object_add(l, "order_ref", ref);
      }
      json_object_array_add(lines, l);
    }
    if (json_object_array_length(lines)) json_object_object_add(p, "lines", lines);
    else json_object_put(lines);
    json_object_array_add(packages, p);
  }
  /* nested handling units: a content line with VELIN 3 names the child */
  size_t n = json_object_array_length(packages);
  FOR_CHILD(m, hu, parent, hu_type)
    FOR_CHILD(m, c, hu, content_type)
      if (!strcmp(S(m, c, "VELIN"), "3") && S(m, c, "EXIDV")[0])
        for (size_t i = 0; i < n; i++) {
          json_object *p = json_object_array_get_idx(packages, i);
          if (!strcmp(idoc_jstr(p, "id"), S(m, c, "EXIDV"))) {
            idoc_jadd_str(p, "parent_id", S(m, hu, "EXIDV"));
            json_object_object_add(p, "level", json_object_new_string("pack"));
          }
        }
}

static int map_delvry(struct in *m, idoc_emit_fn emit, void *ctx) {
  int l20 = idoc_find_child(m->set, m->doc, -1, "E1EDL20", -1);
  if (l20 < 0) {
    idoc_err_set(m->err, "IDoc %s (DESADV): no E1EDL20 delivery header",
                 m->docnum);
    return -1;
  }
  const char *vbeln = S(m, l20, "VBELN"), *lifex = S(m, l20, "LIFEX");
  const char *key = vbeln[0] ? vbeln : lifex;
  if (!key[0]) {
    idoc_err_set(m->err, "IDoc %s SEGNUM %06u E1EDL20: neither VBELN nor "
                 "LIFEX identifies the delivery", m->docnum,
                 m->set->segs[l20].segnum);
    return -1;
  }
  json_object *o = json_object_new_object();
  char id[160];
  snprintf(id, sizeof id, "%s:delivery:%s", m->system, key);
  json_object_object_add(o, "id", json_object_new_string(id));
  const char *purpose = "original";
  FOR_CHILD(m, l18, l20, "E1EDL18") {
    const char *q = S(m, l18, "QUALF");
    if (!strcmp(q, "CHG")) purpose = "change";
    else if (!strcmp(q, "DEL")) purpose = "cancel";
  }
  json_object_object_add(o, "purpose", json_object_new_string(purpose));
  idoc_jadd_str(o, "delivery_no", vbeln);
  idoc_jadd_str(o, "asn_no", lifex);
  idoc_jadd_str(o, "bol_number", S(m, l20, "BOLNR"));
  if (is_upper_n(S(m, l20, "INCO1"), 3)) {
    json_object *inc = json_object_new_object();
    idoc_jadd_str(inc, "code", S(m, l20, "INCO1"));
    idoc_jadd_str(inc, "place", S(m, l20, "INCO2"));
    json_object_object_add(o, "incoterm", inc);
  }
  add_measure(o, "weight", S(m, l20, "BTGEW")[0] ? S(m, l20, "BTGEW")
                                                   : S(m, l20, "NTGEW"),
              S(m, l20, "GEWEI"), 0, S(m, l20, "BTGEW")[0] ? "gross" : "net");
  add_measure(o, "volume", S(m, l20, "VOLUM"), S(m, l20, "VOLEH"), 1, NULL);
  const char *anzpk = S(m, l20, "ANZPK");
  if (is_digits_n(anzpk, 1, 5))
    json_object_object_add(o, "lading_qty", json_object_new_int(atoi(anzpk)));
  if (S(m, l20, "TRATY")[0] || S(m, l20, "TRAID")[0]) {
    json_object *eq = json_object_new_object();
    idoc_jadd_str(eq, "type", S(m, l20, "TRATY"));
    idoc_jadd_str(eq, "number", S(m, l20, "TRAID"));
    json_object_object_add(o, "equipment", eq);
  }
  json_object *parties = json_object_new_array();
  FOR_CHILD(m, a, l20, "E1ADRM1") {
    json_object_array_add(parties, party_adrm(m, a));
    if (!strcmp(S(m, a, "PARTNER_Q"), "SP")) {
      json_object *c = json_object_new_object();
      idoc_jadd_str(c, "code", S(m, a, "PARTNER_ID"));
      idoc_jadd_str(c, "name", S(m, a, "NAME1"));
      json_object_object_add(o, "carrier", c);
    }
  }
  json_object_object_add(o, "parties", parties);
  FOR_CHILD(m, t13, l20, "E1EDT13") {
    const char *q = S(m, t13, "QUALF");
    int actual = S(m, t13, "ISDD")[0] != 0;
    const char *d = actual ? S(m, t13, "ISDD") : S(m, t13, "NTANF");
    const char *t = actual ? S(m, t13, "ISDZ") : S(m, t13, "NTANZ");
    const char *z = S(m, t13, "TZONE_BEG");
    if (!strcmp(q, "006")) add_dt_zoned(m, o, "ship_date", d, t, z);
    else if (!strcmp(q, "007")) {
      if (actual) add_dt_zoned(m, o, "delivered_at", d, t, z);
      else add_dt_zoned(m, o, "estimated_delivery", d, t, z);
    }
  }
  json_object *lines = json_object_new_array();
  json_object *orders = json_object_new_array();
  FOR_CHILD(m, l24, l20, "E1EDL24") {
    json_object *l = delivery_line(m, l24);
    json_object *ref = idoc_jget(l, "order_ref");
    const char *ono = ref ? idoc_jstr(ref, "order_no") : NULL;
    const char *po = ref ? idoc_jstr(ref, "po_number") : NULL;
    int seen = 0;
    for (size_t i = 0; ono && i < json_object_array_length(orders); i++)
      if (!strcmp(idoc_jstr(json_object_array_get_idx(orders, i), "order_no"), ono))
        seen = 1;
    if (ono && !seen) {
      json_object *r = json_object_new_object();
      idoc_jadd_str(r, "order_no", ono);
      idoc_jadd_str(r, "po_number", po);
      json_object_array_add(orders, r);
    }
    json_object_array_add(lines, l);
  }
  json_object_object_add(o, "lines", lines);
  if (json_object_array_length(orders)) json_object_object_add(o, "order_refs", orders);
  else json_object_put(orders);
  json_object *packages = json_object_new_array();
  add_packages(m, packages, l20, "E1EDL37", "E1EDL44");
  json_object_object_add(o, "packages", packages);
  json_object *er = ext_refs(m);
  if (vbeln[0]) json_object_array_add(er, ext_ref(m, "VBELN", vbeln));
  json_object_object_add(o, "external_refs", er);
  struct idoc_headers h;
  set_headers(m, &h, key);
  return emit(ctx, !strcmp(purpose, "original") ? "dray.shipment.created.v1"
                                                : "dray.shipment.changed.v1",
              o, &h, m->doc);
}

/* ------------------------------------------------------------------ */

static const char *shpmnt_mode(const char *vsart) {
  /* SAP shipping types (T173): 01 truck, 02 mail/parcel, 03 rail,
   * 04 sea, 05 air; anything else stays raw */
  if (!strcmp(vsart, "01")) return "ftl";
  if (!strcmp(vsart, "02")) return "parcel";
  if (!strcmp(vsart, "03")) return "rail";
  if (!strcmp(vsart, "04")) return "ocean";
  if (!strcmp(vsart, "05")) return "air";
  return "unknown";
}

/* A stage end point: the first of transport point, shipping point, plant,
 * customer, vendor that is set (suffix A = departure, Z = destination). */
static void stage_point(const struct in *m, int stage, int dest,
                        json_object *loc, const char **kind) {
  static const char *dep[][2] = {{"KNOTA", "point"}, {"VSTEL", "shipping_point"},
                                 {"WERKA", "plant"}, {"KUNNA", "customer"},
                                 {"LIFNA", "vendor"}};
  static const char *des[][2] = {{"KNOTZ", "point"}, {"VSTEZ", "shipping_point"},
                                 {"WERKZ", "plant"}, {"KUNNZ", "customer"},
                                 {"LIFNZ", "vendor"}};
  *kind = "point";
  for (int i = 0; i < 5; i++) {
    const char *f = dest ? des[i][0] : dep[i][0];
    if (S(m, stage, f)[0]) {
      char id[64];
      snprintf(id, sizeof id, "%s:%s", dest ? des[i][1] : dep[i][1],
               S(m, stage, f));
      idoc_jadd_str(loc, "id", id);
      *kind = dest ? des[i][1] : dep[i][1];
      break;
    }
  }
  /* E1ADRM6 under the stage: the first is the departure address, the
   * second the destination address */
  int a = idoc_find_child(m->set, m->doc, stage, "E1ADRM6", -1);
  if (dest && a >= 0) a = idoc_find_child(m->set, m->doc, stage, "E1ADRM6", a);
  if (a >= 0) {
    idoc_jadd_str(loc, "name", S(m, a, "NAME1"));
    json_object_object_add(loc, "address", address_adrm(m, a));
  }
}

static int map_shpmnt(struct in *m, idoc_emit_fn emit, void *ctx) {
  int t20 = idoc_find_child(m->set, m->doc, -1, "E1EDT20", -1);
  const char *tknum = t20 >= 0 ? S(m, t20, "TKNUM") : "";
  if (!tknum[0]) {
    idoc_err_set(m->err, "IDoc %s (SHPMNT): E1EDT20 TKNUM (shipment number) "
                 "is missing", m->docnum);
    return -1;
  }
  json_object *o = json_object_new_object();
  char id[160];
  snprintf(id, sizeof id, "%s:shipment:%s", m->system, tknum);
  json_object_object_add(o, "id", json_object_new_string(id));
  const char *purpose = "original";
  FOR_CHILD(m, t18, t20, "E1EDT18") {
    const char *q = S(m, t18, "QUALF");
    if (!strcmp(q, "CHA") || !strcmp(q, "CHG")) purpose = "change";
    else if (!strcmp(q, "DEL")) purpose = "cancel";
  }
  json_object_object_add(o, "purpose", json_object_new_string(purpose));
  const char *vsart = S(m, t20, "VSART");
  if (vsart[0]) {
    idoc_jadd_str(o, "mode", shpmnt_mode(vsart));
    idoc_jadd_str(o, "mode_raw", vsart);
  }
  json_object *refs = json_object_new_array();
  const char *rf[][2] = {{"EXTI1", "external_id_1"}, {"EXTI2", "external_id_2"},
                         {"SIGNI", "container_id"}, {"TPBEZ", "description"}};
  for (int i = 0; i < 4; i++)
    if (S(m, t20, rf[i][0])[0]) {
      json_object *r = json_object_new_object();
      idoc_jadd_str(r, "type", rf[i][1]);
      idoc_jadd_str(r, "value", S(m, t20, rf[i][0]));
      idoc_jadd_str(r, "qualifier_raw", rf[i][0]);
      json_object_array_add(refs, r);
    }
  json_object *parties = json_object_new_array();
  json_object *carrier = NULL;
  FOR_CHILD(m, a, t20, "E1ADRM4") {
    json_object_array_add(parties, party_adrm(m, a));
    if (!strcmp(S(m, a, "PARTNER_Q"), "SP") && !carrier) {
      carrier = json_object_new_object();
      idoc_jadd_str(carrier, "code", S(m, a, "PARTNER_ID"));
      idoc_jadd_str(carrier, "name", S(m, a, "NAME1"));
    }
  }
  if (!carrier && S(m, t20, "TDLNR")[0]) {
    carrier = json_object_new_object();
    idoc_jadd_str(carrier, "code", S(m, t20, "TDLNR"));
  }
  if (carrier) json_object_object_add(o, "carrier", carrier);
  json_object_object_add(o, "parties", parties);
  /* E1EDT10 deadlines: see README (QUALF 006 shipment start, 007 end) */
  FOR_CHILD(m, t10, t20, "E1EDT10") {
    const char *q = S(m, t10, "QUALF");
    int actual = S(m, t10, "ISDD")[0] != 0;
    const char *d = actual ? S(m, t10, "ISDD") : S(m, t10, "NTANF");
    const char *t = actual ? S(m, t10, "ISDZ") : S(m, t10, "NTANZ");
    const char *z = S(m, t10, "TZONE_BEG");
    if (!strcmp(q, "006")) add_dt_zoned(m, o, "ship_date", d, t, z);
    else if (!strcmp(q, "007")) {
      if (actual) add_dt_zoned(m, o, "delivered_at", d, t, z);
      else add_dt_zoned(m, o, "estimated_delivery", d, t, z);
    }
  }
  /* stops from stages: departure of the first stage, then each stage's
   * destination; a stage leaving where the previous one arrived adds no
   * stop */
  json_object *stops = json_object_new_array();
  char last_id[64] = "";
  int seq = 0, nstages = 0;
  FOR_CHILD(m, st, t20, "E1EDK33") nstages++;
  int stage_no = 0;
  FOR_CHILD(m, st, t20, "E1EDK33") {
    stage_no++;
    for (int dest = 0; dest < 2; dest++) {
      json_object *loc = json_object_new_object();
      const char *kind;
      stage_point(m, st, dest, loc, &kind);
      const char *lid = idoc_jstr(loc, "id");
      if (!dest && lid && !strcmp(lid, last_id)) {
        /* continues from the previous destination: departure time only */
        json_object *prev = json_object_array_get_idx(stops, (size_t)seq - 1);
        add_dt(m, prev, "planned_departure", S(m, st, "DTABF"), S(m, st, "UZABF"));
        json_object_put(loc);
        continue;
      }
      if (!dest && stage_no > 1 && !lid) {
        json_object_put(loc);
        continue;
      }
      snprintf(last_id, sizeof last_id, "%s", lid ? lid : "");
      json_object *s = json_object_new_object();
      char sid[200];
      snprintf(sid, sizeof sid, "%s:stop:%d", id, ++seq);
      json_object_object_add(s, "id", json_object_new_string(sid));
      json_object_object_add(s, "shipment_id", json_object_new_string(id));
      json_object_object_add(s, "sequence", json_object_new_int(seq));
      const char *type = !dest ? "pickup"
                         : stage_no == nstages ? "delivery" : "terminal";
      if (dest && !strcmp(kind, "customer")) type = "delivery";
      json_object_object_add(s, "type", json_object_new_string(type));
      json_object_object_add(s, "location", loc);
      if (!dest)
        add_dt(m, s, "planned_departure", S(m, st, "DTABF"), S(m, st, "UZABF"));
      else
        add_dt(m, s, "planned_arrival", S(m, st, "DTANK"), S(m, st, "UZANK"));
      json_object *sr = json_object_new_array();
      json_object *r = json_object_new_object();
      idoc_jadd_str(r, "type", "stage");
      idoc_jadd_str(r, "value", S(m, st, "TSNUM")[0] ? S(m, st, "TSNUM") : "?");
      idoc_jadd_str(r, "qualifier_raw", "TSNUM");
      json_object_array_add(sr, r);
      json_object_object_add(s, "references", sr);
      json_object_array_add(stops, s);
    }
  }
  json_object_object_add(o, "stops", stops);
  /* deliveries in the shipment: lines, order refs, references */
  json_object *lines = json_object_new_array();
  FOR_CHILD(m, l20, t20, "E1EDL20") {
    if (S(m, l20, "VBELN")[0]) {
      json_object *r = json_object_new_object();
      idoc_jadd_str(r, "type", "delivery");
      idoc_jadd_str(r, "value", S(m, l20, "VBELN"));
      idoc_jadd_str(r, "qualifier_raw", "VBELN");
      json_object_array_add(refs, r);
    }
    FOR_CHILD(m, l24, l20, "E1EDL24")
      json_object_array_add(lines, delivery_line(m, l24));
  }
  json_object_object_add(o, "lines", lines);
  if (json_object_array_length(refs)) json_object_object_add(o, "references", refs);
  else json_object_put(refs);
  json_object *packages = json_object_new_array();
  add_packages(m, packages, t20, "E1EDT37", "E1EDT44");
  json_object_object_add(o, "packages", packages);
  json_object *er = ext_refs(m);
  json_object_array_add(er, ext_ref(m, "TKNUM", tknum));
  json_object_object_add(o, "external_refs", er);
  struct idoc_headers h;
  set_headers(m, &h, tknum);
  return emit(ctx, !strcmp(purpose, "original") ? "dray.shipment.created.v1"
                                                : "dray.shipment.changed.v1",
              o, &h, m->doc);
}

/* ------------------------------------------------------------------ */

/* IDoc status (TEDS1) -> ack status and kind. */
static void status_meaning(const char *st, const char **status,
                           const char **kind) {
  int n = atoi(st);
  *kind = "business";
  *status = "accepted";
  switch (n) {
    case 3: case 6: case 8: case 10: case 12: case 18: case 22: case 24:
    case 30: case 39:
      *kind = "transport";
      break;
    case 2: case 4: case 5: case 7: case 9: case 11: case 20: case 26:
    case 29: case 31:
      *kind = "transport";
      *status = "rejected";
      break;
    case 14: *kind = "transport"; break;
    case 15: *kind = "transport"; *status = "rejected"; break;
    case 16: *kind = "functional"; break;
    case 17: *kind = "functional"; *status = "rejected"; break;
    case 25: case 61: *status = "accepted_with_errors"; break;
    case 40: case 51: case 54: case 56: case 60: case 63: case 65: case 68:
      *status = "rejected";
      break;
    case 52: *status = "partially_accepted"; break;
    case 50: case 62: case 64: case 66: case 75: *status = "deferred"; break;
    default: break; /* 41, 53, 55 ...: posted */
  }
}

static int emit_ack(struct in *m, idoc_emit_fn emit, void *ctx, int seg,
                    const char *docnum, const char *statxt) {
  const char *st = S(m, seg, "STATUS");
  const char *status, *kind;
  status_meaning(st, &status, &kind);
  json_object *o = json_object_new_object();
  char ref[64];
  snprintf(ref, sizeof ref, "idoc:%s", docnum[0] ? docnum : "?");
  json_object_object_add(o, "ref_event_id", json_object_new_string(ref));
  json_object_object_add(o, "kind", json_object_new_string(kind));
  json_object_object_add(o, "protocol", json_object_new_string("idoc_status"));
  json_object_object_add(o, "status", json_object_new_string(status));
  json_object *raw = json_object_new_object();
  json_object_object_add(raw, "system", json_object_new_string("idoc.systat"));
  json_object_object_add(raw, "code", json_object_new_string(st[0] ? st : "?"));
  idoc_jadd_str(raw, "description", statxt);
  json_object_object_add(o, "status_raw", raw);
  if (is_digits_n(docnum, 1, 16))
    idoc_jadd_str(o, "idoc_number", docnum);
  if (!strcmp(status, "rejected")) {
    json_object *e = json_object_new_object();
    idoc_jadd_str(e, "code", st);
    json_object_object_add(e, "message", json_object_new_string(
                                              statxt[0] ? statxt : "rejected by SAP"));
    json_object_object_add(o, "error", e);
  }
  idoc_jadd_str(o, "partner", idoc_doc_dc(m->set, m->doc, DC_SNDPRN));
  char at[40];
  if (idoc_fmt_datetime(S(m, seg, "LOGDAT"), S(m, seg, "LOGTIM"),
                        m->opts ? m->opts->tz : NULL, at, sizeof at) == 0)
    idoc_jadd_str(o, "received_at", at);
  json_object *er = ext_refs(m);
  if (docnum[0]) json_object_array_add(er, ext_ref(m, "STATUS_DOCNUM", docnum));
  json_object_object_add(o, "external_refs", er);
  struct idoc_headers h;
  char key[80];
  snprintf(key, sizeof key, "%s:%s", docnum[0] ? docnum : "?", st);
  set_headers(m, &h, key);
  /* one IDoc carries many status records: key each by DOCNUM + status */
  size_t l = strlen(h.idempotencykey);
  snprintf(h.idempotencykey + l, sizeof h.idempotencykey - l, ":%u",
           m->set->segs[seg].segnum);
  snprintf(h.partitionkey, sizeof h.partitionkey, "%s", docnum);
  snprintf(h.correlationid, sizeof h.correlationid, "%s", ref);
  return emit(ctx, "dray.ack.received.v1", o, &h, m->doc);
}

static int map_systat(struct in *m, idoc_emit_fn emit, void *ctx) {
  int n = 0;
  FOR_CHILD(m, s, -1, "E1STATS") {
    if (emit_ack(m, emit, ctx, s, S(m, s, "DOCNUM"), S(m, s, "STATXT")) < 0)
      return -1;
    n++;
  }
  if (!n) {
    idoc_err_set(m->err, "IDoc %s (STATUS): no E1STATS status record",
                 m->docnum);
    return -1;
  }
  return 0;
}

static int map_aleaud(struct in *m, idoc_emit_fn emit, void *ctx) {
  int n = 0;
  FOR_CHILD(m, hdr, -1, "E1ADHDR")
    FOR_CHILD(m, s, hdr, "E1STATE") {
      int ob = idoc_find_child(m->set, m->doc, s, "E1PRTOB", -1);
      const char *docnum = S(m, s, "DOCNUM");
      if (!docnum[0] && ob >= 0) docnum = S(m, ob, "DOCNUM");
      if (emit_ack(m, emit, ctx, s, docnum, S(m, s, "STATXT")) < 0) return -1;
      n++;
    }
  if (!n) {
    idoc_err_set(m->err, "IDoc %s (ALEAUD): no E1ADHDR/E1STATE record",
                 m->docnum);
    return -1;
  }
  return 0;
}

int idoc_map_inbound(const idoc_set *set, int doc,
                     const struct idoc_map_opts *opts, idoc_emit_fn emit,
                     void *ctx, struct idoc_err *err) {
  struct in m = {set, doc, opts, err, "", NULL};
  m.docnum = idoc_doc_dc(set, doc, DC_DOCNUM);
  const char *sndprn = idoc_doc_dc(set, doc, DC_SNDPRN);
  snprintf(m.system, sizeof m.system, "sap:%s", sndprn[0] ? sndprn : "unknown");
  const char *typ = idoc_doc_dc(set, doc, DC_IDOCTYP);
  if (!typ[0] && set->root) typ = set->root;
  if (!strncmp(typ, "ORDERS", 6)) return map_orders(&m, emit, ctx);
  if (!strncmp(typ, "DELVRY", 6)) return map_delvry(&m, emit, ctx);
  if (!strncmp(typ, "SHPMNT", 6)) return map_shpmnt(&m, emit, ctx);
  if (!strncmp(typ, "SYSTAT", 6)) return map_systat(&m, emit, ctx);
  if (!strncmp(typ, "ALEAUD", 6)) return map_aleaud(&m, emit, ctx);
  idoc_err_set(err, "IDoc %s: no canonical mapping for IDoc type %s "
               "(message type %s)", m.docnum[0] ? m.docnum : "(no DOCNUM)",
               typ, idoc_doc_dc(set, doc, DC_MESTYP));
  return 1;
}
