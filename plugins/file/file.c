/* file.c - the `file` plugin: a directory source and a directory sink.
 *
 * Source: files appear in inbound_dir (writers should write elsewhere and
 * rename in, or set stable_age_ms). A file is claimed by renaming it into
 * processing/, so two instances never take the same file; its messages
 * are emitted; then it moves to done/, or to failed/ beside a
 * NAME.error file that says why. A file is checked whole before anything
 * is emitted, so a bad file emits nothing. After a restart, files left in
 * processing/ are taken again from the start (at-least-once).
 *
 * Sink: each message is written as one CloudEvent JSON file, through a
 * temporary file, fsync, rename and a directory fsync, so a reader never
 * sees a partial file and an acknowledged file survives a crash. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dray/dray.h>
#include <dray-sdk/files.h>

static const char *const formats[] = {"event", "body", NULL};

static const struct dray_param params[] = {
    DRAY_PARAM_INIT("inbound_dir", DRAY_PARAM_PATH, 0, NULL,
                    "Directory to pick files up from (makes the instance a source)"),
    DRAY_PARAM_INIT("outbound_dir", DRAY_PARAM_PATH, 0, NULL,
                    "Directory to write one CloudEvent file per message into (sink)"),
    DRAY_PARAM_INIT("pattern", DRAY_PARAM_STRING, 0, "*.json",
                    "Shell glob of the inbound files to take"),
    DRAY_PARAM_ENUMS("format", 0, "event", formats,
                     "event: files hold CloudEvents (one JSON object, or one per "
                     "line); body: each file is one business object emitted as `type`"),
    DRAY_PARAM_INIT("type", DRAY_PARAM_STRING, 0, NULL,
                    "Message type for format body, e.g. dray.order.created.v1"),
    DRAY_PARAM_RANGE("stable_age_ms", DRAY_PARAM_INT, 0, "0", 0, 86400000,
                     "Only take files unchanged for this long (writers that do not rename)"),
    DRAY_PARAM_RANGE("max_file_bytes", DRAY_PARAM_INT, 0, "67108864", 1, 1073741824.0,
                     "Larger inbound files are moved to failed/"),
    DRAY_PARAM_INIT("fsync", DRAY_PARAM_BOOL, 0, "true",
                    "Sink: fsync each file and the directory before acknowledging"),
};

struct file_plugin {
  const struct dray_host *host;
  dray_instance *inst;
  const char *inbound, *outbound, *pattern, *type;
  int body_format;
  int64_t stable_age_ms, max_bytes;
  int fsync;
  char processing[PATH_MAX]; /* inbound/processing: claimed files */
  /* The file being emitted and how many of its messages were accepted:
   * after backpressure the next poll resumes there, not at the start. */
  char current[NAME_MAX + 1];
  size_t current_emitted;
};

static int file_create(const struct dray_host *host, dray_instance *inst,
                       void **state) {
  struct file_plugin *fp = calloc(1, sizeof *fp);
  if (!fp) return -1;
  fp->host = host;
  fp->inst = inst;
  fp->inbound = host->get_string(inst, "inbound_dir");
  fp->outbound = host->get_string(inst, "outbound_dir");
  fp->pattern = host->get_string(inst, "pattern");
  fp->type = host->get_string(inst, "type");
  fp->body_format = strcmp(host->get_string(inst, "format"), "body") == 0;
  fp->stable_age_ms = host->get_int(inst, "stable_age_ms", 0);
  fp->max_bytes = host->get_int(inst, "max_file_bytes", 64 << 20);
  fp->fsync = host->get_bool(inst, "fsync", 1);
  if (!fp->inbound && !fp->outbound) {
    host->set_error(inst, "set inbound_dir (source), outbound_dir (sink) or both");
    goto fail;
  }
  if (fp->body_format && !fp->type) {
    host->set_error(inst, "format body needs `type` (the message type to emit)");
    goto fail;
  }
  if (fp->inbound) {
    snprintf(fp->processing, sizeof fp->processing, "%s/processing", fp->inbound);
    if (dray_files_prepare_inbound(fp->inbound) != 0) {
      host->set_error(inst, "inbound_dir %s: %s", fp->inbound, strerror(errno));
      goto fail;
    }
  }
  if (fp->outbound && dray_files_mkdirs(fp->outbound) != 0) {
    host->set_error(inst, "outbound_dir %s: %s", fp->outbound, strerror(errno));
    goto fail;
  }
  *state = fp;
  return 0;
fail:
  free(fp);
  return -1;
}

static void file_destroy(void *state) { free(state); }

/* --- source ------------------------------------------------------------------ */

