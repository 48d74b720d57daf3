/* files.c - folder ports (see dray-sdk/files.h). */
#include <dray-sdk/files.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dray_files_mkdirs(const char *dir) {
  char tmp[4096];
  if (!dir || !*dir || snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
    errno = dir && *dir ? ENAMETOOLONG : EINVAL;
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

int dray_files_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  errno = err;
  return rc;
}

int dray_files_prepare_inbound(const char *dir) {
  static const char *const subs[] = {"processing", "done", "failed"};
  char path[4200];
  if (dray_files_mkdirs(dir) != 0) return -1;
  for (size_t i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
    if (dray_files_mkdirs(path) != 0) return -1;
  }
  return 0;
}

int dray_files_write_atomic(const char *dir, const char *name, const void *data,
                            size_t len, int sync) {
  char tmp[4400], dst[4400];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return -1;
  const char *p = data;
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) goto fail;
    done += (size_t)w;
  }
  if (sync && fsync(fd) != 0) goto fail;
  int rc = close(fd);
  fd = -1;
  if (rc != 0 || rename(tmp, dst) != 0) goto fail;
  return sync ? dray_files_fsync_dir(dir) : 0;
fail: {
  int err = errno;
  if (fd >= 0) close(fd);
  unlink(tmp);
  errno = err;
  return -1;
}
}

int dray_files_finish(const char *dir, const char *claimed_path, const char *name,
                      const char *reason) {
  char sub[4200], to[4400];
  snprintf(sub, sizeof sub, "%s/%s", dir, reason ? "failed" : "done");
  if (reason) {
    char ename[1024];
    snprintf(ename, sizeof ename, "%s.error", name);
    size_t n = strlen(reason);
    char *text = malloc(n + 2);
    if (!text) return -1;
    memcpy(text, reason, n);
    text[n] = '\n';
    int rc = dray_files_write_atomic(sub, ename, text, n + 1, 1);
    free(text);
    if (rc != 0) return -1;
  }
  snprintf(to, sizeof to, "%s/%s", sub, name);
  if (rename(claimed_path, to) != 0) return -1;
  char claimed_dir[4400];
  snprintf(claimed_dir, sizeof claimed_dir, "%s", claimed_path);
  char *slash = strrchr(claimed_dir, '/');
  if (slash) {
    *slash = '\0';
    dray_files_fsync_dir(claimed_dir);
  }
  return dray_files_fsync_dir(sub);
}
