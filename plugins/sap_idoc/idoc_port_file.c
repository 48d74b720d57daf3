/* idoc_port_file.c - SAP's file port (WE21 "File" / "XML File").
 *
 * Inbound: SAP writes IDoc files into inbound_dir. A file is claimed by
 * renaming it into processing/ (atomic: two instances never take the same
 * file), decoded whole (a bad file emits nothing), its messages emitted,
 * then moved to done/ or to failed/ beside NAME.error saying why. After
 * backpressure the next poll resumes with the next message; after a
 * restart, files left in processing/ are taken again (at-least-once; the
 * idempotency keys let the core drop the repeats).
 *
 * Outbound: each document goes through a temporary file in outbound_dir,
 * fsync, rename and a directory fsync, so SAP never reads half a file and
 * an acknowledged file survives a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sap_idoc_plugin.h"

#include <dray-sdk/files.h>

int sap_file_init(struct sap_idoc *s) {
  if (s->inbound_dir) {
    snprintf(s->processing, sizeof s->processing, "%s/processing", s->inbound_dir);
    if (dray_files_prepare_inbound(s->inbound_dir) != 0) {
      s->host->set_error(s->inst, "inbound_dir %s: %s", s->inbound_dir,
                         strerror(errno));
      return -1;
    }
  }
  if (s->outbound_dir && dray_files_mkdirs(s->outbound_dir)) {
    s->host->set_error(s->inst, "outbound_dir %s: %s", s->outbound_dir,
                       strerror(errno));
    return -1;
  }
  return 0;
}

/* Frees the messages of the current file not emitted yet. */
static void drop_pending(struct sap_idoc *s) {
  for (size_t i = s->pending_next; i < s->npending; i++)
    s->host->msg_free(&s->pending[i]);
  free(s->pending);
  s->pending = NULL;
  s->npending = s->pending_next = 0;
}

void sap_file_cleanup(struct sap_idoc *s) {
  drop_pending(s);
}

static int read_all(const char *path, char **data, size_t *len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size > (1 << 30)) {
    close(fd);
    return -1;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (buf && got < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (!buf || got != (size_t)st.st_size) {
    free(buf);
    return -1;
  }
  buf[got] = 0;
  *data = buf;
  *len = got;
  return 0;
}

/* Files a claimed file away: done/, or failed/ beside NAME.error. */
static void move_to(struct sap_idoc *s, const char *name, const char *why) {
  char from[PATH_MAX + NAME_MAX + 2];
  snprintf(from, sizeof from, "%s/%s", s->processing, name);
  if (dray_files_finish(s->inbound_dir, from, name, why) != 0)
    s->host->log(s->inst, DRAY_LOG_ERROR, "cannot move %s to %s/: %s", from,
                 why ? "failed" : "done", strerror(errno));
}

static int collect(void *ctx, dray_msg **msg) {
  struct sap_idoc *s = ctx;
  dray_msg **n = realloc(s->pending, (s->npending + 1) * sizeof *n);
  if (!n) return -1;
  s->pending = n;
  n[s->npending++] = *msg;
  *msg = NULL;
  return 0;
}

/* Emits the pending messages of the current file; 1 when all went out. */
static int emit_pending(struct sap_idoc *s) {
  while (s->pending_next < s->npending) {
    dray_status st = s->host->emit(s->inst, &s->pending[s->pending_next]);
    if (st == DRAY_RETRY || st == DRAY_FATAL) return 0; /* keep it */
    if (st == DRAY_REJECT) {
      s->host->log(s->inst, DRAY_LOG_WARN, "%s: message %zu refused",
                   s->current, s->pending_next + 1);
      s->host->msg_free(&s->pending[s->pending_next]);
    }
    s->pending_next++;
  }
  free(s->pending);
  s->pending = NULL;
  s->npending = s->pending_next = 0;
  move_to(s, s->current, NULL);
  s->current[0] = 0;
  return 1;
}

/* The next file to take: leftovers in processing/ first (a crash), then
 * the oldest name in inbound_dir. */
static int next_file(struct sap_idoc *s, char *name, int *from_processing) {
  const char *dirs[2] = {s->processing, s->inbound_dir};
  for (int k = 0; k < 2; k++) {
    DIR *d = opendir(dirs[k]);
    if (!d) continue;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      char p[PATH_MAX + NAME_MAX + 2];
      struct stat st;
      snprintf(p, sizeof p, "%s/%s", dirs[k], e->d_name);
      if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      /* a writer that does not rename in: wait until the file is quiet */
      if (k == 1 && s->stable_age_ms > 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t age = ((int64_t)now.tv_sec - st.st_mtim.tv_sec) * 1000 +
                      (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
        if (age < s->stable_age_ms) continue;
      }
      if (!found || strcmp(e->d_name, name) < 0) {
        snprintf(name, NAME_MAX + 1, "%s", e->d_name);
        found = 1;
      }
    }
    closedir(d);
    if (found) {
      *from_processing = k == 0;
      return 1;
    }
  }
  return 0;
}

dray_status sap_file_poll(struct sap_idoc *s, int *worked) {
  if (s->current[0]) {
    *worked = emit_pending(s);
    return DRAY_OK;
  }
  char name[NAME_MAX + 1];
  int from_processing;
  if (!next_file(s, name, &from_processing)) return DRAY_OK;
  *worked = 1;
  if (!from_processing) {
    char from[PATH_MAX + NAME_MAX + 2], to[PATH_MAX + NAME_MAX + 2];
    snprintf(from, sizeof from, "%s/%s", s->inbound_dir, name);
    snprintf(to, sizeof to, "%s/%s", s->processing, name);
    if (rename(from, to) != 0) return DRAY_OK; /* another instance took it */
  }
  snprintf(s->current, sizeof s->current, "%s", name);
  char path[PATH_MAX + NAME_MAX + 2];
  snprintf(path, sizeof path, "%s/%s", s->processing, name);
  char *data;
  size_t len;
  if (read_all(path, &data, &len) != 0) {
    char why[300];
    snprintf(why, sizeof why, "%s: cannot read: %s", name, strerror(errno));
    move_to(s, name, why);
    s->current[0] = 0;
    return DRAY_OK;
  }
  char why[1024] = "";
  /* the set's memory is kept for the next file (the instance's pool) */
  dray_status st = sap_idoc_decode_doc(s, data, len, name, collect, s, why,
                                       sizeof why);
  free(data);
  if (st != DRAY_OK) {
    /* the whole file is refused: nothing of it is emitted */
    drop_pending(s);
    s->host->log(s->inst, DRAY_LOG_WARN, "%s moved to failed/: %s", name, why);
    move_to(s, name, why[0] ? why : "rejected");
    s->current[0] = 0;
    return DRAY_OK;
  }
  emit_pending(s);
  return DRAY_OK;
}

dray_status sap_file_write(struct sap_idoc *s, const char *data, size_t len,
                           const char *stem) {
  if (!s->outbound_dir) {
    s->host->set_error(s->inst, "file port: no outbound_dir configured");
    return DRAY_FATAL;
  }
  const char *ext = s->format_xml ? "xml" : "idoc";
  char name[NAME_MAX + 1];
  snprintf(name, sizeof name, "%s.%s", stem, ext);
  if (dray_files_write_atomic(s->outbound_dir, name, data, len, 1) == 0) return DRAY_OK;
  s->host->set_error(s->inst, "%s/%s: %s", s->outbound_dir, name, strerror(errno));
  s->host->set_retry_after(s->inst, 1000);
  return DRAY_RETRY;
}
