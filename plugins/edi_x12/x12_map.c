/* x12_map.c - see x12_map.h and README.md ("Mappings"). One function per
 * transaction set over shared helpers; code lists come from x12_codes.c. */
#include "x12_map.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_codes.h"

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
  return seg < w->s->nsegs && x12_span_eq(el(w, seg, 0), t);
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

static void put_s(json_object *o, const char *key, const char *v) {
  if (v && *v) json_object_object_add(o, key, json_object_new_string(v));
}

static void put_el(const struct walk *w, json_object *o, const char *key,
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

static void put_num(const struct walk *w, json_object *o, const char *key,
                    uint32_t seg, uint32_t n) {
  char raw[64], norm[64];
  str(w, seg, n, raw, sizeof(raw));
  if (!raw[0] || normalize_number(raw, norm, sizeof(norm)) < 0) return;
  if (!strchr(norm, '.'))
    json_object_object_add(o, key, json_object_new_int64(strtoll(norm, NULL, 10)));
  else
    json_object_object_add(o, key,
                           json_object_new_double_s(strtod(norm, NULL), norm));
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

/* {"amount": "9.25", "amount_minor": 925, "currency": "USD"}; amount_minor
 * only when exact at 2 decimals. */
static json_object *money_decimal(const char *raw, const char *currency) {
  char norm[64];
  long long minor;
  if (!raw || !*raw || normalize_number(raw, norm, sizeof(norm)) < 0)
    return NULL;
  json_object *m = json_object_new_object();
  json_object_object_add(m, "amount", json_object_new_string(norm));
  if (x12_decimal_minor(norm, &minor) == 0)
    json_object_object_add(m, "amount_minor", json_object_new_int64(minor));
  json_object_object_add(m, "currency", json_object_new_string(currency));
  return m;
}

/* Money from an N2 element: "5165" = 51.65. */
static json_object *money_n2(const char *raw, const char *currency) {
  char norm[64];
  if (!raw || !*raw || normalize_number(raw, norm, sizeof(norm)) < 0 ||
      strchr(norm, '.'))
    return NULL;
  long long minor = strtoll(norm, NULL, 10);
  json_object *m = json_object_new_object();
  char amount[48];
  long long a = minor < 0 ? -minor : minor;
  snprintf(amount, sizeof(amount), "%s%lld.%02lld", minor < 0 ? "-" : "",
           a / 100, a % 100);
  json_object_object_add(m, "amount", json_object_new_string(amount));
  json_object_object_add(m, "amount_minor", json_object_new_int64(minor));
  json_object_object_add(m, "currency", json_object_new_string(currency));
  return m;
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

static void put_date(const struct walk *w, json_object *o, const char *key,
                     uint32_t seg, uint32_t n) {
  char raw[16], out[16];
  fmt_date(str(w, seg, n, raw, sizeof(raw)), out, sizeof(out));
  put_s(o, key, out);
}

/* Date + optional time + optional time code -> RFC 3339. */
static void put_time(const struct walk *w, json_object *o, const char *key,
                     const char *date, const char *time, const char *code) {
  char out[40];
  if (!date[0]) return;
  if (!time || !time[0]) {
    fmt_date(date, out, sizeof(out));
    put_s(o, key, out);
    return;
  }
  if (x12_resolve_time(date, time, code, w->env->local_tz, out,
                       sizeof(out)) == 0)
    put_s(o, key, out);
}

/* ------------------------------------------------------------------ */
/* shared pieces                                                        */

static const char *currency_of(const struct walk *w, char *buf, size_t size) {
  for (uint32_t i = 0; i < w->s->nsegs; i++) {
    if (tag(w, i, "CUR")) {
      str(w, i, 2, buf, size);
      if (buf[0]) return buf;
    }
    if (tag(w, i, "C3")) {
      str(w, i, 1, buf, size);
      if (buf[0]) return buf;
    }
  }
  return w->env->currency && *w->env->currency ? w->env->currency : "USD";
}

static json_object *source_block(const struct walk *w) {
  const struct x12_map_env *e = w->env;
  json_object *o = json_object_new_object();
  put_s(o, "standard", "x12");
  put_s(o, "set", e->set->st01);
  put_s(o, "version", e->group->gs08);
  json_object *snd = json_object_new_object();
  put_s(snd, "qualifier", e->ic->isa05);
  put_s(snd, "id", e->ic->isa06);
  json_object_object_add(o, "sender", snd);
  json_object *rcv = json_object_new_object();
  put_s(rcv, "qualifier", e->ic->isa07);
  put_s(rcv, "id", e->ic->isa08);
  json_object_object_add(o, "receiver", rcv);
  put_s(o, "interchange_control_number", e->ic->isa13);
  put_s(o, "group_control_number", e->group->gs06);
  put_s(o, "set_control_number", e->set->st02);
  return o;
}

/* N1 loop at *i (N1 N2 N3 N4 PER G61); advances *i past it. */
static json_object *party(const struct walk *w, uint32_t *i) {
  char code[8];
  json_object *p = json_object_new_object();
  str(w, *i, 1, code, sizeof(code));
  const char *role = x12_party_role(code);
  put_s(p, "role", role ? role : "other");
  put_s(p, "role_code", code);
  put_el(w, p, "name", *i, 2);
  put_el(w, p, "id_qualifier", *i, 3);
  put_el(w, p, "id", *i, 4);
  json_object *addr = NULL, *lines = NULL, *contacts = NULL;
  uint32_t k = *i + 1;
  for (; k < w->s->nsegs; k++) {
    if (tag(w, k, "N2")) {
      char buf[128];
      str(w, k, 1, buf, sizeof(buf));
      put_s(p, "name2", buf);
    } else if (tag(w, k, "N3")) {
      if (!addr) addr = json_object_new_object();
      if (!lines) lines = json_object_new_array();
      for (uint32_t n = 1; n <= 2; n++) {
        char buf[128];
        if (str(w, k, n, buf, sizeof(buf))[0])
          json_object_array_add(lines, json_object_new_string(buf));
      }
    } else if (tag(w, k, "N4")) {
      if (!addr) addr = json_object_new_object();
      put_el(w, addr, "city", k, 1);
      put_el(w, addr, "state", k, 2);
      put_el(w, addr, "postal_code", k, 3);
      put_el(w, addr, "country", k, 4);
    } else if (tag(w, k, "PER") || tag(w, k, "G61")) {
      if (!contacts) contacts = json_object_new_array();
      json_object *c = json_object_new_object();
      put_el(w, c, "function", k, 1);
      put_el(w, c, "name", k, 2);
      char q[8];
      for (uint32_t n = 3; n + 1 <= 8; n += 2) {
        str(w, k, n, q, sizeof(q));
        if (strcmp(q, "TE") == 0) put_el(w, c, "phone", k, n + 1);
        else if (strcmp(q, "EM") == 0) put_el(w, c, "email", k, n + 1);
        else if (strcmp(q, "FX") == 0) put_el(w, c, "fax", k, n + 1);
      }
      json_object_array_add(contacts, c);
    } else {
      break;
    }
  }
  if (addr) {
    if (lines) json_object_object_add(addr, "lines", lines);
    json_object_object_add(p, "address", addr);
  }
  if (contacts) json_object_object_add(p, "contacts", contacts);
  *i = k - 1;
  return p;
}

static void add_ref(const struct walk *w, json_object *refs, uint32_t i,
                    int qual_first) {
  json_object *r = json_object_new_object();
  if (qual_first) {
    put_el(w, r, "qualifier", i, 1);
    put_el(w, r, "value", i, 2);
    put_el(w, r, "description", i, 3);
  } else { /* L11: value first */
    put_el(w, r, "qualifier", i, 2);
    put_el(w, r, "value", i, 1);
    put_el(w, r, "description", i, 3);
  }
  json_object_array_add(refs, r);
}

/* Product id pairs (qualifier, id) from element `from` on. */
static json_object *item_ids(const struct walk *w, uint32_t i, uint32_t from) {
  json_object *ids = json_object_new_object();
  for (uint32_t n = from; n + 1 < w->s->segs[i].count; n += 2) {
    char q[8], v[64];
    str(w, i, n, q, sizeof(q));
    str(w, i, n + 1, v, sizeof(v));
    if (!q[0] || !v[0]) continue;
    const char *key = strcmp(q, "BP") == 0   ? "buyer_part"
                      : strcmp(q, "VP") == 0 ? "vendor_part"
                      : strcmp(q, "VN") == 0 ? "vendor_part"
                      : strcmp(q, "UP") == 0 ? "upc"
                      : strcmp(q, "EN") == 0 ? "gtin"
                      : strcmp(q, "UK") == 0 ? "gtin"
                      : strcmp(q, "IN") == 0 ? "buyer_item"
                      : strcmp(q, "SK") == 0 ? "sku"
                      : strcmp(q, "CB") == 0 ? "buyer_catalog"
                      : strcmp(q, "PD") == 0 ? "description"
                      : strcmp(q, "B6") == 0 ? NULL
                                             : NULL;
    if (key) {
      if (!json_object_object_get_ex(ids, key, NULL)) put_s(ids, key, v);
    } else {
      char k2[16];
      snprintf(k2, sizeof(k2), "x12_%s", q);
      put_s(ids, k2, v);
    }
  }
  return ids;
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

static int send(x12_emit_fn emit, void *ctx, struct x12_out_msg *m,
                const char *type, json_object *body) {
  size_t len;
  m->type = type;
  m->body = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN |
                                                        JSON_C_TO_STRING_NOSLASHESCAPE,
                                              &len);
  m->body_len = len;
  int r = m->body ? emit(ctx, m) : -1;
  json_object_put(body);
  return r;
}

/* ------------------------------------------------------------------ */
/* 850 purchase order -> dray.order.created.v1                          */

static json_object *po_line(const struct walk *w, uint32_t *i,
                            const char *cur, const char *line_tag) {
  json_object *l = json_object_new_object();
  put_el(w, l, "line_no", *i, 1);
  put_num(w, l, "qty", *i, 2);
  put_el(w, l, "uom", *i, 3);
  char price[32];
  json_object *m = money_decimal(str(w, *i, 4, price, sizeof(price)), cur);
  if (m) json_object_object_add(l, "unit_price", m);
  put_el(w, l, "price_basis", *i, 5);
  json_object_object_add(l, "item_ids", item_ids(w, *i, 6));
  uint32_t k = *i + 1;
  json_object *dates = NULL, *sched = NULL;
  for (; k < w->s->nsegs; k++) {
    if (tag(w, k, "PID")) {
      put_el(w, l, "description", k, 5);
    } else if (tag(w, k, "PO4")) {
      json_object *pk = json_object_new_object();
      put_num(w, pk, "pack", k, 1);
      put_num(w, pk, "size", k, 2);
      put_el(w, pk, "uom", k, 3);
      put_el(w, pk, "packaging_code", k, 4);
      json_object_object_add(l, "packaging", pk);
    } else if (tag(w, k, "DTM")) {
      if (!dates) dates = json_object_new_array();
      json_object *d = json_object_new_object();
      put_el(w, d, "qualifier", k, 1);
      put_date(w, d, "date", k, 2);
      json_object_array_add(dates, d);
    } else if (tag(w, k, "ACK")) {
      char code[8];
      str(w, k, 1, code, sizeof(code));
      put_s(l, "status", x12_line_ack_status(code));
      put_s(l, "status_code", code);
      put_num(w, l, "ack_qty", k, 2);
    } else if (tag(w, k, "SCH")) {
      if (!sched) sched = json_object_new_array();
      json_object *s = json_object_new_object();
      put_num(w, s, "qty", k, 1);
      put_el(w, s, "uom", k, 2);
      put_date(w, s, "date", k, 6);
      json_object_array_add(sched, s);
    } else if (tag(w, k, "CTP") || tag(w, k, "QTY") || tag(w, k, "REF") ||
               tag(w, k, "MSG") || tag(w, k, "TXI") || tag(w, k, "SAC")) {
      /* line detail we do not map */
    } else {
      break;
    }
  }
  if (dates) json_object_object_add(l, "dates", dates);
  if (sched) json_object_object_add(l, "schedule", sched);
  (void)line_tag;
  *i = k - 1;
  return l;
}

static json_object *order_dates(const struct walk *w, uint32_t i,
                                json_object *dates) {
  char q[8], d[16], out[16];
  str(w, i, 1, q, sizeof(q));
  fmt_date(str(w, i, 2, d, sizeof(d)), out, sizeof(out));
  const char *key = strcmp(q, "002") == 0   ? "requested_delivery"
                    : strcmp(q, "010") == 0 ? "requested_ship"
                    : strcmp(q, "037") == 0 ? "ship_not_before"
                    : strcmp(q, "038") == 0 ? "ship_no_later"
                    : strcmp(q, "011") == 0 ? "shipped"
                    : strcmp(q, "017") == 0 ? "estimated_delivery"
                                            : NULL;
  char k2[16];
  if (!key) {
    snprintf(k2, sizeof(k2), "x12_%s", q);
    key = k2;
  }
  if (out[0]) put_s(dates, key, out);
  return dates;
}

static int map_850_855(const struct walk *w, x12_emit_fn emit, void *ctx,
                       int is_855) {
  char cur[8], po[64] = "", buf[64];
  const char *currency = currency_of(w, cur, sizeof(cur));
  json_object *o = json_object_new_object();
  json_object *parties = json_object_new_array();
  json_object *lines = json_object_new_array();
  json_object *refs = json_object_new_array();
  json_object *dates = json_object_new_object();
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "BEG")) {
      str(w, i, 3, po, sizeof(po));
      put_s(o, "id", po);
      put_s(o, "po_number", po);
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "purpose", x12_purpose(buf) ? x12_purpose(buf) : "other");
      put_el(w, o, "order_type", i, 2);
      put_el(w, o, "release_number", i, 4);
      put_date(w, o, "order_date", i, 5);
      put_el(w, o, "contract_number", i, 6);
    } else if (tag(w, i, "BAK")) {
      str(w, i, 3, po, sizeof(po));
      put_s(o, "id", po);
      put_s(o, "po_number", po);
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "purpose", x12_purpose(buf) ? x12_purpose(buf) : "other");
      str(w, i, 2, buf, sizeof(buf));
      put_s(o, "ack_type", x12_order_ack_type(buf));
      put_s(o, "ack_type_code", buf);
      put_date(w, o, "order_date", i, 4);
      put_el(w, o, "seller_order_number", i, 8);
      put_date(w, o, "ack_date", i, 9);
    } else if (tag(w, i, "CUR")) {
      /* read by currency_of */
    } else if (tag(w, i, "REF")) {
      add_ref(w, refs, i, 1);
    } else if (tag(w, i, "DTM")) {
      order_dates(w, i, dates);
    } else if (tag(w, i, "TD5")) {
      json_object *c = json_object_new_object();
      put_el(w, c, "scac", i, 3);
      put_el(w, c, "mode", i, 4);
      put_el(w, c, "routing", i, 5);
      json_object_object_add(o, "carrier", c);
    } else if (tag(w, i, "ITD")) {
      json_object *t = json_object_new_object();
      put_el(w, t, "type", i, 1);
      put_num(w, t, "discount_percent", i, 3);
      put_num(w, t, "discount_days", i, 5);
      put_num(w, t, "net_days", i, 7);
      put_el(w, t, "description", i, 12);
      json_object_object_add(o, "terms", t);
    } else if (tag(w, i, "N1")) {
      json_object_array_add(parties, party(w, &i));
    } else if (tag(w, i, "PO1")) {
      json_object_array_add(lines, po_line(w, &i, currency, "PO1"));
    } else if (tag(w, i, "CTT")) {
      put_num(w, o, "line_count", i, 1);
    } else if (tag(w, i, "AMT")) {
      json_object *m = money_decimal(str(w, i, 2, buf, sizeof(buf)), currency);
      if (m) json_object_object_add(o, "total", m);
    }
  }
  put_s(o, "currency", currency);
  json_object_object_add(o, "dates", dates);
  json_object_object_add(o, "references", refs);
  json_object_object_add(o, "parties", parties);
  json_object_object_add(o, "lines", lines);
  json_object_object_add(o, "source_document", source_block(w));
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

