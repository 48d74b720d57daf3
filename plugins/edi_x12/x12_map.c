/* x12_map.c - see x12_map.h and README.md ("Mappings"). One function per
 * transaction set over shared helpers; code lists come from x12_codes.c. */
#include "x12_map.h"

#include <json-c/json.h> /* x12_map_ack_sent only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_codes.h"
#include "x12_json.h"

/* ------------------------------------------------------------------ */
/* access to the collected segments                                     */

struct walk {
  const struct x12_map_env *env;
  const struct x12_set_segments *s;
  unsigned char comp;
};

static struct x12_span el(const struct walk *w, uint32_t seg, uint32_t n) {
  struct x12_span none = {"", 0};
  if (seg >= w->s->nsegs) return none;
  const struct x12_seg_ref *r = &w->s->segs[seg];
  if (n >= r->count) return none;
  return w->s->spans[r->first + n];
}

static int tag(const struct walk *w, uint32_t seg, const char *t) {
  if (seg >= w->s->nsegs) return 0;
  struct x12_span s = w->s->spans[w->s->segs[seg].first];
  /* the walkers try many tags per segment: compare in place, no strlen */
  for (uint32_t i = 0; i < s.len; i++)
    if (t[i] == '\0' || t[i] != s.ptr[i]) return 0;
  return s.len && t[s.len] == '\0';
}

/* Copies element n of segment seg (trimmed) into buf; returns buf, which is
 * "" when the element is absent. */
static char *str(const struct walk *w, uint32_t seg, uint32_t n, char *buf,
                 size_t size) {
  x12_span_copy(el(w, seg, n), buf, size);
  /* leading blanks too */
  size_t k = 0;
  while (buf[k] == ' ') k++;
  if (k) memmove(buf, buf + k, strlen(buf + k) + 1);
  return buf;
}

/* Keys are string literals (static storage): the tree keeps the pointer. */
#define jadd(o, k, v) xj_set((o), (k), (v))

/* Adds key: v when v is non-empty. key must be a literal (see jadd). */
static void put_s(xj *o, const char *key, const char *v) {
  if (v && *v) jadd(o, key, xj_string(v));
}

static void put_el(const struct walk *w, xj *o, const char *key,
                   uint32_t seg, uint32_t n) {
  char buf[512];
  put_s(o, key, str(w, seg, n, buf, sizeof(buf)));
}

/* Normalizes an X12 decimal ("0000000.00", ".5", "-012") into JSON number
 * syntax in out. Returns 0 or -1 when it is not a number. */
static int normalize_number(const char *s, char *out, size_t size) {
  size_t k = 0;
  const char *p = s;
  if (*p == '-' || *p == '+') {
    if (*p == '-') out[k++] = '-';
    p++;
  }
  while (*p == '0' && p[1] >= '0' && p[1] <= '9') p++;
  if (*p == '.') out[k++] = '0';
  int digits = 0, dot = 0;
  for (; *p && k + 2 < size; p++) {
    if (*p >= '0' && *p <= '9') {
      digits++;
      out[k++] = *p;
    } else if (*p == '.' && !dot) {
      dot = 1;
      if (p[1] < '0' || p[1] > '9') continue; /* "5." */
      out[k++] = '.';
    } else {
      return -1;
    }
  }
  out[k] = '\0';
  return digits ? 0 : -1;
}

static void put_num(const struct walk *w, xj *o, const char *key,
                    uint32_t seg, uint32_t n) {
  char raw[64], norm[64];
  str(w, seg, n, raw, sizeof(raw));
  if (!raw[0] || normalize_number(raw, norm, sizeof(norm)) < 0) return;
  if (!strchr(norm, '.'))
    jadd(o, key, xj_int(strtoll(norm, NULL, 10)));
  else
    jadd(o, key,
                           xj_number(norm));
}

int x12_decimal_minor(const char *s, long long *out) {
  char norm[64];
  if (!s || normalize_number(s, norm, sizeof(norm)) < 0) return -1;
  int neg = norm[0] == '-';
  const char *p = norm + neg;
  long long v = 0;
  int frac = -1;
  for (; *p; p++) {
    if (*p == '.') {
      frac = 0;
      continue;
    }
    if (frac >= 0) {
      if (frac >= 2) {
        if (*p != '0') return -1;
        continue;
      }
      frac++;
    }
    if (v > 922337203685477LL) return -1;
    v = v * 10 + (*p - '0');
  }
  if (frac < 0) frac = 0;
  for (; frac < 2; frac++) v *= 10;
  *out = neg ? -v : v;
  return 0;
}

/* ------------------------------------------------------------------ */
/* dates and times                                                      */

static int day_of_week(int y, int m, int d) { /* 0 = Sunday */
  static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (m < 3) y -= 1;
  return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

/* US daylight saving time (since 2007) for a local standard-time moment:
 * second Sunday of March 02:00 to first Sunday of November 02:00. */
static int us_dst(int y, int m, int d, int h) {
  if (m < 3 || m > 11) return 0;
  if (m > 3 && m < 11) return 1;
  int first_sunday = 1 + (7 - day_of_week(y, m, 1)) % 7;
  if (m == 3) {
    int second = first_sunday + 7;
    return d > second || (d == second && h >= 2);
  }
  return d < first_sunday || (d == first_sunday && h < 2);
}

static int date_parts(const char *date, int *y, int *m, int *d) {
  size_t n = strlen(date);
  for (size_t i = 0; i < n; i++)
    if (date[i] < '0' || date[i] > '9') return -1;
  if (n == 8) {
    *y = atoi((char[]){date[0], date[1], date[2], date[3], 0});
    *m = (date[4] - '0') * 10 + date[5] - '0';
    *d = (date[6] - '0') * 10 + date[7] - '0';
  } else if (n == 6) {
    *y = 2000 + (date[0] - '0') * 10 + date[1] - '0';
    *m = (date[2] - '0') * 10 + date[3] - '0';
    *d = (date[4] - '0') * 10 + date[5] - '0';
  } else {
    return -1;
  }
  return (*m >= 1 && *m <= 12 && *d >= 1 && *d <= 31) ? 0 : -1;
}

static void fmt_date(const char *date, char *out, size_t size) {
  int y, m, d;
  if (date_parts(date, &y, &m, &d) < 0) {
    out[0] = '\0';
    return;
  }
  snprintf(out, size, "%04d-%02d-%02d", y, m, d);
}

/* local_tz -> (minutes, dst rule). */
static void local_zone(const char *tz, int *minutes, int *dst) {
  static const struct {
    const char *name, *code;
  } zones[] = {{"America/New_York", "ET"},   {"America/Chicago", "CT"},
               {"America/Denver", "MT"},     {"America/Phoenix", "MS"},
               {"America/Los_Angeles", "PT"}, {"Pacific/Honolulu", "HT"},
               {"UTC", "UT"}};
  *minutes = 0;
  *dst = 0;
  if (!tz || !*tz) return;
  for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
    if (strcmp(zones[i].name, tz) == 0) {
      x12_time_code_offset(zones[i].code, minutes, dst);
      return;
    }
  if ((tz[0] == '+' || tz[0] == '-') && strlen(tz) == 6 && tz[3] == ':') {
    int v = ((tz[1] - '0') * 10 + tz[2] - '0') * 60 + (tz[4] - '0') * 10 +
            (tz[5] - '0');
    *minutes = tz[0] == '-' ? -v : v;
  }
}

int x12_resolve_time(const char *date, const char *time, const char *code,
                     const char *local_tz, char *out, size_t size) {
  int y, m, d, h = 0, mi = 0, s = 0;
  if (!date || date_parts(date, &y, &m, &d) < 0) return -1;
  size_t tl = time ? strlen(time) : 0;
  if (tl) {
    if (tl < 4) return -1;
    for (size_t i = 0; i < tl; i++)
      if (time[i] < '0' || time[i] > '9') return -1;
    h = (time[0] - '0') * 10 + time[1] - '0';
    mi = (time[2] - '0') * 10 + time[3] - '0';
    if (tl >= 6) s = (time[4] - '0') * 10 + time[5] - '0';
    if (h > 23 || mi > 59 || s > 59) return -1;
  }
  int minutes, dst;
  if (!code || !*code || strcmp(code, "LT") == 0 ||
      x12_time_code_offset(code, &minutes, &dst) < 0)
    local_zone(local_tz, &minutes, &dst);
  if (dst && us_dst(y, m, d, h)) minutes += 60;
  int a = minutes < 0 ? -minutes : minutes;
  snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, h,
           mi, s, minutes < 0 ? '-' : '+', a / 60, a % 60);
  return 0;
}

static void put_date(const struct walk *w, xj *o, const char *key,
                     uint32_t seg, uint32_t n) {
  char raw[16], out[16];
  fmt_date(str(w, seg, n, raw, sizeof(raw)), out, sizeof(out));
  put_s(o, key, out);
}

/* ------------------------------------------------------------------ */
/* shared pieces (shapes from docs/schemas/common.json)                 */

static const char *currency_of(const struct walk *w, char *buf, size_t size) {
  for (uint32_t i = 0; i < w->s->nsegs; i++) {
    if (tag(w, i, "CUR")) {
      str(w, i, 2, buf, size);
      if (strlen(buf) == 3) return buf;
    }
    if (tag(w, i, "C3")) {
      str(w, i, 1, buf, size);
      if (strlen(buf) == 3) return buf;
    }
  }
  return w->env->currency && *w->env->currency ? w->env->currency : "USD";
}

