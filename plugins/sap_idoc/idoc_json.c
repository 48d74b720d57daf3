/* idoc_json.c - value conversions shared by the IDoc <-> canonical
 * mappings: SAP dates/times to RFC 3339, SAP decimals to integer minor
 * units (never through a double), and small json-c helpers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc_map.h"

static int all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i])) return 0;
  return 1;
}

int idoc_fmt_date(const char *d, char *out, size_t size) {
  if (!d || strlen(d) != 8 || !all_digits(d, 8) || !strcmp(d, "00000000"))
    return -1;
  int mo = (d[4] - '0') * 10 + (d[5] - '0');
  int dd = (d[6] - '0') * 10 + (d[7] - '0');
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31) return -1;
  snprintf(out, size, "%.4s-%.2s-%.2s", d, d + 4, d + 6);
  return 0;
}

int idoc_fmt_datetime(const char *d, const char *t, const char *tz,
                      char *out, size_t size) {
  char date[16];
  if (idoc_fmt_date(d, date, sizeof date) < 0) return -1;
  char hh[3] = "00", mm[3] = "00", ss[3] = "00";
  size_t tl = t ? strlen(t) : 0;
  if (tl == 6 || tl == 4) {
    if (!all_digits(t, tl)) return -1;
    memcpy(hh, t, 2);
    memcpy(mm, t + 2, 2);
    if (tl == 6) memcpy(ss, t + 4, 2);
    if (atoi(hh) > 23 || atoi(mm) > 59 || atoi(ss) > 59) return -1;
  } else if (tl) {
    return -1;
  }
  snprintf(out, size, "%sT%s:%s:%s%s", date, hh, mm, ss,
           tz && *tz ? tz : "Z");
  return 0;
}

int idoc_currency_exp(const char *cur) {
  static const char *zero[] = {"JPY", "KRW", "CLP", "ISK", "VND", "XOF",
                               "XAF", "PYG", "UGX", "HUF0", NULL};
  static const char *three[] = {"BHD", "KWD", "JOD", "OMR", "TND", "LYD",
                                "IQD", NULL};
  if (!cur) return 2;
  for (int i = 0; zero[i]; i++)
    if (!strcmp(cur, zero[i])) return 0;
  for (int i = 0; three[i]; i++)
    if (!strcmp(cur, three[i])) return 3;
  return 2;
}

int idoc_parse_minor(const char *s, int exp, int64_t *out) {
  if (!s) return -1;
  while (*s == ' ') s++;
  int neg = 0;
  if (*s == '-') neg = 1, s++;
  else if (*s == '+') s++;
  int64_t v = 0;
  int digits = 0, in_frac = 0, used = 0, round_up = 0, extra = 0;
  for (; *s && *s != ' ' && *s != '-'; s++) {
    if (*s == '.') {
      if (in_frac) return -1;
      in_frac = 1;
      continue;
    }
    if (!isdigit((unsigned char)*s)) return -1;
    digits++;
    if (in_frac && used == exp) {
      if (!extra++) round_up = *s >= '5';
      continue;
    }
    if (v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (*s - '0');
    if (in_frac) used++;
  }
  if (*s == '-') neg = 1, s++; /* SAP writes the sign after the number */
  while (*s == ' ') s++;
  if (*s || !digits) return -1;
  for (; used < exp; used++) {
    if (v > INT64_MAX / 10) return -1;
    v *= 10;
  }
  v += round_up;
  *out = neg ? -v : v;
  return 0;
}

void idoc_fmt_minor(int64_t v, int exp, char *out, size_t size) {
  int neg = v < 0;
  uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  uint64_t p = 1;
  for (int i = 0; i < exp; i++) p *= 10;
  if (exp == 0)
    snprintf(out, size, "%s%llu", neg ? "-" : "", (unsigned long long)u);
  else
    snprintf(out, size, "%s%llu.%0*llu", neg ? "-" : "",
             (unsigned long long)(u / p), exp, (unsigned long long)(u % p));
}

json_object *idoc_json_decimal(const char *s) {
  if (!s) return NULL;
  while (*s == ' ') s++;
  char buf[48];
  size_t n = strlen(s);
  if (n == 0 || n >= sizeof buf - 2) return NULL;
  size_t k = 0;
  if (s[0] == '.') buf[k++] = '0';
  int dot = 0, digits = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.') {
      if (dot++) return NULL;
    } else if (isdigit((unsigned char)s[i]))
      digits++;
    else
      return NULL; /* signs: quantities are never negative here */
    buf[k++] = s[i];
  }
  if (!digits) return NULL;
  if (buf[k - 1] == '.') k--;
  buf[k] = 0;
  /* strip leading zeros that JSON forbids ("0012" -> "12") */
  char *p = buf;
  while (p[0] == '0' && p[1] && p[1] != '.') p++;
  return json_object_new_double_s(strtod(p, NULL), p);
}

json_object *idoc_jget(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!o || !json_object_is_type(o, json_type_object)) return NULL;
  return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *idoc_jstr(json_object *o, const char *key) {
  json_object *v = idoc_jget(o, key);
  if (!v) return NULL;
  if (json_object_is_type(v, json_type_string)) return json_object_get_string(v);
  if (json_object_is_type(v, json_type_int)) return json_object_get_string(v);
  return NULL;
}

void idoc_jadd_str(json_object *o, const char *key, const char *s) {
  if (s && *s) json_object_object_add(o, key, json_object_new_string(s));
}