static int map_856(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", po_first[64] = "", buf[64];
  json_object *o = json_object_new_object();
  json_object *parties = json_object_new_array();
  json_object *orders = json_object_new_array();
  json_object *hus = json_object_new_array();
  json_object *lines = json_object_new_array();
  json_object *refs = json_object_new_array();
  char level = 0, date[16] = "", time[16] = "";
  char cur_po[64] = "", cur_sscc[64] = "";
  json_object *cur_hu_items = NULL, *line = NULL;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "BSN")) {
      str(w, i, 2, id, sizeof(id));
      put_s(o, "id", id);
      put_s(o, "asn_number", id);
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "purpose", x12_purpose(buf) ? x12_purpose(buf) : "other");
      str(w, i, 3, date, sizeof(date));
      str(w, i, 4, time, sizeof(time));
      put_time(w, o, "created_at", date, time, NULL);
      put_el(w, o, "hierarchy_structure", i, 5);
    } else if (tag(w, i, "HL")) {
      str(w, i, 3, buf, sizeof(buf));
      level = buf[0];
      line = NULL;
      if (level == 'P' || level == 'T') {
        cur_sscc[0] = '\0';
        cur_hu_items = NULL;
      }
    } else if (tag(w, i, "TD1") && level == 'S') {
      put_num(w, o, "packages", i, 2);
      str(w, i, 7, buf, sizeof(buf));
      if (buf[0]) {
        json_object *wt = json_object_new_object();
        put_num(w, wt, "value", i, 7);
        put_el(w, wt, "uom", i, 8);
        json_object_object_add(o, "weight", wt);
      }
      put_el(w, o, "packaging_code", i, 1);
    } else if (tag(w, i, "TD5") && level == 'S') {
      json_object *c = json_object_new_object();
      put_el(w, c, "scac", i, 3);
      put_el(w, c, "name", i, 5);
      json_object_object_add(o, "carrier", c);
      put_el(w, o, "mode", i, 4);
    } else if (tag(w, i, "TD3") && level == 'S') {
      json_object *e = json_object_new_object();
      put_el(w, e, "type", i, 1);
      put_el(w, e, "initial", i, 2);
      put_el(w, e, "number", i, 3);
      json_object_object_add(o, "equipment", e);
    } else if (tag(w, i, "REF")) {
      str(w, i, 1, buf, sizeof(buf));
      if (level == 'S' && strcmp(buf, "BM") == 0)
        put_el(w, o, "bol", i, 2);
      else if (level == 'S' && strcmp(buf, "CN") == 0)
        put_el(w, o, "pro", i, 2);
      else if (level == 'I' && line && strcmp(buf, "LT") == 0)
        put_el(w, line, "lot", i, 2);
      else if (level == 'S')
        add_ref(w, refs, i, 1);
    } else if (tag(w, i, "DTM")) {
      char q[8], d[16], t[16], out[40];
      str(w, i, 1, q, sizeof(q));
      str(w, i, 2, d, sizeof(d));
      str(w, i, 3, t, sizeof(t));
      const char *key = strcmp(q, "011") == 0   ? "shipped_at"
                        : strcmp(q, "017") == 0 ? "estimated_delivery"
                        : strcmp(q, "067") == 0 ? "current_schedule_delivery"
                                                : NULL;
      if (key) {
        if (!t[0]) {
          fmt_date(d, out, sizeof(out));
          put_s(o, key, out);
        } else {
          char code[8];
          put_time(w, o, key, d, t, str(w, i, 4, code, sizeof(code)));
        }
      }
    } else if (tag(w, i, "N1")) {
      json_object_array_add(parties, party(w, &i));
    } else if (tag(w, i, "PRF")) {
      str(w, i, 1, cur_po, sizeof(cur_po));
      if (!po_first[0]) snprintf(po_first, sizeof(po_first), "%s", cur_po);
      json_object *ord = json_object_new_object();
      put_s(ord, "po_number", cur_po);
      put_date(w, ord, "po_date", i, 4);
      json_object_array_add(orders, ord);
    } else if (tag(w, i, "MAN")) {
      str(w, i, 2, cur_sscc, sizeof(cur_sscc));
      json_object *hu = json_object_new_object();
      str(w, i, 1, buf, sizeof(buf));
      put_s(hu, strcmp(buf, "GM") == 0 ? "sscc" : "marks", cur_sscc);
      cur_hu_items = json_object_new_array();
      json_object_object_add(hu, "items", cur_hu_items);
      json_object_array_add(hus, hu);
    } else if (tag(w, i, "LIN")) {
      line = json_object_new_object();
      put_el(w, line, "line_no", i, 1);
      json_object_object_add(line, "item_ids", item_ids(w, i, 2));
      if (cur_po[0]) put_s(line, "order_ref", cur_po);
      if (cur_sscc[0]) put_s(line, "sscc", cur_sscc);
      json_object_array_add(lines, line);
      if (cur_hu_items)
        json_object_array_add(cur_hu_items,
                              json_object_new_int((int)json_object_array_length(lines) - 1));
    } else if (tag(w, i, "SN1") && line) {
      put_num(w, line, "qty", i, 2);
      put_el(w, line, "uom", i, 3);
    } else if (tag(w, i, "PID") && line) {
      put_el(w, line, "description", i, 5);
    }
  }
  json_object_object_add(o, "parties", parties);
  json_object_object_add(o, "orders", orders);
  json_object_object_add(o, "handling_units", hus);
  json_object_object_add(o, "lines", lines);
  json_object_object_add(o, "references", refs);
  json_object_object_add(o, "source_document", source_block(w));
  struct x12_out_msg m;
  set_headers(&m, w, "shipment", id, id, po_first, 0);
  return send(emit, ctx, &m, "dray.shipment.created.v1", o) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* 204 load tender -> dray.shipment.tendered.v1                         */