/* external_refs: where the document came from (system x12:<qual>:<id>). */
static xj *source_refs(const struct walk *w) {
  const struct x12_map_env *e = w->env;
  xj *a = xj_array();
  xj *r = xj_object();
  char sys[64], val[64];
  snprintf(sys, sizeof(sys), "x12:%s:%s", e->ic->isa05, e->ic->isa06);
  snprintf(val, sizeof(val), "%s-%s-%s", e->ic->isa13, e->group->gs06,
           e->set->st02);
  put_s(r, "system", sys);
  put_s(r, "type", e->set->st01);
  put_s(r, "value", val);
  xj_push(a, r);
  return a;
}

/* Two upper-case letters (ISO 3166 alpha-2), else NULL. */
static const char *country2(const char *c) {
  return strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' &&
                 c[1] <= 'Z'
             ? c
             : NULL;
}

/* X12 weight unit (L, LB, K, KG ...) -> canonical unit, or NULL. */
static const char *weight_unit(const char *u) {
  if (!strcmp(u, "L") || !strcmp(u, "LB") || !strcmp(u, "LBR")) return "lb";
  if (!strcmp(u, "K") || !strcmp(u, "KG") || !strcmp(u, "KGM")) return "kg";
  if (!strcmp(u, "OZ")) return "oz";
  if (!strcmp(u, "TN") || !strcmp(u, "MT")) return "t";
  return NULL;
}

/* {value, unit, kind} from a number element and a unit code; NULL when
 * the unit is unknown or the number is not. */
static xj *weight(const struct walk *w, uint32_t seg, uint32_t n_value,
                           const char *unit_code, const char *kind) {
  char raw[32], norm[32];
  const char *unit = weight_unit(unit_code);
  str(w, seg, n_value, raw, sizeof(raw));
  if (!unit || !raw[0] || normalize_number(raw, norm, sizeof(norm)) < 0 ||
      norm[0] == '-')
    return NULL;
  xj *o = xj_object();
  jadd(o, "value",
                         xj_number(norm));
  put_s(o, "unit", unit);
  put_s(o, "kind", kind);
  return o;
}

static const char *purpose_of(const char *code) {
  const char *p = x12_purpose(code);
  if (p && !strcmp(p, "cancellation")) return "cancel";
  if (p && !strcmp(p, "advance_notification")) return NULL;
  return p;
}

/* Canonical reference type for an X12 reference qualifier (128). */
static const char *ref_type(const char *q) {
  static const char *const t[][2] = {
      {"BM", "bol"},      {"CN", "pro"},        {"PO", "po"},
      {"SI", "shipment"}, {"IV", "invoice"},    {"DP", "department"},
      {"IA", "vendor"},   {"VN", "vendor_order"}, {"CR", "customer"},
      {"LT", "lot"},      {"SN", "seal"},       {"AO", "appointment"},
      {"QN", "stop"},     {"ZZ", "other"}};
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (!strcmp(t[i][0], q)) return t[i][1];
  return q;
}

static void add_ref(const struct walk *w, xj *refs, uint32_t i,
                    int qual_first) {
  char q[8], v[128];
  str(w, i, qual_first ? 1 : 2, q, sizeof(q));
  str(w, i, qual_first ? 2 : 1, v, sizeof(v));
  if (!q[0] || !v[0]) return;
  xj *r = xj_object();
  put_s(r, "type", ref_type(q));
  put_s(r, "value", v);
  put_s(r, "qualifier_raw", q);
  xj_push(refs, r);
}

/* N1 loop at *i (N1 N2 N3 N4 PER G61); advances *i past it. */
static xj *party(const struct walk *w, uint32_t *i) {
  char code[8], buf[128];
  xj *p = xj_object();
  str(w, *i, 1, code, sizeof(code));
  const char *role = x12_party_role(code);
  put_s(p, "role", role ? role : "other");
  put_s(p, "role_raw", code);
  put_el(w, p, "name", *i, 2);
  put_el(w, p, "id_qualifier", *i, 3);
  put_el(w, p, "id", *i, 4);
  str(w, *i, 3, buf, sizeof(buf));
  if (!strcmp(buf, "UL")) { /* GLN */
    str(w, *i, 4, buf, sizeof(buf));
    if (strlen(buf) == 13 && strspn(buf, "0123456789") == 13) put_s(p, "gln", buf);
  }
  xj *addr = NULL, *street = NULL, *contact = NULL;
  uint32_t k = *i + 1;
  for (; k < w->s->nsegs; k++) {
    if (tag(w, k, "N2")) {
      if (!addr) addr = xj_object();
      put_el(w, addr, "name", k, 1);
    } else if (tag(w, k, "N3")) {
      if (!addr) addr = xj_object();
      if (!street) street = xj_array();
      for (uint32_t n = 1; n <= 2; n++)
        if (str(w, k, n, buf, sizeof(buf))[0] &&
            xj_len(street) < 4)
          xj_push(street, xj_string(buf));
    } else if (tag(w, k, "N4")) {
      if (!addr) addr = xj_object();
      put_el(w, addr, "city", k, 1);
      put_el(w, addr, "region", k, 2);
      put_el(w, addr, "postal_code", k, 3);
      put_s(addr, "country", country2(str(w, k, 4, buf, sizeof(buf))));
    } else if (tag(w, k, "PER") || tag(w, k, "G61")) {
      if (contact) continue; /* the first contact */
      contact = xj_object();
      put_el(w, contact, "name", k, 2);
      char q[8];
      for (uint32_t n = 3; n + 1 <= 8; n += 2) {
        str(w, k, n, q, sizeof(q));
        if (strcmp(q, "TE") == 0) put_el(w, contact, "phone", k, n + 1);
        else if (strcmp(q, "EM") == 0) put_el(w, contact, "email", k, n + 1);
        else if (strcmp(q, "FX") == 0) put_el(w, contact, "fax", k, n + 1);
      }
    } else {
      break;
    }
  }
  if (addr) {
    if (street) jadd(addr, "street", street);
    jadd(p, "address", addr);
  }
  if (contact) jadd(p, "contact", contact);
  *i = k - 1;
  return p;
}

/* Product id pairs (qualifier, id) from element `from` on -> item_ids. */
static xj *item_ids(const struct walk *w, uint32_t i, uint32_t from) {
  xj *ids = xj_object();
  for (uint32_t n = from; n + 1 < w->s->segs[i].count; n += 2) {
    char q[8], v[64];
    str(w, i, n, q, sizeof(q));
    str(w, i, n + 1, v, sizeof(v));
    if (!q[0] || !v[0]) continue;
    int digits = strspn(v, "0123456789") == strlen(v);
    size_t len = strlen(v);
    const char *key = !strcmp(q, "BP") || !strcmp(q, "IN") ? "buyer"
                      : !strcmp(q, "VP") || !strcmp(q, "VN") || !strcmp(q, "VA") ? "vendor"
                      : !strcmp(q, "UP") ? "upc"
                      : (!strcmp(q, "EN") || !strcmp(q, "UK")) && digits && len >= 8 && len <= 14 ? "gtin"
                      : !strcmp(q, "SK") ? "sku"
                                         : NULL;
    char k2[16];
    if (!key || xj_get(ids, key, NULL)) {
      snprintf(k2, sizeof(k2), "x12_%s", q);
      key = k2;
    }
    /* k2 is a stack buffer: this key must be copied */
    if (!xj_get(ids, key, NULL))
      xj_set_copy(ids, key, xj_string(v));
  }
  return ids;
}

/* Price as unit_price_minor (+ price_per when it has more than 2
 * decimals: 3.535 = 3535 minor per 10 units). */
static void put_price(xj *o, const char *raw) {
  char norm[64];
  if (!raw[0] || normalize_number(raw, norm, sizeof(norm)) < 0) return;
  const char *dot = strchr(norm, '.');
  size_t dec = dot ? strlen(dot + 1) : 0;
  long long v = 0;
  int neg = norm[0] == '-';
  for (const char *c = norm + neg; *c; c++)
    if (*c != '.') {
      if (v > 92233720368547LL) return;
      v = v * 10 + (*c - '0');
    }
  long long per = 1;
  if (dec < 2)
    for (size_t k = dec; k < 2; k++) v *= 10;
  else
    for (size_t k = 2; k < dec && per < 1000000000LL; k++) per *= 10;
  jadd(o, "unit_price_minor", xj_int(neg ? -v : v));
  if (per > 1) jadd(o, "price_per", xj_int(per));
}

/* qty * price rounded half away from zero to minor units; -1 if unknown. */
static int line_amount(const char *qty, const char *price, long long *out) {
  char nq[64], np[64];
  if (normalize_number(qty, nq, sizeof(nq)) < 0 ||
      normalize_number(price, np, sizeof(np)) < 0)
    return -1;
  double a = strtod(nq, NULL) * strtod(np, NULL) * 100.0;
  if (a > 9e15 || a < -9e15) return -1;
  *out = (long long)(a < 0 ? a - 0.5 : a + 0.5);
  return 0;
}

static void set_headers(struct x12_out_msg *m, const struct walk *w,
                        const char *subject_kind, const char *id,
                        const char *partition, const char *correlation,
                        int index) {
  const struct x12_map_env *e = w->env;
  snprintf(m->subject, sizeof(m->subject), "%s/%s", subject_kind,
           id && *id ? id : e->set->st02);
  snprintf(m->partitionkey, sizeof(m->partitionkey), "%s",
           partition && *partition ? partition : (id ? id : ""));
  snprintf(m->correlationid, sizeof(m->correlationid), "%s",
           correlation && *correlation ? correlation : (id ? id : ""));
  int n = snprintf(m->idempotencykey, sizeof(m->idempotencykey),
                   "x12:%s:%s:%s-%s-%s", e->ic->isa06, e->set->st01,
                   e->ic->isa13, e->group->gs06, e->set->st02);
  if (index > 0 && n > 0 && (size_t)n < sizeof(m->idempotencykey))
    snprintf(m->idempotencykey + n, sizeof(m->idempotencykey) - (size_t)n,
             "/%d", index);
}

