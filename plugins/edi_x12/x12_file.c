/* x12_file.c - see x12_file.h. */
#include "x12_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int x12_file_claim(const char *dir, char **path, char **name) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *e;
  char *best = NULL;
  char p[4096];
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) continue;
    if (!best || strcmp(e->d_name, best) < 0) {
      free(best);
      best = strdup(e->d_name);
      if (!best) break;
    }
  }
  closedir(d);
  if (!best) return 0;
  char to[4096];
  snprintf(p, sizeof(p), "%s/%s", dir, best);
  snprintf(to, sizeof(to), "%s/processing/%s", dir, best);
  if (rename(p, to) < 0) {
    int err = errno;
    free(best);
    if (err == ENOENT) return 0; /* another poller took it */
    errno = err;
    return -1;
  }
  *path = strdup(to);
  *name = best;
  if (!*path) {
    free(best);
    return -1;
  }
  return 1;
}

int x12_file_read(const char *path, char **data, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return -1;
  }
  size_t n = (size_t)st.st_size;
  char *buf = malloc(n + 1);
  if (!buf) {
    close(fd);
    return -1;
  }
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return 0;
}