static void g62(const struct walk *w, uint32_t i, json_object *dst) {
  char q[8], d[16], t[16], code[8], out[40];
  str(w, i, 1, q, sizeof(q));
  str(w, i, 2, d, sizeof(d));
  if (!d[0]) { /* G62 with time only (G6203/04) is rare: skip */
    return;
  }
  str(w, i, 4, t, sizeof(t));
  str(w, i, 5, code, sizeof(code));
  const char *key = strcmp(q, "64") == 0   ? "respond_by"
                    : strcmp(q, "69") == 0 ? "scheduled_pickup"
                    : strcmp(q, "70") == 0 ? "scheduled_delivery"
                    : strcmp(q, "10") == 0 ? "requested_pickup"
                    : strcmp(q, "11") == 0 ? "shipped"
                    : strcmp(q, "17") == 0 ? "estimated_delivery"
                    : strcmp(q, "53") == 0 ? "deliver_not_before"
                    : strcmp(q, "54") == 0 ? "deliver_no_later"
                    : strcmp(q, "37") == 0 ? "ship_not_before"
                    : strcmp(q, "38") == 0 ? "ship_no_later"
                                           : NULL;
  char k2[16];
  if (!key) {
    snprintf(k2, sizeof(k2), "x12_%s", q);
    key = k2;
  }
  if (t[0]) {
    if (x12_resolve_time(d, t, code, w->env->local_tz, out, sizeof(out)) == 0)
      put_s(dst, key, out);
  } else {
    fmt_date(d, out, sizeof(out));
    put_s(dst, key, out);
  }
}

