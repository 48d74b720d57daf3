/* fsutil.c - small file-system helpers of the core. */
#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int dray__mkdirs(const char *path) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}
