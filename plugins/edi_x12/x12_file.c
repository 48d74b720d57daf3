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

/* mkdir -p: the operator names folders that may not exist yet. */
int x12_file_prepare_dir(const char *dir) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0775) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(tmp, 0775) < 0 && errno != EEXIST) return -1;
  return 0;
}

int x12_file_prepare_inbound(const char *dir) {
  static const char *const subs[] = {"processing", "done", "failed"};
  char p[4096];
  if (x12_file_prepare_dir(dir) < 0) return -1;
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof(p), "%s/%s", dir, subs[i]);
    if (x12_file_prepare_dir(p) < 0) return -1;
  }
  return 0;
}

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

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

int x12_file_write_atomic(const char *dir, const char *name, const void *data,
                          size_t len) {
  char tmp[4096], dst[4096];
  snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name, (long)getpid());
  snprintf(dst, sizeof(dst), "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0664);
  if (fd < 0) return -1;
  const char *p = data;
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) goto fail;
    done += (size_t)w;
  }
  if (fsync(fd) < 0) goto fail;
  if (close(fd) < 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, dst) < 0) goto fail;
  return fsync_dir(dir);
fail: {
  int err = errno;
  if (fd >= 0) close(fd);
  unlink(tmp);
  errno = err;
  return -1;
}
}

int x12_file_finish(const char *dir, const char *claimed_path,
                    const char *name, const char *reason) {
  char to[8200], sub[4096];
  snprintf(sub, sizeof(sub), "%s/%s", dir, reason ? "failed" : "done");
  if (reason) {
    char ename[1024];
    snprintf(ename, sizeof(ename), "%s.error", name);
    size_t n = strlen(reason);
    char *text = malloc(n + 2);
    if (!text) return -1;
    memcpy(text, reason, n);
    text[n] = '\n';
    int r = x12_file_write_atomic(sub, ename, text, n + 1);
    free(text);
    if (r < 0) return -1;
  }
  snprintf(to, sizeof(to), "%s/%s", sub, name);
  return rename(claimed_path, to);
}