static int map_204(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", po_first[64] = "", buf[64], cur[8];
  const char *currency = currency_of(w, cur, sizeof(cur));
  json_object *o = json_object_new_object();
  json_object *parties = json_object_new_array();
  json_object *refs = json_object_new_array();
  json_object *stops = json_object_new_array();
  json_object *dates = json_object_new_object();
  json_object *stop = NULL, *stop_refs = NULL, *stop_orders = NULL;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "B2")) {
      str(w, i, 4, id, sizeof(id));
      put_s(o, "id", id);
      put_s(o, "shipment_id", id);
      json_object *c = json_object_new_object();
      put_el(w, c, "scac", i, 2);
      json_object_object_add(o, "carrier", c);
      str(w, i, 6, buf, sizeof(buf));
      put_s(o, "payment_method",
            strcmp(buf, "PP") == 0   ? "prepaid"
            : strcmp(buf, "CC") == 0 ? "collect"
            : strcmp(buf, "TP") == 0 ? "third_party"
                                     : buf);
    } else if (tag(w, i, "B2A")) {
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "purpose", x12_purpose(buf) ? x12_purpose(buf) : "other");
    } else if (tag(w, i, "L11")) {
      add_ref(w, stop ? stop_refs : refs, i, 0);
      str(w, i, 2, buf, sizeof(buf));
      if (strcmp(buf, "PO") == 0 && !po_first[0])
        str(w, i, 1, po_first, sizeof(po_first));
    } else if (tag(w, i, "G62")) {
      g62(w, i, stop ? stop : dates);
    } else if (tag(w, i, "NTE")) {
      put_el(w, stop ? stop : o, "notes", i, 2);
    } else if (tag(w, i, "N7") && !stop) {
      json_object *e = json_object_new_object();
      put_el(w, e, "initial", i, 1);
      put_el(w, e, "number", i, 2);
      put_el(w, e, "type", i, 11);
      json_object_object_add(o, "equipment", e);
    } else if (tag(w, i, "N1")) {
      json_object *p = party(w, &i);
      if (stop)
        json_object_object_add(stop, "location", p);
      else
        json_object_array_add(parties, p);
    } else if (tag(w, i, "S5")) {
      stop = json_object_new_object();
      stop_refs = json_object_new_array();
      stop_orders = json_object_new_array();
      put_num(w, stop, "sequence", i, 1);
      str(w, i, 2, buf, sizeof(buf));
      const char *type = (!strcmp(buf, "LD") || !strcmp(buf, "CL") ||
                          !strcmp(buf, "PL") || !strcmp(buf, "PU"))
                             ? "pickup"
                         : (!strcmp(buf, "UL") || !strcmp(buf, "CU") ||
                            !strcmp(buf, "PD"))
                             ? "delivery"
                             : "other";
      put_s(stop, "type", type);
      put_s(stop, "reason_code", buf);
      str(w, i, 3, buf, sizeof(buf));
      if (buf[0]) {
        json_object *wt = json_object_new_object();
        put_num(w, wt, "value", i, 3);
        put_el(w, wt, "qualifier", i, 4);
        json_object_object_add(stop, "weight", wt);
      }
      put_num(w, stop, "units", i, 5);
      put_el(w, stop, "units_uom", i, 6);
      json_object_object_add(stop, "references", stop_refs);
      json_object_object_add(stop, "orders", stop_orders);
      json_object_array_add(stops, stop);
    } else if (tag(w, i, "OID") && stop) {
      json_object *ord = json_object_new_object();
      put_el(w, ord, "reference", i, 1);
      put_el(w, ord, "po_number", i, 2);
      str(w, i, 2, buf, sizeof(buf));
      if (buf[0] && !po_first[0]) snprintf(po_first, sizeof(po_first), "%s", buf);
      json_object_array_add(stop_orders, ord);
    } else if (tag(w, i, "L3")) {
      json_object *t = json_object_new_object();
      put_num(w, t, "weight", i, 1);
      put_el(w, t, "weight_qualifier", i, 2);
      json_object *m = money_n2(str(w, i, 5, buf, sizeof(buf)), currency);
      if (m) json_object_object_add(t, "charge", m);
      json_object_object_add(o, "totals", t);
    }
  }
  json_object_object_add(o, "dates", dates);
  json_object_object_add(o, "references", refs);
  json_object_object_add(o, "parties", parties);
  json_object_object_add(o, "stops", stops);
  json_object_object_add(o, "source_document", source_block(w));
  struct x12_out_msg m;
  set_headers(&m, w, "shipment", id, id, po_first, 0);
  return send(emit, ctx, &m, "dray.shipment.tendered.v1", o) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* 990 tender response -> dray.shipment.tender_response.v1              */

