/* as2_test_util.h - shell helpers shared by the AS2 tests: running a
 * command line and making throw-away X.509 identities with `openssl`. */
#ifndef AS2_TEST_UTIL_H
#define AS2_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a formatted shell command line; system()'s status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  return system(cmd);
}

/* A self-signed RSA certificate and key, NAME.pem and NAME.key in dir, for
 * each space-separated name. 0, or -1 when openssl failed. */
static inline int as2_test_identities(const char *dir, const char *names) {
  for (const char *who = names; *who;) {
    char name[16];
    size_t n = strcspn(who, " ");
    snprintf(name, sizeof(name), "%.*s", (int)n, who);
    if (sh("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout %s.key -out %s.pem "
           "-days 30 -subj /CN=%s >/dev/null 2>&1",
           dir, name, name, name) != 0)
      return -1;
    who += n;
    while (*who == ' ') who++;
  }
  return 0;
}

#endif