/* The serialized body: one buffer per thread, kept between messages. */
static _Thread_local struct xj_out tl_buf;

static int send(x12_emit_fn emit, void *ctx, struct x12_out_msg *m,
                const char *type, xj *body) {
  struct xj_out *b = &tl_buf;
  b->len = 0;
  b->oom = 0;
  xj_write(b, body); /* the tree stays in the arena until the set is done */
  m->type = type;
  m->body = b->d;
  m->body_len = b->len;
  int r = b->oom || !b->d || xj_failed() ? -1 : emit(ctx, m);
  /* a buffer grown by one very large body is not kept */
  if (b->cap > (1u << 20)) {
    free(b->d);
    memset(b, 0, sizeof(*b));
  }
  return r;
}

void x12_map_thread_release(void) {
  free(tl_buf.d);
  memset(&tl_buf, 0, sizeof(tl_buf));
  xj_thread_release();
}

/* A date (and optional time) as an RFC 3339 date-time; a date alone is
 * the start of that day in the partner's zone. */
static int date_time(const struct walk *w, const char *date, const char *time,
                     const char *code, char *out, size_t size) {
  return x12_resolve_time(date, time && time[0] ? time : "0000", code,
                          w->env->local_tz, out, size);
}

static void put_dt(const struct walk *w, xj *o, const char *key,
                   const char *date, const char *time, const char *code) {
  char out[40];
  if (date[0] && date_time(w, date, time, code, out, sizeof(out)) == 0)
    put_s(o, key, out);
}

/* ------------------------------------------------------------------ */
/* 850 / 855 -> order (dray.order.created.v1 / acknowledged.v1)        */

static xj *po_line(const struct walk *w, uint32_t *i,
                            const char *cur, int is_855) {
  char buf[64], qty[32], price[32];
  xj *l = xj_object();
  str(w, *i, 1, buf, sizeof(buf));
  if (buf[0]) put_s(l, "line_no", buf);
  else jadd(l, "line_no", xj_int((int)*i));
  put_num(w, l, "qty", *i, 2);
  put_el(w, l, "uom", *i, 3);
  str(w, *i, 2, qty, sizeof(qty));
  str(w, *i, 4, price, sizeof(price));
  put_price(l, price);
  long long amount;
  if (qty[0] && price[0] && line_amount(qty, price, &amount) == 0)
    jadd(l, "amount_minor", xj_int(amount));
  put_s(l, "currency", cur);
  jadd(l, "item_ids", item_ids(w, *i, 6));
  uint32_t k = *i + 1;
  xj *sched = NULL;
  for (; k < w->s->nsegs; k++) {
    if (tag(w, k, "PID")) {
      put_el(w, l, "description", k, 5);
    } else if (tag(w, k, "DTM")) {
      char q[8], d[16], t[16], out[40];
      str(w, k, 1, q, sizeof(q));
      if (!strcmp(q, "002") && date_time(w, str(w, k, 2, d, sizeof(d)),
                                         str(w, k, 3, t, sizeof(t)), NULL, out,
                                         sizeof(out)) == 0)
        put_s(l, "requested_delivery_at", out);
    } else if (tag(w, k, "ACK") && is_855) {
      char code[8];
      str(w, k, 1, code, sizeof(code));
      put_s(l, "ack_status", x12_line_ack_status(code));
      put_s(l, "ack_status_raw", code);
      put_num(w, l, "ack_qty", k, 2);
    } else if (tag(w, k, "SCH")) {
      char d[16], out[16];
      if (!sched) sched = xj_array();
      xj *s = xj_object();
      put_num(w, s, "qty", k, 1);
      if (!xj_get(s, "qty", NULL))
        jadd(s, "qty", xj_int(0));
      fmt_date(str(w, k, 6, d, sizeof(d)), out, sizeof(out));
      put_s(s, "date", out);
      xj_push(sched, s);
    } else if (tag(w, k, "PO4") || tag(w, k, "CTP") || tag(w, k, "QTY") ||
               tag(w, k, "REF") || tag(w, k, "MSG") || tag(w, k, "TXI") ||
               tag(w, k, "SAC")) {
      /* line detail we do not map */
    } else {
      break;
    }
  }
  if (sched) jadd(l, "schedule", sched);
  *i = k - 1;
  return l;
}

/* DTM on an order header -> requested windows. */
static void order_dtm(const struct walk *w, uint32_t i, xj *o) {
  char q[8], d[16], from[40], to[40];
  str(w, i, 1, q, sizeof(q));
  str(w, i, 2, d, sizeof(d));
  if (date_time(w, d, "0000", NULL, from, sizeof(from)) < 0 ||
      date_time(w, d, "235959", NULL, to, sizeof(to)) < 0)
    return;
  const char *key = !strcmp(q, "002") ? "requested_delivery_window"
                    : !strcmp(q, "010") || !strcmp(q, "037") || !strcmp(q, "038")
                        ? "requested_pickup_window"
                        : NULL;
  if (!key) return;
  xj *win = NULL;
  if (!xj_get(o, key, &win)) {
    win = xj_object();
    jadd(o, key, win);
  }
  if (!strcmp(q, "037")) put_s(win, "from", from);
  else if (!strcmp(q, "038")) put_s(win, "to", to);
  else {
    put_s(win, "from", from);
    put_s(win, "to", to);
  }
}

static int map_850_855(const struct walk *w, x12_emit_fn emit, void *ctx,
                       int is_855) {
  char cur[8], po[64] = "", buf[64];
  const char *currency = currency_of(w, cur, sizeof(cur));
  xj *o = xj_object();
  xj *parties = xj_array();
  xj *lines = xj_array();
  xj *refs = xj_array();
  xj *notes = xj_array();
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "BEG") || tag(w, i, "BAK")) {
      int bak = tag(w, i, "BAK");
      str(w, i, 3, po, sizeof(po));
      put_s(o, "id", po);
      put_s(o, "order_no", po);
      put_s(o, "po_number", po);
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "purpose", purpose_of(buf));
      if (bak) {
        str(w, i, 2, buf, sizeof(buf));
        const char *t = x12_order_ack_type(buf);
        put_s(o, "status", !strcmp(t, "accepted_with_exceptions") ? "accepted_with_changes"
                           : !strcmp(t, "unknown") ? "acknowledged" : t);
        xj *raw = xj_object();
        put_s(raw, "system", "x12.855");
        put_s(raw, "code", buf);
        jadd(o, "status_raw", raw);
        put_date(w, o, "po_date", i, 4);
        put_date(w, o, "order_date", i, 4);
        put_el(w, o, "erp_ref", i, 8);
      } else {
        put_s(o, "status", "open");
        put_el(w, o, "order_type", i, 2);
        put_date(w, o, "po_date", i, 5);
        put_date(w, o, "order_date", i, 5);
        put_el(w, o, "customer_ref", i, 6);
      }
    } else if (tag(w, i, "REF")) {
      add_ref(w, refs, i, 1);
    } else if (tag(w, i, "DTM")) {
      order_dtm(w, i, o);
    } else if (tag(w, i, "TD5")) {
      xj *c = xj_object();
      str(w, i, 3, buf, sizeof(buf));
      if (strlen(buf) >= 2 && strlen(buf) <= 4 &&
          strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == strlen(buf))
        put_s(c, "scac", buf);
      put_el(w, c, "mode", i, 4);
      put_el(w, c, "text", i, 5);
      jadd(o, "routing", c);
    } else if (tag(w, i, "ITD")) {
      xj *t = xj_object();
      put_el(w, t, "code", i, 1);
      char nd[16];
      str(w, i, 7, nd, sizeof(nd));
      if (nd[0] && strspn(nd, "0123456789") == strlen(nd))
        jadd(t, "net_days", xj_int(atoi(nd)));
      put_el(w, t, "description", i, 12);
      jadd(o, "payment_terms", t);
    } else if (tag(w, i, "N1")) {
      xj_push(parties, party(w, &i));
    } else if (tag(w, i, "PO1")) {
      xj_push(lines, po_line(w, &i, currency, is_855));
    } else if (tag(w, i, "MSG") || tag(w, i, "NTE")) {
      str(w, i, tag(w, i, "NTE") ? 2 : 1, buf, sizeof(buf));
      if (buf[0]) xj_push(notes, xj_string(buf));
    } else if (tag(w, i, "CTT")) {
      xj *t = NULL;
      if (!xj_get(o, "totals", &t)) {
        t = xj_object();
        jadd(o, "totals", t);
      }
      char n[16];
      str(w, i, 1, n, sizeof(n));
      if (n[0] && strspn(n, "0123456789") == strlen(n))
        jadd(t, "line_count", xj_int(atoi(n)));
      put_num(w, t, "qty", i, 2);
    } else if (tag(w, i, "AMT")) {
      long long minor;
      str(w, i, 2, buf, sizeof(buf));
      xj *t = NULL;
      if (!xj_get(o, "totals", &t)) {
        t = xj_object();
        jadd(o, "totals", t);
      }
      if (x12_decimal_minor(buf, &minor) == 0)
        jadd(t, "amount_minor", xj_int(minor));
    }
  }
  if (!po[0]) { /* BEG/BAK missing: validation refuses that; stay valid */
    put_s(o, "id", w->env->set->st02);
    put_s(o, "order_no", w->env->set->st02);
  }
  put_s(o, "currency", currency);
  jadd(o, "references", refs);
  jadd(o, "parties", parties);
  jadd(o, "lines", lines);
  if (xj_len(notes)) jadd(o, "notes", notes);
  else (void)notes; /* arena: dropped with the set */
  jadd(o, "external_refs", source_refs(w));
  struct x12_out_msg m;
  set_headers(&m, w, "order", po, po, po, 0);
  if (send(emit, ctx, &m,
           is_855 ? "dray.order.acknowledged.v1" : "dray.order.created.v1",
           o) < 0)
    return -1;
  return 1;
}