static int map_990(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", buf[64];
  json_object *o = json_object_new_object();
  json_object *refs = json_object_new_array();
  json_object *remarks = json_object_new_array();
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "B1")) {
      str(w, i, 2, id, sizeof(id));
      put_s(o, "shipment_id", id);
      json_object *c = json_object_new_object();
      put_el(w, c, "scac", i, 1);
      json_object_object_add(o, "carrier", c);
      put_date(w, o, "response_date", i, 3);
      str(w, i, 4, buf, sizeof(buf));
      put_s(o, "response", strcmp(buf, "A") == 0   ? "accepted"
                           : strcmp(buf, "D") == 0 ? "declined"
                                                   : "unknown");
      put_s(o, "response_code", buf);
    } else if (tag(w, i, "N9")) {
      add_ref(w, refs, i, 1);
    } else if (tag(w, i, "K1")) {
      char a[128];
      if (str(w, i, 1, a, sizeof(a))[0])
        json_object_array_add(remarks, json_object_new_string(a));
      if (str(w, i, 2, a, sizeof(a))[0])
        json_object_array_add(remarks, json_object_new_string(a));
    }
  }
  json_object_object_add(o, "references", refs);
  json_object_object_add(o, "remarks", remarks);
  json_object_object_add(o, "source_document", source_block(w));
  struct x12_out_msg m;
  set_headers(&m, w, "shipment", id, id, id, 0);
  return send(emit, ctx, &m, "dray.shipment.tender_response.v1", o) < 0 ? -1
                                                                       : 1;
}

/* ------------------------------------------------------------------ */
/* 214 status -> dray.shipment.milestone.v1 (one per AT7)               */

static int map_214(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char id[64] = "", pro[64] = "", scac[16] = "", po[64] = "";
  int count = 0;
  /* header: B10 and header L11s */
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
  uint32_t lx_start = 0;
  char lx[16] = "";
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "LX")) {
      lx_start = i;
      str(w, i, 1, lx, sizeof(lx));
      continue;
    }
    if (!tag(w, i, "AT7")) continue;
    char st[8], rs[8], ap[8], ar[8], d[16], t[16], code[8];
    str(w, i, 1, st, sizeof(st));
    str(w, i, 2, rs, sizeof(rs));
    str(w, i, 3, ap, sizeof(ap));
    str(w, i, 4, ar, sizeof(ar));
    str(w, i, 5, d, sizeof(d));
    str(w, i, 6, t, sizeof(t));
    str(w, i, 7, code, sizeof(code));
    json_object *o = json_object_new_object();
    put_s(o, "shipment_id", id);
    put_s(o, "pro", pro);
    json_object *c = json_object_new_object();
    put_s(c, "scac", scac);
    json_object_object_add(o, "carrier", c);
    const struct x12_code *sc =
        st[0] ? x12_at7_status(st) : x12_at7_appointment(ap);
    const char *raw_code = st[0] ? st : ap;
    if (sc) {
      put_s(o, "status", sc->canonical);
    } else {
      put_s(o, "status", "unknown");
      if (w->env->count)
        w->env->count(w->env->count_ctx, "at7_unknown_status");
    }
    if (!st[0])
      json_object_object_add(o, "is_appointment", json_object_new_boolean(1));
    const char *reason_code = st[0] ? rs : ar;
    if (reason_code[0]) {
      const struct x12_code *rc = x12_at7_reason(reason_code);
      put_s(o, "reason", rc ? rc->canonical : "unknown");
    }
    json_object *raw = json_object_new_object();
    put_s(raw, "system", "x12");
    put_s(raw, "code", raw_code);
    put_s(raw, "description", sc ? sc->text : "unknown AT7 status code");
    put_s(raw, "reason_code", reason_code);
    put_s(raw, "time_code", code);
    json_object_object_add(o, "raw", raw);
    if (d[0]) {
      char out[40];
      if (x12_resolve_time(d, t[0] ? t : "0000", code, w->env->local_tz, out,
                           sizeof(out)) == 0)
        put_s(o, "occurred_at", out);
      if (!code[0] || strcmp(code, "LT") == 0)
        put_s(o, "time_zone_source", "partner_local_time_zone");
    }
    if (lx[0]) put_s(o, "stop_sequence", lx);
    /* MS1/MS2/L11 of the same LX loop, after the AT7 */
    json_object *refs = json_object_new_array();
    for (uint32_t k = (lx_start ? lx_start + 1 : i + 1); k + 1 < w->s->nsegs;
         k++) {
      if (tag(w, k, "LX") || (tag(w, k, "AT7") && k != i && k > i)) break;
      if (tag(w, k, "MS1")) {
        json_object *loc = json_object_new_object();
        put_el(w, loc, "city", k, 1);
        put_el(w, loc, "state", k, 2);
        put_el(w, loc, "country", k, 3);
        put_el(w, loc, "longitude_x12", k, 4);
        put_el(w, loc, "latitude_x12", k, 5);
        json_object_object_add(o, "location", loc);
      } else if (tag(w, k, "MS2")) {
        json_object *e = json_object_new_object();
        put_el(w, e, "scac", k, 1);
        put_el(w, e, "number", k, 2);
        put_el(w, e, "type", k, 3);
        json_object_object_add(o, "equipment", e);
      } else if (tag(w, k, "L11") && lx_start) {
        add_ref(w, refs, k, 0);
      }
    }
    json_object_object_add(o, "references", refs);
    json_object_object_add(o, "source_document", source_block(w));
    struct x12_out_msg m;
    set_headers(&m, w, "shipment", id, id, po[0] ? po : id, ++count);
    if (send(emit, ctx, &m, "dray.shipment.milestone.v1", o) < 0) return -1;
  }
  return count;
}

