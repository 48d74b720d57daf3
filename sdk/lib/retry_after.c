/* retry_after.c - HTTP Retry-After values (see dray-sdk/retry_after.h). */
#include <dray-sdk/retry_after.h>

#include <ctype.h>
#include <string.h>
#include <time.h>

#define DAY_MS (24LL * 3600 * 1000)

static int64_t parse_seconds(const char *v) {
  int64_t secs = 0;
  const char *p = v;
  if (!isdigit((unsigned char)*p)) return -1;
  for (; isdigit((unsigned char)*p); p++) {
    secs = secs * 10 + (*p - '0');
    if (secs * 1000 > DAY_MS) return -1;
  }
  while (*p == ' ' || *p == '\t') p++;
  return *p ? -1 : secs * 1000;
}

int64_t dray_retry_after_ms(const char *value, int64_t now_unix_ms) {
  if (!value) return -1;
  while (*value == ' ' || *value == '\t') value++;
  if (isdigit((unsigned char)*value)) return parse_seconds(value);
  static const char *const forms[] = {
      "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
      "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
      "%a %b %e %H:%M:%S %Y",      /* asctime */
  };
  for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(value, forms[i], &tm);
    if (!end) continue;
    while (*end == ' ' || *end == '\t') end++;
    if (*end) continue;
    int64_t at_ms = (int64_t)timegm(&tm) * 1000;
    int64_t wait = at_ms - now_unix_ms;
    if (wait < 0) return 0;
    return wait > DAY_MS ? -1 : wait;
  }
  return -1;
}