/* ------------------------------------------------------------------ */
/* 856 ship notice -> dray.shipment.created.v1                          */

static const char *mode_of(const char *td504) {
  if (!strcmp(td504, "A")) return "air";
  if (!strcmp(td504, "O") || !strcmp(td504, "S")) return "ocean";
  if (!strcmp(td504, "R")) return "rail";
  if (!strcmp(td504, "X") || !strcmp(td504, "I")) return "intermodal";
  if (!strcmp(td504, "U") || !strcmp(td504, "E")) return "parcel";
  if (!strcmp(td504, "L")) return "ltl";
  return "unknown";
}

static int map_856(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", po_first[64] = "", buf[64];
  xj *o = xj_object();
  xj *parties = xj_array();
  xj *orders = xj_array();
  xj *packages = xj_array();
  xj *lines = xj_array();
  xj *refs = xj_array();
  char level = 0, hl[16] = "";
  char cur_po[64] = "";
  xj *pack_lines = NULL, *line = NULL;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "BSN")) {
      char d[16], t[16];
      str(w, i, 2, id, sizeof(id));
      put_s(o, "id", id);
      put_s(o, "asn_no", id);
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "purpose", purpose_of(buf));
      put_dt(w, o, "created_at", str(w, i, 3, d, sizeof(d)),
             str(w, i, 4, t, sizeof(t)), NULL);
    } else if (tag(w, i, "HL")) {
      str(w, i, 3, buf, sizeof(buf));
      level = buf[0];
      str(w, i, 1, hl, sizeof(hl));
      line = NULL;
      if (level == 'P' || level == 'T') {
        xj *p = xj_object();
        char pid[24];
        snprintf(pid, sizeof(pid), "HL%s", hl);
        put_s(p, "id", pid);
        put_s(p, "level", level == 'T' ? "tare" : "pack");
        char parent[16];
        str(w, i, 2, parent, sizeof(parent));
        if (parent[0]) {
          snprintf(pid, sizeof(pid), "HL%s", parent);
          put_s(p, "parent_id", pid);
        }
        pack_lines = xj_array();
        jadd(p, "lines", pack_lines);
        xj_push(packages, p);
      } else if (level == 'O' || level == 'S') {
        pack_lines = NULL;
      }
    } else if (tag(w, i, "TD1") && level == 'S') {
      char n[16], u[8], q[8];
      str(w, i, 2, n, sizeof(n));
      if (n[0] && strspn(n, "0123456789") == strlen(n))
        jadd(o, "lading_qty", xj_int(atoi(n)));
      str(w, i, 8, u, sizeof(u));
      str(w, i, 6, q, sizeof(q));
      xj *wt = weight(w, i, 7, u, !strcmp(q, "N") ? "net" : "gross");
      if (wt) jadd(o, "weight", wt);
    } else if (tag(w, i, "TD5") && level == 'S') {
      xj *c = xj_object();
      put_el(w, c, "scac", i, 3);
      put_el(w, c, "name", i, 5);
      jadd(o, "carrier", c);
      str(w, i, 4, buf, sizeof(buf));
      if (buf[0]) {
        put_s(o, "mode", mode_of(buf));
        put_s(o, "mode_raw", buf);
      }
    } else if (tag(w, i, "TD3") && level == 'S') {
      xj *e = xj_object();
      put_el(w, e, "type", i, 1);
      put_el(w, e, "scac", i, 2);
      put_el(w, e, "number", i, 3);
      jadd(o, "equipment", e);
    } else if (tag(w, i, "REF")) {
      str(w, i, 1, buf, sizeof(buf));
      if (level == 'S' && strcmp(buf, "BM") == 0)
        put_el(w, o, "bol_number", i, 2);
      else if (level == 'S' && strcmp(buf, "CN") == 0)
        put_el(w, o, "pro_number", i, 2);
      else if (level == 'I' && line && strcmp(buf, "LT") == 0)
        put_el(w, line, "lot", i, 2);
      else if (level == 'S' || level == 'O')
        add_ref(w, refs, i, 1);
    } else if (tag(w, i, "DTM")) {
      char q[8], d[16], t[16], code[8];
      str(w, i, 1, q, sizeof(q));
      const char *key = strcmp(q, "011") == 0   ? "ship_date"
                        : strcmp(q, "017") == 0 ? "estimated_delivery"
                        : strcmp(q, "067") == 0 ? "estimated_delivery"
                                                : NULL;
      if (key)
        put_dt(w, o, key, str(w, i, 2, d, sizeof(d)), str(w, i, 3, t, sizeof(t)),
               str(w, i, 4, code, sizeof(code)));
    } else if (tag(w, i, "N1")) {
      xj_push(parties, party(w, &i));
    } else if (tag(w, i, "PRF")) {
      str(w, i, 1, cur_po, sizeof(cur_po));
      if (!po_first[0]) snprintf(po_first, sizeof(po_first), "%s", cur_po);
      xj *ord = xj_object();
      put_s(ord, "po_number", cur_po);
      xj_push(orders, ord);
    } else if (tag(w, i, "MAN") && pack_lines) {
      char q[8];
      str(w, i, 1, q, sizeof(q));
      xj *p = xj_at(
          packages, xj_len(packages) - 1);
      char mark[64];
      str(w, i, 2, mark, sizeof(mark));
      /* GS1 SSCC: 18 digits, often written with its AI "00" in front */
      const char *sscc = strlen(mark) == 20 && !strncmp(mark, "00", 2) ? mark + 2 : mark;
      if (!strcmp(q, "GM") && strlen(sscc) == 18 && strspn(sscc, "0123456789") == 18)
        put_s(p, "sscc", sscc);
      else if (!strcmp(q, "GM")) put_s(p, "marks", mark);
      else if (!strcmp(q, "CP")) put_el(w, p, "tracking_number", i, 2);
      else put_el(w, p, "marks", i, 2);
    } else if (tag(w, i, "LIN")) {
      line = xj_object();
      str(w, i, 1, buf, sizeof(buf));
      if (buf[0]) put_s(line, "line_no", buf);
      jadd(line, "item_ids", item_ids(w, i, 2));
      if (cur_po[0]) {
        xj *r = xj_object();
        put_s(r, "po_number", cur_po);
        jadd(line, "order_ref", r);
      }
      xj_push(pack_lines ? pack_lines : lines, line);
    } else if (tag(w, i, "SN1") && line) {
      put_num(w, line, "qty", i, 2);
      put_el(w, line, "uom", i, 3);
    } else if (tag(w, i, "PID") && line) {
      put_el(w, line, "description", i, 5);
    }
  }
  if (!id[0]) put_s(o, "id", w->env->set->st02);
  jadd(o, "parties", parties);
  jadd(o, "order_refs", orders);
  jadd(o, "packages", packages);
  jadd(o, "lines", lines);
  jadd(o, "references", refs);
  jadd(o, "external_refs", source_refs(w));
  struct x12_out_msg m;
  set_headers(&m, w, "shipment", id, id, po_first, 0);
  return send(emit, ctx, &m, "dray.shipment.created.v1", o) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* 204 load tender -> dray.shipment.tendered.v1                         */

/* G62 -> (key, date-time) on dst. */
static void g62(const struct walk *w, uint32_t i, xj *dst,
                int in_stop) {
  char q[8], d[16], t[16], code[8], out[40];
  str(w, i, 1, q, sizeof(q));
  str(w, i, 2, d, sizeof(d));
  if (!d[0]) return;
  str(w, i, 4, t, sizeof(t));
  str(w, i, 5, code, sizeof(code));
  if (date_time(w, d, t, code, out, sizeof(out)) < 0) return;
  if (!in_stop) {
    if (!strcmp(q, "64")) {
      xj *tender = NULL;
      if (!xj_get(dst, "tender", &tender)) {
        tender = xj_object();
        jadd(dst, "tender", tender);
      }
      put_s(tender, "respond_by", out);
    }
    return;
  }
  const char *key = !strcmp(q, "69") || !strcmp(q, "70") || !strcmp(q, "10") ||
                            !strcmp(q, "53") || !strcmp(q, "37") || !strcmp(q, "68")
                        ? "from"
                    : !strcmp(q, "54") || !strcmp(q, "38") ? "to"
                                                            : NULL;
  if (!key) return;
  xj *ap = NULL;
  if (!xj_get(dst, "appointment", &ap)) {
    ap = xj_object();
    jadd(dst, "appointment", ap);
  }
  put_s(ap, key, out);
  if (!strcmp(q, "69") || !strcmp(q, "70")) {
    put_s(dst, "planned_arrival", out);
    xj *raw = xj_object();
    put_s(raw, "system", "x12.g62");
    put_s(raw, "code", q);
    jadd(ap, "raw", raw);
  }
}