/* ------------------------------------------------------------------ */
/* 210 / 810 -> dray.invoice.received.v1                                */

static int map_210(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char num[64] = "", ship[64] = "", po[64] = "", buf[64], cur[8];
  const char *currency = currency_of(w, cur, sizeof(cur));
  json_object *o = json_object_new_object();
  json_object *parties = json_object_new_array();
  json_object *refs = json_object_new_array();
  json_object *charges = json_object_new_array();
  json_object *shipment_refs = json_object_new_object();
  long long sum = 0, b307 = 0, l305 = 0;
  int have_b307 = 0, have_l305 = 0, sum_ok = 1;
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "B3")) {
      str(w, i, 2, num, sizeof(num));
      str(w, i, 3, ship, sizeof(ship));
      put_s(o, "invoice_number", num);
      put_s(o, "shipment_id", ship);
      str(w, i, 4, buf, sizeof(buf));
      put_s(o, "payment_method",
            strcmp(buf, "PP") == 0   ? "prepaid"
            : strcmp(buf, "CC") == 0 ? "collect"
            : strcmp(buf, "TP") == 0 ? "third_party"
                                     : buf);
      put_date(w, o, "invoice_date", i, 6);
      json_object *m = money_n2(str(w, i, 7, buf, sizeof(buf)), currency);
      if (m) {
        b307 = json_object_get_int64(json_object_object_get(m, "amount_minor"));
        have_b307 = 1;
        json_object_object_add(o, "net_amount_due", m);
      }
      put_date(w, o, "delivery_date", i, 9);
      json_object *c = json_object_new_object();
      put_el(w, c, "scac", i, 11);
      json_object_object_add(o, "carrier", c);
    } else if (tag(w, i, "N9")) {
      add_ref(w, refs, i, 1);
      str(w, i, 1, buf, sizeof(buf));
      if (strcmp(buf, "BM") == 0) put_el(w, shipment_refs, "bol", i, 2);
      if (strcmp(buf, "CN") == 0) put_el(w, shipment_refs, "pro", i, 2);
      if (strcmp(buf, "PO") == 0 && !po[0]) str(w, i, 2, po, sizeof(po));
    } else if (tag(w, i, "N1")) {
      json_object_array_add(parties, party(w, &i));
    } else if (tag(w, i, "L1")) {
      json_object *ch = json_object_new_object();
      put_num(w, ch, "line_no", i, 1);
      char code[8];
      str(w, i, 8, code, sizeof(code));
      put_s(ch, "code", code);
      const char *text = x12_charge_text(code);
      put_s(ch, "description", text);
      str(w, i, 2, buf, sizeof(buf));
      if (buf[0]) {
        json_object *basis = json_object_new_object();
        put_num(w, basis, "rate", i, 2);
        put_el(w, basis, "qualifier", i, 3);
        json_object_object_add(ch, "basis", basis);
      }
      json_object *m = money_n2(str(w, i, 4, buf, sizeof(buf)), currency);
      if (m) {
        sum += json_object_get_int64(json_object_object_get(m, "amount_minor"));
        json_object_object_add(ch, "amount", m);
      } else {
        sum_ok = 0;
      }
      json_object_array_add(charges, ch);
    } else if (tag(w, i, "L3")) {
      json_object *t = json_object_new_object();
      put_num(w, t, "weight", i, 1);
      put_el(w, t, "weight_qualifier", i, 2);
      json_object *m = money_n2(str(w, i, 5, buf, sizeof(buf)), currency);
      if (m) {
        l305 = json_object_get_int64(json_object_object_get(m, "amount_minor"));
        have_l305 = 1;
        json_object_object_add(t, "charges", m);
      }
      put_num(w, t, "lading_qty", i, 11);
      json_object_object_add(o, "totals", t);
    }
  }
  put_s(o, "currency", currency);
  json_object_object_add(o, "shipment_refs", shipment_refs);
  json_object_object_add(o, "references", refs);
  json_object_object_add(o, "parties", parties);
  json_object_object_add(o, "charges", charges);
  json_object_object_add(o, "order_refs", json_object_new_array());
  if (po[0])
    json_object_array_add(json_object_object_get(o, "order_refs"),
                          json_object_new_string(po));
  /* sum(L104) == L305 == B307: kept as a flag, not a rejection */
  json_object_object_add(
      o, "totals_consistent",
      json_object_new_boolean(sum_ok && (!have_l305 || sum == l305) &&
                              (!have_b307 || !have_l305 || l305 == b307)));
  put_s(o, "document_type", "freight_invoice");
  json_object_object_add(o, "source_document", source_block(w));
  struct x12_out_msg m;
  set_headers(&m, w, "invoice", num, ship[0] ? ship : num, po[0] ? po : ship, 0);
  return send(emit, ctx, &m, "dray.invoice.received.v1", o) < 0 ? -1 : 1;
}