static void line_col(const char *text, size_t offset, size_t *line, size_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset && text[i]; i++) {
    if (text[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

/* Moves a claimed file to done/ or failed/ (with NAME.error). */
static void finish_file(struct file_plugin *fp, const char *name,
                        const char *error) {
  char from[PATH_MAX];
  snprintf(from, sizeof from, "%s/%s", fp->processing, name);
  if (error) {
    fp->host->log(fp->inst, DRAY_LOG_ERROR, "%s moved to failed/: %s", name, error);
    fp->host->counter_add(fp->inst, "files_failed", 1);
  } else {
    fp->host->counter_add(fp->inst, "files_done", 1);
  }
  if (dray_files_finish(fp->inbound, from, name, error) != 0)
    fp->host->log(fp->inst, DRAY_LOG_ERROR, "cannot move %s to %s/: %s", from,
                  error ? "failed" : "done", strerror(errno));
}

/* Parses a whole file into messages (all or nothing). Returns the count,
 * or -1 with the reason (FILE:LINE:COL or FILE:LINE) in err. */
static long parse_file(struct file_plugin *fp, const char *name,
                       const char *text, size_t len, dray_msg ***out,
                       char *err, size_t err_size) {
  const struct dray_host *h = fp->host;
  dray_msg **msgs = NULL;
  size_t count = 0, cap = 0;
  char why[512];
  if (fp->body_format) {
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    json_object_put(o);
    while (end < len && strchr(" \t\r\n", text[end])) end++;
    if (!o || je != json_tokener_success || end < len) {
      size_t line, col;
      line_col(text, end, &line, &col);
      snprintf(err, err_size, "%s:%zu:%zu: invalid JSON: %s", name, line, col,
               je != json_tokener_success ? json_tokener_error_desc(je)
                                          : "trailing data");
      return -1;
    }
    /* the body without the file's trailing newline: events stay one line */
    while (len && strchr(" \t\r\n", text[len - 1])) len--;
    msgs = malloc(sizeof *msgs);
    if (!msgs || !(msgs[0] = h->msg_new(fp->inst, fp->type, text, len))) {
      free(msgs);
      snprintf(err, err_size, "%s: cannot create a message of type %s", name,
               fp->type);
      return -1;
    }
    *out = msgs;
    return 1;
  }
  /* One CloudEvent for the whole file, else one per line. */
  dray_msg *whole = h->msg_parse(fp->inst, text, len, why, sizeof why);
  if (whole) {
    msgs = malloc(sizeof *msgs);
    if (!msgs) {
      h->msg_free(&whole);
      return -1;
    }
    msgs[0] = whole;
    *out = msgs;
    return 1;
  }
  const char *p = text, *end = text + len;
  size_t line_no = 0;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
    const char *line = p;
    p = eol ? eol + 1 : end;
    line_no++;
    while (n && strchr(" \t\r", line[n - 1])) n--;
    if (n == 0) continue;
    dray_msg *m = h->msg_parse(fp->inst, line, n, why, sizeof why);
    if (!m) {
      snprintf(err, err_size, "%s:%zu: %s", name, line_no, why);
      goto fail;
    }
    if (count == cap) {
      cap = cap ? cap * 2 : 16;
      dray_msg **v = realloc(msgs, cap * sizeof *v);
      if (!v) {
        h->msg_free(&m);
        goto fail;
      }
      msgs = v;
    }
    msgs[count++] = m;
  }
  if (count == 0) {
    snprintf(err, err_size, "%s:1: no CloudEvent in the file", name);
    goto fail;
  }
  *out = msgs;
  return (long)count;
fail:
  for (size_t i = 0; i < count; i++) h->msg_free(&msgs[i]);
  free(msgs);
  return -1;
}

static int read_all(const char *path, int64_t max, char **data, size_t *len,
                    char *err, size_t err_size) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    snprintf(err, err_size, "cannot read: %s", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  if (st.st_size > max) {
    snprintf(err, err_size, "file is %lld bytes, above max_file_bytes %lld",
             (long long)st.st_size, (long long)max);
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
    snprintf(err, err_size, "short read");
    return -1;
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return 0;
}

/* Emits the messages of one claimed file. Returns DRAY_OK when the file
 * is finished (done or failed), DRAY_RETRY on backpressure (resume later). */
static dray_status emit_file(struct file_plugin *fp, const char *name) {
  const struct dray_host *h = fp->host;
  char path[PATH_MAX], err[1024];
  char *text = NULL;
  size_t len = 0;
  dray_msg **msgs = NULL;
  snprintf(path, sizeof path, "%s/%s", fp->processing, name);
  if (strcmp(fp->current, name) != 0) {
    snprintf(fp->current, sizeof fp->current, "%s", name);
    fp->current_emitted = 0;
  }
  if (read_all(path, fp->max_bytes, &text, &len, err, sizeof err) != 0) {
    char full[1200];
    snprintf(full, sizeof full, "%s: %s", name, err);
    finish_file(fp, name, full);
    fp->current[0] = '\0';
    return DRAY_OK;
  }
  long count = parse_file(fp, name, text, len, &msgs, err, sizeof err);
  free(text);
  if (count < 0) {
    finish_file(fp, name, err);
    fp->current[0] = '\0';
    return DRAY_OK;
  }
  dray_status st = DRAY_OK;
  for (long i = 0; i < count; i++) {
    if ((size_t)i < fp->current_emitted) continue; /* accepted earlier */
    st = h->emit(fp->inst, &msgs[i]);
    if (st == DRAY_OK) {
      fp->current_emitted++;
      continue;
    }
    if (st == DRAY_REJECT) {
      char why[1024];
      snprintf(why, sizeof why, "%s: message %ld rejected by the runtime", name, i + 1);
      finish_file(fp, name, why);
      fp->current[0] = '\0';
      st = DRAY_OK;
    }
    break;
  }
  for (long i = 0; i < count; i++) h->msg_free(&msgs[i]);
  free(msgs);
  if (st == DRAY_OK && fp->current[0]) {
    fp->host->counter_add(fp->inst, "messages_read", (uint64_t)count);
    finish_file(fp, name, NULL);
    fp->current[0] = '\0';
  }
  return st;
}

static int name_cmp(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_hidden(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Claims new files by renaming them into processing/. */
static void claim_new(struct file_plugin *fp) {
  struct dirent **names;
  int n = scandir(fp->inbound, &names, not_hidden, name_cmp);
  if (n < 0) return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  for (int i = 0; i < n; i++) {
    char from[PATH_MAX], to[PATH_MAX];
    struct stat st;
    snprintf(from, sizeof from, "%s/%s", fp->inbound, names[i]->d_name);
    if (fnmatch(fp->pattern, names[i]->d_name, 0) == 0 &&
        stat(from, &st) == 0 && S_ISREG(st.st_mode) &&
        (now.tv_sec - st.st_mtime) * 1000 >= fp->stable_age_ms) {
      snprintf(to, sizeof to, "%s/%s", fp->processing, names[i]->d_name);
      if (rename(from, to) != 0 && errno != ENOENT)
        fp->host->log(fp->inst, DRAY_LOG_WARN, "cannot claim %s: %s", from,
                      strerror(errno));
    }
    free(names[i]);
  }
  free(names);
}

static dray_status file_poll(void *state, int *worked) {
  struct file_plugin *fp = state;
  *worked = 0;
  if (!fp->inbound) return DRAY_OK;
  claim_new(fp);
  struct dirent **names;
  int n = scandir(fp->processing, &names, not_hidden, name_cmp);
  if (n < 0) {
    fp->host->set_error(fp->inst, "%s: %s", fp->processing, strerror(errno));
    return DRAY_RETRY;
  }
  dray_status st = DRAY_OK;
  int i = 0;
  /* Resume the file that met backpressure before any other. */
  for (; i < n && st == DRAY_OK; i++) {
    if (!fp->current[0] || strcmp(names[i]->d_name, fp->current) == 0) {
      st = emit_file(fp, names[i]->d_name);
      if (st == DRAY_OK) *worked = 1;
    }
  }
  for (int j = 0; j < n; j++) free(names[j]);
  free(names);
  if (st == DRAY_RETRY) *worked = 0; /* let the host pause */
  return DRAY_OK;
}

/* --- sink -------------------------------------------------------------------- */

static dray_status write_durably(struct file_plugin *fp, const char *final_name,
                                 const char *data, size_t len) {
  if (dray_files_write_atomic(fp->outbound, final_name, data, len, fp->fsync) == 0)
    return DRAY_OK;
  fp->host->set_error(fp->inst, "writing %s/%s: %s", fp->outbound, final_name,
                      strerror(errno));
  return DRAY_RETRY; /* disk full or similar: the core retries */
}

static dray_status file_process(void *state, const dray_msg *msg) {
  struct file_plugin *fp = state;
  const struct dray_host *h = fp->host;
  if (!fp->outbound) {
    h->set_error(fp->inst, "no outbound_dir: this instance is not a sink");
    return DRAY_FATAL;
  }
  const char *id = h->msg_header(msg, "id");
  for (const char *c = id; c && *c; c++)
    if (*c == '/' || (*c == '.' && c == id)) {
      h->set_error(fp->inst, "message id \"%s\" cannot name a file", id);
      return DRAY_REJECT;
    }
  char name[NAME_MAX + 1];
  snprintf(name, sizeof name, "%s.json", id ? id : "unknown");
  dray_buf *buf = h->buf_new();
  if (!buf || h->msg_serialize(msg, buf) != 0 || h->buf_append(buf, "\n", 1) != 0) {
    h->buf_free(&buf);
    h->set_error(fp->inst, "out of memory serializing message %s", id);
    return DRAY_RETRY;
  }
  size_t len;
  const char *data = h->buf_data(buf, &len);
  dray_status st = write_durably(fp, name, data, len);
  h->buf_free(&buf);
  if (st == DRAY_OK) h->counter_add(fp->inst, "files_written", 1);
  return st;
}

static const struct dray_plugin file_plugin_desc = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
    .name = "file",
    .version = "1.0.0",
    .description = "Directory source (atomic pick-up, done/failed) and directory sink (fsync + rename)",
    .kinds = DRAY_KIND_SOURCE | DRAY_KIND_DESTINATION,
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = file_create,
    .destroy = file_destroy,
    .poll = file_poll,
    .process = file_process,
};

DRAY_PLUGIN_DEFINE(file_plugin_desc)