static int map_204(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", po_first[64] = "", buf[64];
  xj *o = xj_object();
  xj *parties = xj_array();
  xj *refs = xj_array();
  xj *stops = xj_array();
  xj *notes = xj_array();
  xj *stop = NULL, *stop_refs = NULL, *stop_orders = NULL;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "B2")) {
      str(w, i, 4, id, sizeof(id));
      put_s(o, "id", id);
      xj *c = xj_object();
      put_el(w, c, "scac", i, 2);
      jadd(o, "carrier", c);
      str(w, i, 6, buf, sizeof(buf));
      put_s(o, "payment_method", strcmp(buf, "PP") == 0   ? "prepaid"
                                 : strcmp(buf, "CC") == 0 ? "collect"
                                 : strcmp(buf, "TP") == 0 ? "third_party"
                                                          : NULL);
    } else if (tag(w, i, "B2A")) {
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "purpose", purpose_of(buf));
    } else if (tag(w, i, "L11")) {
      add_ref(w, stop ? stop_refs : refs, i, 0);
      str(w, i, 2, buf, sizeof(buf));
      if (strcmp(buf, "PO") == 0 && !po_first[0])
        str(w, i, 1, po_first, sizeof(po_first));
    } else if (tag(w, i, "G62")) {
      g62(w, i, stop ? stop : o, stop != NULL);
    } else if (tag(w, i, "NTE")) {
      str(w, i, 2, buf, sizeof(buf));
      if (buf[0]) xj_push(notes, xj_string(buf));
    } else if (tag(w, i, "N7") && !stop) {
      xj *e = xj_object();
      put_el(w, e, "number", i, 2);
      put_el(w, e, "type", i, 11);
      jadd(o, "equipment", e);
    } else if (tag(w, i, "N1")) {
      xj *p = party(w, &i);
      if (stop) {
        xj *loc = xj_object();
        xj *v;
        if (xj_get(p, "id", &v)) put_s(loc, "id", xj_str(v));
        if (xj_get(p, "name", &v)) put_s(loc, "name", xj_str(v));
        if (xj_get(p, "address", &v))
          jadd(loc, "address", v);
        jadd(stop, "location", loc);
        xj *sp = xj_array();
        xj_push(sp, p);
        jadd(stop, "parties", sp);
      } else {
        xj_push(parties, p);
      }
    } else if (tag(w, i, "S5")) {
      stop = xj_object();
      stop_refs = xj_array();
      stop_orders = xj_array();
      char seq[16];
      str(w, i, 1, seq, sizeof(seq));
      int n = atoi(seq);
      char sid[96];
      snprintf(sid, sizeof(sid), "%s/%d", id[0] ? id : w->env->set->st02, n > 0 ? n : 1);
      put_s(stop, "id", sid);
      put_s(stop, "shipment_id", id);
      jadd(stop, "sequence", xj_int(n > 0 ? n : 1));
      str(w, i, 2, buf, sizeof(buf));
      const char *type = (!strcmp(buf, "LD") || !strcmp(buf, "CL") ||
                          !strcmp(buf, "PL") || !strcmp(buf, "PU"))
                             ? "pickup"
                         : (!strcmp(buf, "UL") || !strcmp(buf, "CU") ||
                            !strcmp(buf, "PD"))
                             ? "delivery"
                             : "other";
      put_s(stop, "type", type);
      xj *raw = xj_object();
      put_s(raw, "system", "x12.s5");
      put_s(raw, "code", buf[0] ? buf : "?");
      jadd(stop, "type_raw", raw);
      put_s(stop, "status", "planned");
      char q[8];
      str(w, i, 4, q, sizeof(q));
      xj *wt = weight(w, i, 3, q, "gross");
      if (wt) jadd(stop, "weight", wt);
      char u[16];
      str(w, i, 5, u, sizeof(u));
      if (u[0] && strspn(u, "0123456789") == strlen(u))
        jadd(stop, "lading_qty", xj_int(atoi(u)));
      jadd(stop, "references", stop_refs);
      jadd(stop, "orders", stop_orders);
      xj_push(stops, stop);
    } else if (tag(w, i, "OID") && stop) {
      xj *ord = xj_object();
      put_el(w, ord, "order_no", i, 1);
      put_el(w, ord, "po_number", i, 2);
      str(w, i, 2, buf, sizeof(buf));
      if (buf[0] && !po_first[0]) snprintf(po_first, sizeof(po_first), "%s", buf);
      xj_push(stop_orders, ord);
    } else if (tag(w, i, "L3")) {
      char q[8];
      str(w, i, 2, q, sizeof(q));
      xj *wt = weight(w, i, 1, "L", "gross");
      if (wt) jadd(o, "weight", wt);
      char cur[8];
      long long minor;
      str(w, i, 5, buf, sizeof(buf));
      if (buf[0] && strspn(buf, "0123456789-") == strlen(buf)) {
        minor = strtoll(buf, NULL, 10);
        xj *tender = NULL;
        if (!xj_get(o, "tender", &tender)) {
          tender = xj_object();
          jadd(o, "tender", tender);
        }
        xj *rate = xj_object();
        jadd(rate, "amount_minor", xj_int(minor));
        put_s(rate, "currency", currency_of(w, cur, sizeof(cur)));
        jadd(tender, "rate", rate);
      }
    }
  }
  if (!id[0]) put_s(o, "id", w->env->set->st02);
  xj *tender = NULL;
  if (!xj_get(o, "tender", &tender)) {
    tender = xj_object();
    jadd(o, "tender", tender);
  }
  put_s(tender, "response", "pending");
  jadd(o, "references", refs);
  jadd(o, "parties", parties);
  jadd(o, "stops", stops);
  if (xj_len(notes)) jadd(o, "notes", notes);
  else (void)notes; /* arena: dropped with the set */
  jadd(o, "external_refs", source_refs(w));
  struct x12_out_msg m;
  set_headers(&m, w, "shipment", id, id, po_first, 0);
  return send(emit, ctx, &m, "dray.shipment.tendered.v1", o) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* 990 tender response -> dray.shipment.tender_response.v1              */

static int map_990(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", buf[64];
  xj *o = xj_object();
  xj *refs = xj_array();
  xj *notes = xj_array();
  xj *tender = xj_object();
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "B1")) {
      char d[16];
      str(w, i, 2, id, sizeof(id));
      put_s(o, "id", id);
      xj *c = xj_object();
      put_el(w, c, "scac", i, 1);
      jadd(o, "carrier", c);
      put_dt(w, tender, "responded_at", str(w, i, 3, d, sizeof(d)), NULL, NULL);
      str(w, i, 4, buf, sizeof(buf));
      put_s(tender, "response", strcmp(buf, "A") == 0   ? "accepted"
                                : strcmp(buf, "D") == 0 ? "declined"
                                                        : "pending");
      xj *raw = xj_object();
      put_s(raw, "system", "x12.990");
      put_s(raw, "code", buf[0] ? buf : "?");
      jadd(tender, "response_raw", raw);
    } else if (tag(w, i, "N9")) {
      add_ref(w, refs, i, 1);
    } else if (tag(w, i, "K1")) {
      char a[128];
      for (uint32_t n = 1; n <= 2; n++)
        if (str(w, i, n, a, sizeof(a))[0])
          xj_push(notes, xj_string(a));
    }
  }
  if (!id[0]) put_s(o, "id", w->env->set->st02);
  xj *v;
  if (xj_get(tender, "response", &v) &&
      !strcmp(xj_str(v), "declined") &&
      xj_len(notes))
    put_s(tender, "decline_reason",
          xj_str(xj_at(notes, 0)));
  jadd(o, "tender", tender);
  jadd(o, "references", refs);
  jadd(o, "notes", notes);
  jadd(o, "external_refs", source_refs(w));
  struct x12_out_msg m;
  set_headers(&m, w, "shipment", id, id, id, 0);
  return send(emit, ctx, &m, "dray.shipment.tender_response.v1", o) < 0 ? -1
                                                                       : 1;
}

/* ------------------------------------------------------------------ */
/* 214 status -> dray.shipment.milestone.v1 (one per AT7)               */

/* "YYYY-MM-DDTHH:MM:SS+hh:mm" -> "+hh:mm" */
static const char *offset_of(const char *rfc3339) {
  size_t n = strlen(rfc3339);
  return n >= 6 ? rfc3339 + n - 6 : "Z";
}

/* X12 MS104/MS105: degrees as DDDMMSSH/DDMMSSH or decimal with a sign
 * char; only the decimal form (e.g. "41.878") is mapped. */
static void put_coord(const struct walk *w, xj *o, const char *key,
                      uint32_t seg, uint32_t n, double lim) {
  char raw[32], norm[32];
  str(w, seg, n, raw, sizeof(raw));
  if (!strchr(raw, '.') || normalize_number(raw, norm, sizeof(norm)) < 0) return;
  double v = strtod(norm, NULL);
  if (v < -lim || v > lim) return;
  jadd(o, key, xj_number(norm));
}