static int map_810(const struct walk *w, x12_emit_fn emit, void *ctx) {
  char num[64] = "", po[64] = "", buf[64], cur[8];
  const char *currency = currency_of(w, cur, sizeof(cur));
  json_object *o = json_object_new_object();
  json_object *parties = json_object_new_array();
  json_object *refs = json_object_new_array();
  json_object *lines = json_object_new_array();
  json_object *charges = json_object_new_array();
  json_object *shipment_refs = json_object_new_object();
  json_object *order_refs = json_object_new_array();
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "BIG")) {
      put_date(w, o, "invoice_date", i, 1);
      str(w, i, 2, num, sizeof(num));
      put_s(o, "invoice_number", num);
      put_date(w, o, "po_date", i, 3);
      str(w, i, 4, po, sizeof(po));
      if (po[0]) json_object_array_add(order_refs, json_object_new_string(po));
    } else if (tag(w, i, "REF")) {
      add_ref(w, refs, i, 1);
      str(w, i, 1, buf, sizeof(buf));
      if (strcmp(buf, "BM") == 0) put_el(w, shipment_refs, "bol", i, 2);
      if (strcmp(buf, "CN") == 0) put_el(w, shipment_refs, "pro", i, 2);
    } else if (tag(w, i, "N1")) {
      json_object_array_add(parties, party(w, &i));
    } else if (tag(w, i, "ITD")) {
      json_object *t = json_object_new_object();
      put_el(w, t, "type", i, 1);
      put_num(w, t, "discount_percent", i, 3);
      put_num(w, t, "discount_days", i, 5);
      put_date(w, t, "net_due_date", i, 6);
      put_num(w, t, "net_days", i, 7);
      put_el(w, t, "description", i, 12);
      json_object_object_add(o, "terms", t);
    } else if (tag(w, i, "DTM")) {
      char q[8];
      str(w, i, 1, q, sizeof(q));
      if (strcmp(q, "011") == 0) put_date(w, o, "ship_date", i, 2);
    } else if (tag(w, i, "IT1")) {
      json_object *l = json_object_new_object();
      put_el(w, l, "line_no", i, 1);
      put_num(w, l, "qty", i, 2);
      put_el(w, l, "uom", i, 3);
      char q[32], p[32];
      str(w, i, 2, q, sizeof(q));
      json_object *m = money_decimal(str(w, i, 4, p, sizeof(p)), currency);
      if (m) json_object_object_add(l, "unit_price", m);
      long long pm, qm;
      /* amount = qty * price, exact when both have <= 2 decimals */
      if (x12_decimal_minor(p, &pm) == 0 && x12_decimal_minor(q, &qm) == 0 &&
          qm % 100 == 0) {
        json_object *a = json_object_new_object();
        json_object_object_add(a, "amount_minor",
                               json_object_new_int64(pm * (qm / 100)));
        put_s(a, "currency", currency);
        json_object_object_add(l, "amount", a);
      }
      json_object_object_add(l, "item_ids", item_ids(w, i, 6));
      if (tag(w, i + 1, "PID")) put_el(w, l, "description", i + 1, 5);
      json_object_array_add(lines, l);
    } else if (tag(w, i, "SAC")) {
      json_object *ch = json_object_new_object();
      str(w, i, 1, buf, sizeof(buf));
      put_s(ch, "type", buf[0] == 'A' ? "allowance" : "charge");
      put_el(w, ch, "code", i, 2);
      json_object *m = money_n2(str(w, i, 5, buf, sizeof(buf)), currency);
      if (m) json_object_object_add(ch, "amount", m);
      json_object_array_add(charges, ch);
    } else if (tag(w, i, "TDS")) {
      json_object *t = json_object_new_object();
      json_object *m = money_n2(str(w, i, 1, buf, sizeof(buf)), currency);
      if (m) json_object_object_add(t, "total", m);
      json_object_object_add(o, "totals", t);
    } else if (tag(w, i, "CTT")) {
      put_num(w, o, "line_count", i, 1);
    }
  }
  put_s(o, "currency", currency);
  json_object_object_add(o, "order_refs", order_refs);
  json_object_object_add(o, "shipment_refs", shipment_refs);
  json_object_object_add(o, "references", refs);
  json_object_object_add(o, "parties", parties);
  json_object_object_add(o, "lines", lines);
  json_object_object_add(o, "charges", charges);
  put_s(o, "document_type", "invoice");
  json_object_object_add(o, "source_document", source_block(w));
  struct x12_out_msg m;
  set_headers(&m, w, "invoice", num, po[0] ? po : num, po, 0);
  return send(emit, ctx, &m, "dray.invoice.received.v1", o) < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ */
/* 997 / 999 -> dray.ack.received.v1                                    */

static const char *ack_status(char c) {
  switch (c) {
  case 'A': return "accepted";
  case 'E': return "accepted_with_errors";
  case 'P': return "partially_accepted";
  case 'M': case 'W': case 'X': case 'R': return "rejected";
  default: return "unknown";
  }
}

static int map_ack(const struct walk *w, x12_emit_fn emit, void *ctx,
                   int is999) {
  char gs01[8] = "", gs06[16] = "", buf[64];
  json_object *o = json_object_new_object();
  json_object *sets = json_object_new_array();
  json_object *set = NULL, *errors = NULL, *seg_err = NULL, *el_errs = NULL;
  put_s(o, "ack_type", is999 ? "999" : "997");
  json_object *ackd = json_object_new_object();
  for (uint32_t i = 1; i + 1 < w->s->nsegs; i++) {
    if (tag(w, i, "AK1")) {
      str(w, i, 1, gs01, sizeof(gs01));
      str(w, i, 2, gs06, sizeof(gs06));
      put_s(ackd, "functional_id", gs01);
      put_s(ackd, "group_control_number", gs06);
      put_el(w, ackd, "version", i, 3);
    } else if (tag(w, i, "AK2")) {
      set = json_object_new_object();
      put_el(w, set, "set_id", i, 1);
      put_el(w, set, "control_number", i, 2);
      errors = json_object_new_array();
      json_object_object_add(set, "errors", errors);
      json_object_array_add(sets, set);
      seg_err = NULL;
    } else if ((tag(w, i, "AK3") || tag(w, i, "IK3")) && errors) {
      seg_err = json_object_new_object();
      put_el(w, seg_err, "segment", i, 1);
      put_num(w, seg_err, "position", i, 2);
      put_el(w, seg_err, "loop", i, 3);
      put_el(w, seg_err, "code", i, 4);
      el_errs = json_object_new_array();
      json_object_object_add(seg_err, "elements", el_errs);
      json_object_array_add(errors, seg_err);
    } else if ((tag(w, i, "AK4") || tag(w, i, "IK4")) && seg_err) {
      json_object *e = json_object_new_object();
      struct x12_span p = el(w, i, 1);
      char pos[16];
      x12_span_copy(x12_span_part(p, w->comp, 0), pos, sizeof(pos));
      put_s(e, "position", pos);
      put_el(w, e, "reference", i, 2);
      put_el(w, e, "code", i, 3);
      put_el(w, e, "value", i, 4);
      json_object_array_add(el_errs, e);
    } else if ((tag(w, i, "AK5") || tag(w, i, "IK5")) && set) {
      str(w, i, 1, buf, sizeof(buf));
      put_s(set, "status", ack_status(buf[0]));
      json_object *codes = json_object_new_array();
      for (uint32_t n = 2; n <= 6; n++)
        if (str(w, i, n, buf, sizeof(buf))[0])
          json_object_array_add(codes, json_object_new_string(buf));
      json_object_object_add(set, "codes", codes);
      set = NULL;
    } else if (tag(w, i, "AK9")) {
      str(w, i, 1, buf, sizeof(buf));
      put_s(o, "status", ack_status(buf[0]));
      json_object *g = json_object_new_object();
      put_num(w, g, "included", i, 2);
      put_num(w, g, "received", i, 3);
      put_num(w, g, "accepted", i, 4);
      json_object *codes = json_object_new_array();
      for (uint32_t n = 5; n <= 9; n++)
        if (str(w, i, n, buf, sizeof(buf))[0])
          json_object_array_add(codes, json_object_new_string(buf));
      json_object_object_add(g, "codes", codes);
      json_object_object_add(o, "group", g);
    }
  }
  if (!json_object_object_get_ex(o, "status", NULL))
    put_s(o, "status", "unknown");
  json_object_object_add(o, "acknowledged", ackd);
  json_object_object_add(o, "sets", sets);
  json_object_object_add(o, "source_document", source_block(w));
  struct x12_out_msg m;
  char subj[40];
  snprintf(subj, sizeof(subj), "%s-%s", gs01, gs06);
  set_headers(&m, w, "ack", subj, gs06, gs06, 0);
  return send(emit, ctx, &m, "dray.ack.received.v1", o) < 0 ? -1 : 1;
}

int x12_map_set(const struct x12_map_env *env,
                const struct x12_set_segments *segs, x12_emit_fn emit,
                void *ctx, char *err, size_t err_size) {
  struct walk w = {env, segs, segs->delims.component};
  const char *st = env->set->st01;
  int r;
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
  else return 0;
  if (r < 0 && err && err_size)
    snprintf(err, err_size, "%s set ST02=%s (line %u): mapping stopped",
             st, env->set->st02, env->set->pos.line);
  return r;
}

int x12_map_ta1(const struct x12_map_env *env, x12_emit_fn emit, void *ctx,
                char *err, size_t err_size) {
  const struct x12_interchange_result *ic = env->ic;
  int n = 0;
  for (int k = 0; k < ic->ta1_count && k < 4; k++) {
    json_object *o = json_object_new_object();
    put_s(o, "ack_type", "TA1");
    char st = ic->ta1s[k].status;
    put_s(o, "status", st == 'A' ? "accepted"
                       : st == 'E' ? "accepted_with_errors"
                       : st == 'R' ? "rejected"
                                   : "unknown");
    json_object *ackd = json_object_new_object();
    put_s(ackd, "interchange_control_number", ic->ta1s[k].isa13);
    char date[16] = "";
    if (strlen(ic->ta1s[k].date) == 6)
      snprintf(date, sizeof(date), "20%.2s-%.2s-%.2s", ic->ta1s[k].date,
               ic->ta1s[k].date + 2, ic->ta1s[k].date + 4);
    put_s(ackd, "interchange_date", date);
    put_s(ackd, "interchange_time", ic->ta1s[k].time);
    json_object_object_add(o, "acknowledged", ackd);
    put_s(o, "note_code", ic->ta1s[k].code);
    put_s(o, "note", x12_ta1_text(ic->ta1s[k].code));
    json_object *src = json_object_new_object();
    put_s(src, "standard", "x12");
    put_s(src, "set", "TA1");
    put_s(src, "interchange_control_number", ic->isa13);
    json_object_object_add(o, "source_document", src);
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
      return -1;
    }
    n++;
  }
  return n;
}

char *x12_map_ack_sent(const struct x12_interchange_result *ic,
                       const char *ack_kind, long isa13, const char *text) {
  json_object *o = json_object_new_object();
  put_s(o, "ack_type", ack_kind);
  put_s(o, "status", ic->ta1_status == 'R' ? "rejected" : "accepted");
  json_object *ackd = json_object_new_object();
  put_s(ackd, "interchange_control_number", ic->isa13);
  json_object *groups = json_object_new_array();
  for (uint32_t g = 0; g < ic->ngroups; g++) {
    json_object *gr = json_object_new_object();
    put_s(gr, "functional_id", ic->groups[g].gs01);
    put_s(gr, "group_control_number", ic->groups[g].gs06);
    char st[2] = {ic->groups[g].status, 0};
    put_s(gr, "status", ack_status(st[0]));
    json_object_array_add(groups, gr);
  }
  json_object_object_add(ackd, "groups", groups);
  json_object_object_add(o, "acknowledged", ackd);
  if (ic->ta1_status == 'R') {
    put_s(o, "note_code", ic->ta1_code);
    put_s(o, "note", ic->message);
  }
  char num[16];
  snprintf(num, sizeof(num), "%09ld", isa13);
  put_s(o, "ack_interchange_control_number", num);
  json_object *p = json_object_new_object();
  put_s(p, "qualifier", ic->isa05);
  put_s(p, "id", ic->isa06);
  json_object_object_add(o, "partner", p);
  if (text) put_s(o, "document", text);
  char *out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  json_object_put(o);
  return out;
}