static int map_214(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", pro[64] = "", scac[16] = "", po[64] = "";
  int count = 0;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "B10")) {
      str(w, i, 1, pro, sizeof(pro));
      str(w, i, 2, id, sizeof(id));
      str(w, i, 3, scac, sizeof(scac));
    } else if (tag(w, i, "L11") && !po[0]) {
      char q[8];
      if (strcmp(str(w, i, 2, q, sizeof(q)), "PO") == 0)
        str(w, i, 1, po, sizeof(po));
    }
  }
  if (!id[0]) snprintf(id, sizeof(id), "%s", pro[0] ? pro : w->env->set->st02);
  uint32_t lx_start = 0;
  char lx[16] = "";
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "LX")) {
      lx_start = i;
      str(w, i, 1, lx, sizeof(lx));
      continue;
    }
    if (!tag(w, i, "AT7")) continue;
    char st[8], rs[8], ap[8], ar[8], d[16], t[16], code[8], out[40];
    str(w, i, 1, st, sizeof(st));
    str(w, i, 2, rs, sizeof(rs));
    str(w, i, 3, ap, sizeof(ap));
    str(w, i, 4, ar, sizeof(ar));
    str(w, i, 5, d, sizeof(d));
    str(w, i, 6, t, sizeof(t));
    str(w, i, 7, code, sizeof(code));
    xj *o = xj_object();
    char mid[200];
    snprintf(mid, sizeof(mid), "x12:%s:%s-%s-%s/%d", w->env->ic->isa06,
             w->env->ic->isa13, w->env->group->gs06, w->env->set->st02,
             count + 1);
    put_s(o, "id", mid);
    put_s(o, "shipment_id", id);
    put_s(o, "tracking_number", pro);
    const struct x12_code *sc =
        st[0] ? x12_at7_status(st) : x12_at7_appointment(ap);
    const char *raw_code = st[0] ? st : ap[0] ? ap : "?";
    if (sc) {
      put_s(o, "status", sc->canonical);
    } else {
      put_s(o, "status", "unknown");
      if (w->env->count) w->env->count(w->env->count_ctx, "at7_unknown_status");
    }
    const char *reason_code = st[0] ? rs : ar;
    if (reason_code[0] && strcmp(reason_code, "NS") && strcmp(reason_code, "NA")) {
      const struct x12_code *rc = x12_at7_reason(reason_code);
      put_s(o, "reason", rc && strcmp(rc->canonical, "normal") ? rc->canonical : "unknown");
    }
    xj *raw = xj_object();
    put_s(raw, "system", "x12.214");
    put_s(raw, "code", raw_code);
    put_s(raw, "description", sc ? sc->text : "unknown AT7 status code");
    put_s(raw, "reason_code", reason_code);
    jadd(o, "raw", raw);
    xj *at7 = xj_object();
    put_s(at7, "status", st);
    put_s(at7, "reason", rs);
    put_s(at7, "appointment_status", ap);
    put_s(at7, "appointment_reason", ar);
    put_s(at7, "time_code", strlen(code) == 2 ? code : NULL);
    jadd(o, "x12_at7", at7);
    /* occurred_at: AT705/06 with AT707; without a date, the group's */
    if (!d[0] || date_time(w, d, t, code, out, sizeof(out)) < 0) {
      char gd[16], gt[16];
      snprintf(gd, sizeof(gd), "%s", w->env->group->gs04);
      snprintf(gt, sizeof(gt), "%.4s", w->env->group->gs05);
      if (date_time(w, gd, gt, "UT", out, sizeof(out)) < 0)
        snprintf(out, sizeof(out), "1970-01-01T00:00:00+00:00");
      put_s(o, "occurred_at_source", "group_date");
    }
    put_s(o, "occurred_at", out);
    put_s(o, "tz_offset", offset_of(out));
    if (!code[0] || strcmp(code, "LT") == 0)
      put_s(o, "time_zone_source", "partner_local_time_zone");
    if (sc && !strcmp(sc->canonical, "eta_updated")) {
      jadd(o, "estimated", xj_bool(1));
      put_s(o, "eta", out);
    }
    if (!st[0] && ap[0]) {
      xj *win = xj_object();
      put_s(win, "from", out);
      put_s(win, "tz_offset", offset_of(out));
      jadd(o, "appointment", win);
    }
    if (lx[0] && strspn(lx, "0123456789") == strlen(lx) && atoi(lx) > 0)
      jadd(o, "stop_sequence", xj_int(atoi(lx)));
    xj *refs = xj_array();
    for (uint32_t k = (lx_start ? lx_start + 1 : i + 1); k + 1 < w->s->nsegs;
         k++) {
      if (tag(w, k, "LX") || (tag(w, k, "AT7") && k > i)) break;
      if (tag(w, k, "MS1")) {
        xj *loc = xj_object();
        char c2[8];
        put_el(w, loc, "city", k, 1);
        put_el(w, loc, "region", k, 2);
        put_s(loc, "country", country2(str(w, k, 3, c2, sizeof(c2))));
        put_coord(w, loc, "lon", k, 4, 180);
        put_coord(w, loc, "lat", k, 5, 90);
        jadd(o, "location", loc);
      } else if (tag(w, k, "MS2")) {
        put_el(w, o, "equipment_number", k, 2);
      } else if (tag(w, k, "L11") && lx_start) {
        add_ref(w, refs, k, 0);
      } else if (tag(w, k, "AT8")) {
        char u[8];
        str(w, k, 2, u, sizeof(u));
        xj *wt = weight(w, k, 3, u, "gross");
        if (wt) jadd(o, "weight", wt);
      }
    }
    jadd(o, "references", refs);
    jadd(o, "external_refs", source_refs(w));
    if (scac[0]) {
      xj *c = xj_object();
      put_s(c, "scac", scac);
      jadd(o, "carrier", c);
    }
    put_s(o, "source", "x12.214");
    struct x12_out_msg m;
    set_headers(&m, w, "shipment", id, id, po[0] ? po : id, ++count);
    if (send(emit, ctx, &m, "dray.shipment.milestone.v1", o) < 0) return -1;
  }
  return count;
}

/* ------------------------------------------------------------------ */
/* 210 / 810 -> dray.invoice.received.v1                                */

static const char *charge_code(const char *x12) {
  static const char *const t[][2] = {
      {"400", "base"},  {"405", "fuel"},     {"FUE", "fuel"},
      {"DSC", "discount"}, {"DET", "detention"}, {"LFT", "liftgate"},
      {"RES", "residential"}, {"HAZ", "hazmat"}, {"SOC", "stop_off"},
      {"TAX", "tax"},   {"GST", "tax"},      {"MIN", "min_adj"},
      {"INS", "other"}};
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (!strcmp(t[i][0], x12)) return t[i][1];
  return "other";
}

static long long n2_minor(const char *raw, int *ok) {
  *ok = raw[0] && strspn(raw + (raw[0] == '-'), "0123456789") ==
                      strlen(raw + (raw[0] == '-')) &&
        strlen(raw) < 18;
  return *ok ? strtoll(raw, NULL, 10) : 0;
}

/* What an inbound invoice (210 or 810) gets whatever its segments said:
 * the set's ST02 as id and number when no invoice number came, type,
 * status and direction, the currency, and the group's date (GS04) when no
 * issue date came. */
static void invoice_header(const struct walk *w, xj *o, const char *num, const char *currency) {
  if (!num[0]) {
    put_s(o, "id", w->env->set->st02);
    put_s(o, "number", w->env->set->st02);
  }
  put_s(o, "type", "invoice");
  put_s(o, "status", "received");
  put_s(o, "direction", "payable");
  put_s(o, "currency", currency);
  if (!xj_get(o, "issue_date", NULL)) {
    char gd[16];
    fmt_date(w->env->group->gs04, gd, sizeof(gd));
    put_s(o, "issue_date", gd[0] ? gd : "1970-01-01");
  }
}

static int map_210(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char num[64] = "", ship[64] = "", po[64] = "", buf[64], cur[8];
  const char *currency = currency_of(w, cur, sizeof(cur));
  xj *o = xj_object();
  xj *parties = xj_array();
  xj *refs = xj_array();
  xj *lines = xj_array();
  xj *sref = xj_object();
  long long sum = 0, b307 = 0, l305 = 0;
  int have_b307 = 0, have_l305 = 0, sum_ok = 1, ok;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "B3")) {
      char d[16];
      str(w, i, 2, num, sizeof(num));
      str(w, i, 3, ship, sizeof(ship));
      put_s(o, "id", num);
      put_s(o, "number", num);
      if (ship[0]) {
        put_s(sref, "shipment_id", ship);
        xj *ids = xj_array();
        xj_push(ids, xj_string(ship));
        jadd(o, "shipment_ids", ids);
      }
      str(w, i, 4, buf, sizeof(buf));
      put_s(o, "payment_method", strcmp(buf, "PP") == 0   ? "prepaid"
                                 : strcmp(buf, "CC") == 0 ? "collect"
                                 : strcmp(buf, "TP") == 0 ? "third_party"
                                                          : NULL);
      put_date(w, o, "issue_date", i, 6);
      b307 = n2_minor(str(w, i, 7, buf, sizeof(buf)), &have_b307);
      put_dt(w, o, "delivered_at", str(w, i, 9, d, sizeof(d)), NULL, NULL);
      xj *c = xj_object();
      put_el(w, c, "scac", i, 11);
      jadd(o, "carrier", c);
    } else if (tag(w, i, "N9")) {
      add_ref(w, refs, i, 1);
      str(w, i, 1, buf, sizeof(buf));
      if (strcmp(buf, "BM") == 0) put_el(w, sref, "bol_number", i, 2);
      if (strcmp(buf, "CN") == 0) put_el(w, sref, "pro_number", i, 2);
      if (strcmp(buf, "PO") == 0 && !po[0]) str(w, i, 2, po, sizeof(po));
    } else if (tag(w, i, "N1")) {
      xj_push(parties, party(w, &i));
    } else if (tag(w, i, "L1")) {
      xj *l = xj_object();
      char code[8], rate[32];
      str(w, i, 1, buf, sizeof(buf));
      if (buf[0]) put_s(l, "line_no", buf);
      str(w, i, 8, code, sizeof(code));
      put_s(l, "charge_code", charge_code(code));
      put_s(l, "x12_code", code);
      put_s(l, "description", x12_charge_text(code));
      str(w, i, 2, rate, sizeof(rate));
      char norm[32];
      if (rate[0] && normalize_number(rate, norm, sizeof(norm)) == 0)
        put_s(l, "rate", norm);
      put_el(w, l, "rate_uom", i, 3);
      long long a = n2_minor(str(w, i, 4, buf, sizeof(buf)), &ok);
      if (!ok) { /* some carriers put the charge in L105 or L106 */
        a = n2_minor(str(w, i, 5, buf, sizeof(buf)), &ok);
        if (!ok) a = n2_minor(str(w, i, 6, buf, sizeof(buf)), &ok);
      }
      if (!ok) sum_ok = 0;
      sum += a;
      jadd(l, "amount_minor", xj_int(a));
      xj_push(lines, l);
    } else if (tag(w, i, "L3")) {
      xj *wt = weight(w, i, 1, "L", "gross");
      if (wt) jadd(o, "weight", wt);
      l305 = n2_minor(str(w, i, 5, buf, sizeof(buf)), &have_l305);
      char n[16];
      str(w, i, 11, n, sizeof(n));
      if (n[0] && strspn(n, "0123456789") == strlen(n))
        jadd(o, "lading_qty", xj_int(atoi(n)));
    }
  }
  invoice_header(w, o, num, currency);
  long long payable = have_b307 ? b307 : have_l305 ? l305 : sum;
  xj *t = xj_object();
  jadd(t, "net_minor", xj_int(have_l305 ? l305 : sum));
  jadd(t, "payable_minor", xj_int(payable));
  jadd(o, "totals", t);
  xj *srefs = xj_array();
  xj_push(srefs, sref);
  jadd(o, "shipment_refs", srefs);
  xj *orefs = xj_array();
  if (po[0]) {
    xj *r = xj_object();
    put_s(r, "po_number", po);
    xj_push(orefs, r);
  }
  jadd(o, "order_refs", orefs);
  jadd(o, "references", refs);
  jadd(o, "parties", parties);
  jadd(o, "lines", lines);
  /* sum(L104) == L305 == B307: kept as a flag, not a rejection */
  jadd(
      o, "totals_consistent",
      xj_bool(sum_ok && (!have_l305 || sum == l305) &&
                              (!have_b307 || !have_l305 || l305 == b307)));
  put_s(o, "document_type", "210");
  jadd(o, "external_refs", source_refs(w));
  struct x12_out_msg m;
  set_headers(&m, w, "invoice", num, ship[0] ? ship : num, po[0] ? po : ship, 0);
  return send(emit, ctx, &m, "dray.invoice.received.v1", o) < 0 ? -1 : 1;
}

static int map_810(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char num[64] = "", po[64] = "", buf[64], cur[8];
  const char *currency = currency_of(w, cur, sizeof(cur));
  xj *o = xj_object();
  xj *parties = xj_array();
  xj *refs = xj_array();
  xj *lines = xj_array();
  xj *sref = NULL;
  xj *orefs = xj_array();
  long long tds = 0, sum = 0, sac = 0;
  int have_tds = 0;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "BIG")) {
      put_date(w, o, "issue_date", i, 1);
      str(w, i, 2, num, sizeof(num));
      put_s(o, "id", num);
      put_s(o, "number", num);
      str(w, i, 4, po, sizeof(po));
      if (po[0]) {
        xj *r = xj_object();
        put_s(r, "po_number", po);
        xj_push(orefs, r);
      }
    } else if (tag(w, i, "REF")) {
      add_ref(w, refs, i, 1);
      str(w, i, 1, buf, sizeof(buf));
      if (!strcmp(buf, "BM") || !strcmp(buf, "CN")) {
        if (!sref) sref = xj_object();
        put_el(w, sref, !strcmp(buf, "BM") ? "bol_number" : "pro_number", i, 2);
      }
    } else if (tag(w, i, "N1")) {
      xj_push(parties, party(w, &i));
    } else if (tag(w, i, "ITD")) {
      xj *t = xj_object();
      put_el(w, t, "code", i, 1);
      char nd[16], dd[16], out[16];
      str(w, i, 7, nd, sizeof(nd));
      if (nd[0] && strspn(nd, "0123456789") == strlen(nd))
        jadd(t, "net_days", xj_int(atoi(nd)));
      put_el(w, t, "description", i, 12);
      if (!xj_get(o, "payment_terms", NULL))
        jadd(o, "payment_terms", t);
      else
        (void)t; /* arena: dropped with the set */
      fmt_date(str(w, i, 6, dd, sizeof(dd)), out, sizeof(out));
      if (out[0] && !xj_get(o, "due_date", NULL))
        put_s(o, "due_date", out);
    } else if (tag(w, i, "IT1")) {
      xj *l = xj_object();
      char q[32], p[32];
      str(w, i, 1, buf, sizeof(buf));
      if (buf[0]) put_s(l, "line_no", buf);
      put_num(w, l, "qty", i, 2);
      put_el(w, l, "uom", i, 3);
      str(w, i, 2, q, sizeof(q));
      str(w, i, 4, p, sizeof(p));
      put_price(l, p);
      long long a = 0;
      if (q[0] && p[0]) line_amount(q, p, &a);
      sum += a;
      jadd(l, "amount_minor", xj_int(a));
      jadd(l, "item_ids", item_ids(w, i, 6));
      if (tag(w, i + 1, "PID")) put_el(w, l, "description", i + 1, 5);
      xj_push(lines, l);
    } else if (tag(w, i, "SAC")) {
      xj *l = xj_object();
      int ok;
      str(w, i, 1, buf, sizeof(buf));
      int allowance = buf[0] == 'A';
      char code[8];
      str(w, i, 2, code, sizeof(code));
      put_s(l, "charge_code", allowance ? "discount" : "other");
      put_s(l, "x12_code", code);
      long long a = n2_minor(str(w, i, 5, buf, sizeof(buf)), &ok);
      if (allowance && a > 0) a = -a;
      sac += a;
      jadd(l, "amount_minor", xj_int(a));
      xj_push(lines, l);
    } else if (tag(w, i, "TDS")) {
      tds = n2_minor(str(w, i, 1, buf, sizeof(buf)), &have_tds);
    }
  }
  invoice_header(w, o, num, currency);
  xj *t = xj_object();
  jadd(t, "net_minor", xj_int(sum + sac));
  jadd(t, "payable_minor",
                         xj_int(have_tds ? tds : sum + sac));
  jadd(o, "totals", t);
  if (sref) {
    xj *srefs = xj_array();
    xj_push(srefs, sref);
    jadd(o, "shipment_refs", srefs);
  }
  jadd(o, "order_refs", orefs);
  jadd(o, "references", refs);
  jadd(o, "parties", parties);
  jadd(o, "lines", lines);
  put_s(o, "document_type", "810");
  jadd(o, "external_refs", source_refs(w));
  struct x12_out_msg m;
  set_headers(&m, w, "invoice", num, po[0] ? po : num, po, 0);
  return send(emit, ctx, &m, "dray.invoice.received.v1", o) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* 997 / 999 -> dray.ack.received.v1 (one per acknowledged set)         */

static const char *ack_status(char c) {
  switch (c) {
  case 'A': return "accepted";
  case 'E': return "accepted_with_errors";
  case 'P': return "partially_accepted";
  default: return "rejected";
  }
}

static int map_ack(const struct walk *w, x12_emit_fn emit, void *ctx,
                   int is999) {
  char gs01[8] = "", gs06[16] = "", ak9[4] = "", buf[64];
  int count = 0;
  /* group-level status first (AK9) */
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "AK1")) {
      str(w, i, 1, gs01, sizeof(gs01));
      str(w, i, 2, gs06, sizeof(gs06));
    } else if (tag(w, i, "AK9")) {
      str(w, i, 1, ak9, sizeof(ak9));
    }
  }
  const char *proto = is999 ? "x12_999" : "x12_997";
  char ref[96];
  snprintf(ref, sizeof(ref), "x12:%s:%s:%s", w->env->ic->isa08, gs01, gs06);
  xj *o = NULL, *errors = NULL;
  char st01[8] = "", st02[16] = "";
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "AK2")) {
      str(w, i, 1, st01, sizeof(st01));
      str(w, i, 2, st02, sizeof(st02));
      o = xj_object();
      errors = xj_array();
    } else if ((tag(w, i, "AK3") || tag(w, i, "IK3")) && errors) {
      xj *e = xj_object();
      char code[8];
      str(w, i, 4, code, sizeof(code));
      put_s(e, "code", code[0] ? code : "?");
      put_s(e, "message", code[0] ? x12_segment_error_text(atoi(code)) : "segment error");
      put_el(w, e, "segment_id", i, 1);
      str(w, i, 2, buf, sizeof(buf));
      if (buf[0] && strspn(buf, "0123456789") == strlen(buf) && strlen(buf) < 9)
        jadd(e, "segment_position", xj_int(atoi(buf)));
      put_el(w, e, "loop_id", i, 3);
      xj_push(errors, e);
    } else if ((tag(w, i, "AK4") || tag(w, i, "IK4")) && errors) {
      xj *e = xj_object();
      char code[8], pos[16], comp[16];
      str(w, i, 3, code, sizeof(code));
      put_s(e, "code", code[0] ? code : "?");
      put_s(e, "message", code[0] ? x12_element_error_text(atoi(code)) : "element error");
      struct x12_span p = el(w, i, 1);
      x12_span_copy(x12_span_part(p, w->comp, 0), pos, sizeof(pos));
      x12_span_copy(x12_span_part(p, w->comp, 1), comp, sizeof(comp));
      if (pos[0] && strspn(pos, "0123456789") == strlen(pos) && strlen(pos) < 6)
        jadd(e, "element_position", xj_int(atoi(pos)));
      if (comp[0] && strspn(comp, "0123456789") == strlen(comp) && strlen(comp) < 6)
        jadd(e, "component_position", xj_int(atoi(comp)));
      put_el(w, e, "data_element", i, 2);
      put_el(w, e, "value", i, 4);
      xj_push(errors, e);
    } else if ((tag(w, i, "AK5") || tag(w, i, "IK5")) && o) {
      str(w, i, 1, buf, sizeof(buf));
      char ref2[128];
      snprintf(ref2, sizeof(ref2), "%s:%s:%s", ref, st01, st02);
      put_s(o, "ref_event_id", ref2);
      put_s(o, "ref_type", "x12");
      put_s(o, "kind", "functional");
      put_s(o, "protocol", proto);
      put_s(o, "status", ack_status(buf[0]));
      xj *raw = xj_object();
      put_s(raw, "system", is999 ? "x12.999" : "x12.997");
      put_s(raw, "code", buf[0] ? buf : "?");
      char codes[32] = "";
      for (uint32_t n = 2; n <= 6; n++)
        if (str(w, i, n, buf, sizeof(buf))[0])
          snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), "%s%s",
                   codes[0] ? "," : "", buf);
      put_s(raw, "reason_code", codes);
      jadd(o, "status_raw", raw);
      xj *cn = xj_object();
      put_s(cn, "group", gs06);
      put_s(cn, "transaction_set", st02);
      put_s(cn, "transaction_set_id", st01);
      jadd(o, "control_numbers", cn);
      jadd(o, "errors", errors);
      put_s(o, "functional_id", gs01);
      put_s(o, "partner", w->env->ic->isa06);
      jadd(o, "external_refs", source_refs(w));
      struct x12_out_msg m;
      char subj[64];
      snprintf(subj, sizeof(subj), "%s-%s-%s", gs01, gs06, st02);
      set_headers(&m, w, "ack", subj, gs06, gs06, ++count);
      if (send(emit, ctx, &m, "dray.ack.received.v1", o) < 0) return -1;
      o = NULL;
      errors = NULL;
    }
  }
  if (o) { /* AK2 without AK5 */
    (void)o; /* arena: dropped with the set */
    (void)errors; /* arena: dropped with the set */
  }
  if (count == 0) { /* group-level ack only */
    o = xj_object();
    put_s(o, "ref_event_id", ref);
    put_s(o, "ref_type", "x12");
    put_s(o, "kind", "functional");
    put_s(o, "protocol", proto);
    put_s(o, "status", ak9[0] ? ack_status(ak9[0]) : "rejected");
    xj *cn = xj_object();
    put_s(cn, "group", gs06);
    jadd(o, "control_numbers", cn);
    put_s(o, "functional_id", gs01);
    put_s(o, "partner", w->env->ic->isa06);
    jadd(o, "external_refs", source_refs(w));
    struct x12_out_msg m;
    char subj[64];
    snprintf(subj, sizeof(subj), "%s-%s", gs01, gs06);
    set_headers(&m, w, "ack", subj, gs06, gs06, 0);
    if (send(emit, ctx, &m, "dray.ack.received.v1", o) < 0) return -1;
    count = 1;
  }
  return count;
}

int x12_map_set(const struct x12_map_env *env,
                const struct x12_set_segments *segs, x12_emit_fn emit,
                void *ctx, char *err, size_t err_size) {
  struct walk w = {env, segs, segs->delims.component};
  const char *st = env->set->st01;
  int r;
  xj_mark_t mark = xj_mark(); /* the set's trees are dropped at the end */
  if (!strcmp(st, "850")) r = map_850_855(&w, emit, ctx, 0);
  else if (!strcmp(st, "855")) r = map_850_855(&w, emit, ctx, 1);
  else if (!strcmp(st, "856")) r = map_856(&w, emit, ctx);
  else if (!strcmp(st, "204")) r = map_204(&w, emit, ctx);
  else if (!strcmp(st, "990")) r = map_990(&w, emit, ctx);
  else if (!strcmp(st, "214")) r = map_214(&w, emit, ctx);
  else if (!strcmp(st, "210")) r = map_210(&w, emit, ctx);
  else if (!strcmp(st, "810")) r = map_810(&w, emit, ctx);
  else if (!strcmp(st, "997")) r = map_ack(&w, emit, ctx, 0);
  else if (!strcmp(st, "999")) r = map_ack(&w, emit, ctx, 1);
  else r = 0;
  xj_reset(mark);
  if (r < 0 && err && err_size)
    snprintf(err, err_size, "%s set ST02=%s (line %u): mapping stopped",
             st, env->set->st02, env->set->pos.line);
  return r;
}

int x12_map_ta1(const struct x12_map_env *env, x12_emit_fn emit, void *ctx,
                char *err, size_t err_size) {
  const struct x12_interchange_result *ic = env->ic;
  int n = 0;
  xj_mark_t mark = xj_mark();
  for (int k = 0; k < ic->ta1_count && k < 4; k++) {
    xj *o = xj_object();
    char ref[64];
    snprintf(ref, sizeof(ref), "x12:%s:%s", ic->isa08, ic->ta1s[k].isa13);
    put_s(o, "ref_event_id", ref);
    put_s(o, "ref_type", "x12");
    put_s(o, "kind", "transport");
    put_s(o, "protocol", "x12_ta1");
    char st = ic->ta1s[k].status;
    put_s(o, "status", st == 'A' ? "accepted"
                       : st == 'E' ? "accepted_with_errors"
                                   : "rejected");
    xj *raw = xj_object();
    put_s(raw, "system", "x12.ta1");
    char sc[2] = {st ? st : '?', 0};
    put_s(raw, "code", sc);
    put_s(raw, "reason_code", ic->ta1s[k].code);
    put_s(raw, "reason_description", x12_ta1_text(ic->ta1s[k].code));
    jadd(o, "status_raw", raw);
    if (strcmp(ic->ta1s[k].code, "000") != 0) {
      xj *e = xj_object();
      put_s(e, "code", ic->ta1s[k].code);
      put_s(e, "message", x12_ta1_text(ic->ta1s[k].code));
      jadd(o, "error", e);
    }
    xj *cn = xj_object();
    put_s(cn, "interchange", ic->ta1s[k].isa13);
    jadd(o, "control_numbers", cn);
    put_s(o, "partner", ic->isa06);
    struct x12_out_msg m;
    memset(&m, 0, sizeof(m));
    snprintf(m.subject, sizeof(m.subject), "ack/TA1-%s", ic->ta1s[k].isa13);
    snprintf(m.partitionkey, sizeof(m.partitionkey), "%s", ic->ta1s[k].isa13);
    snprintf(m.correlationid, sizeof(m.correlationid), "%s",
             ic->ta1s[k].isa13);
    snprintf(m.idempotencykey, sizeof(m.idempotencykey), "x12:%s:TA1:%s/%d",
             ic->isa06, ic->isa13, k + 1);
    if (send(emit, ctx, &m, "dray.ack.received.v1", o) < 0) {
      if (err && err_size) snprintf(err, err_size, "TA1 mapping stopped");
      xj_reset(mark);
      return -1;
    }
    n++;
  }
  xj_reset(mark);
  return n;
}

/* x12_map_ack_sent builds its (per interchange, cold) body with json-c,
 * whose escaping its consumers have seen from the start. */
#define jc_add(o, k, v) \
  json_object_object_add_ex((o), (k), (v), JSON_C_OBJECT_ADD_CONSTANT_KEY)

static void jc_put_s(json_object *o, const char *key, const char *v) {
  if (v && *v) jc_add(o, key, json_object_new_string(v));
}

char *x12_map_ack_sent(const struct x12_interchange_result *ic,
                       const char *ack_kind, long isa13, const char *text) {
  json_object *o = json_object_new_object();
  char ref[64];
  snprintf(ref, sizeof(ref), "x12:%s:%s", ic->isa06[0] ? ic->isa06 : "unknown",
           ic->isa13[0] ? ic->isa13 : "unknown");
  jc_put_s(o, "ref_event_id", ref);
  jc_put_s(o, "ref_type", "x12");
  jc_put_s(o, "kind", strstr(ack_kind, "99") ? "functional" : "transport");
  jc_put_s(o, "protocol", strstr(ack_kind, "999")   ? "x12_999"
                       : strstr(ack_kind, "997") ? "x12_997"
                                                 : "x12_ta1");
  int rejected = ic->ta1_status == 'R', partial = 0;
  for (uint32_t g = 0; g < ic->ngroups; g++) {
    if (ic->groups[g].status == 'R') rejected = rejected || ic->ngroups == 1;
    if (ic->groups[g].status != 'A') partial = 1;
  }
  jc_put_s(o, "status", rejected ? "rejected" : partial ? "partially_accepted" : "accepted");
  json_object *errors = json_object_new_array();
  if (ic->ta1_status == 'R') {
    json_object *e = json_object_new_object();
    jc_put_s(e, "code", ic->ta1_code);
    jc_put_s(e, "message", ic->message[0] ? ic->message : x12_ta1_text(ic->ta1_code));
    jc_add(o, "error", e);
  }
  for (uint32_t g = 0; g < ic->ngroups; g++)
    for (uint32_t si = 0; si < ic->groups[g].nsets; si++) {
      const struct x12_set_result *s = &ic->groups[g].sets[si];
      for (uint16_t k = 0; k < s->nerrors && json_object_array_length(errors) < 50; k++) {
        json_object *e = json_object_new_object();
        char code[8];
        snprintf(code, sizeof(code), "%u", s->errors[k].code);
        jc_put_s(e, "code", code);
        jc_put_s(e, "message", s->errors[k].message);
        jc_put_s(e, "segment_id", s->errors[k].id);
        jc_add(e, "segment_position",
                               json_object_new_int((int)s->errors[k].position));
        if (s->errors[k].nelements)
          jc_add(e, "element_position",
                                 json_object_new_int(s->errors[k].elements[0].element));
        jc_put_s(e, "transaction_set", s->st02);
        json_object_array_add(errors, e);
      }
    }
  jc_add(o, "errors", errors);
  json_object *cn = json_object_new_object();
  jc_put_s(cn, "interchange", ic->isa13);
  if (ic->ngroups == 1) jc_put_s(cn, "group", ic->groups[0].gs06);
  jc_add(o, "control_numbers", cn);
  char num[16];
  snprintf(num, sizeof(num), "%09ld", isa13);
  jc_put_s(o, "ack_interchange_control_number", num);
  jc_put_s(o, "partner", ic->isa06);
  if (text) jc_put_s(o, "document", text);
  char *out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  json_object_put(o);
  return out;
}
