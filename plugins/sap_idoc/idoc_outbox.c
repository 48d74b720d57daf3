/* idoc_outbox.c - batching and rate limiting toward SAP.
 *
 * With batch_max > 1 (or a batch_interval_ms) process() does not talk to
 * SAP: it writes the IDoc into a spool folder in the instance's data
 * directory (temp file, fsync, rename) and returns OK once it is durable.
 * A thread sends the spool in batches: batch_max IDocs of one type in one
 * IDoc-XML document (one POST or one file), or fewer once the oldest has
 * waited batch_interval_ms, never more often than rate_limit_per_s. A batch
 * SAP refuses (4xx) moves to outbox/failed/ beside a .error file; a batch
 * that fails for a transient reason stays and is tried again with backoff.
 * File names: <sequence>_<IDoc type>.<xml|idoc>, so the order survives a
 * restart.
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

struct sap_outbox {
  struct sap_idoc *s;
  char dir[PATH_MAX], failed[PATH_MAX];
  pthread_t thread;
  int running;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int stop;
  uint64_t seq;
  int64_t backoff_until, backoff_ms;
};

static int64_t now_ms(struct sap_idoc *s) {
  return s->host->monotonic_ns() / 1000000;
}

struct sap_outbox *sap_outbox_new(struct sap_idoc *s) {
  const char *dd = s->host->data_dir(s->inst);
  if (!dd) {
    s->host->set_error(s->inst, "batching (batch_max > 1 or batch_interval_ms) "
                       "needs the instance's data directory");
    return NULL;
  }
  struct sap_outbox *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->s = s;
  snprintf(o->dir, sizeof o->dir, "%s/outbox", dd);
  snprintf(o->failed, sizeof o->failed, "%s/outbox/failed", dd);
  if ((mkdir(o->dir, 0750) != 0 && errno != EEXIST) ||
      (mkdir(o->failed, 0750) != 0 && errno != EEXIST)) {
    s->host->set_error(s->inst, "%s: %s", o->dir, strerror(errno));
    free(o);
    return NULL;
  }
  pthread_mutex_init(&o->lock, NULL);
  pthread_cond_init(&o->wake, NULL);
  /* continue the sequence after files left by a previous run */
  DIR *d = opendir(o->dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    unsigned long long v = strtoull(e->d_name, NULL, 10);
    if (v >= o->seq) o->seq = v + 1;
  }
  if (d) closedir(d);
  return o;
}

static int write_durable(const char *dir, const char *name, const char *data,
                         size_t len) {
  char tmp[PATH_MAX + 300], fin[PATH_MAX + 300];
  snprintf(tmp, sizeof tmp, "%s/.tmp-%s", dir, name);
  snprintf(fin, sizeof fin, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      unlink(tmp);
      return -1;
    }
    off += (size_t)n;
  }
  int rc = fsync(fd);
  close(fd);
  if (rc != 0 || rename(tmp, fin) != 0) {
    unlink(tmp);
    return -1;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

dray_status sap_outbox_put(struct sap_outbox *o, const idoc_set *set,
                           const char *stem) {
  struct sap_idoc *s = o->s;
  int xml = s->port_http || s->format_xml;
  char *data;
  size_t len;
  (void)stem;
  if (sap_idoc_serialize(s, set, xml, &data, &len) < 0) return DRAY_REJECT;
  char name[128];
  pthread_mutex_lock(&o->lock);
  snprintf(name, sizeof name, "%016llu_%s.%s", (unsigned long long)o->seq++,
           idoc_doc_dc(set, 0, DC_IDOCTYP), xml ? "xml" : "idoc");
  int rc = write_durable(o->dir, name, data, len);
  pthread_cond_signal(&o->wake);
  pthread_mutex_unlock(&o->lock);
  free(data);
  if (rc != 0) {
    s->host->set_error(s->inst, "outbox %s: %s", o->dir, strerror(errno));
    s->host->set_retry_after(s->inst, 1000);
    return DRAY_RETRY;
  }
  return DRAY_OK;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *type_of(const char *name) {
  const char *u = strchr(name, '_');
  return u ? u + 1 : "";
}

/* Appends the <IDOC>...</IDOC> elements of one spooled XML document. */
static int append_idocs(struct idoc_buf *b, const char *doc) {
  const char *a = strstr(doc, "<IDOC ");
  const char *z = NULL;
  for (const char *p = doc; (p = strstr(p, "</IDOC>")); p += 7) z = p;
  if (!a || !z) return -1;
  return idoc_buf_put(b, a, (size_t)(z + 7 - a)) < 0 || idoc_buf_put(b, "\n", 1) < 0
             ? -1 : 0;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  if (p) {
    p[n] = 0;
    *len = (size_t)n;
  }
  return p;
}

int sap_outbox_flush(struct sap_outbox *o, int force) {
  struct sap_idoc *s = o->s;
  if (!force && now_ms(s) < o->backoff_until) return 0;
  DIR *d = opendir(o->dir);
  if (!d) return -1;
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !strchr(e->d_name, '_')) continue;
    char **nn = realloc(names, (n + 1) * sizeof *nn);
    if (!nn) break;
    names = nn;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  int sent = 0;
  if (n == 0) goto out;
  qsort(names, n, sizeof *names, name_cmp);
  /* a batch: the oldest file's IDoc type, up to batch_max of that type */
  const char *type = type_of(names[0]);
  size_t pick[10000], np = 0;
  for (size_t i = 0; i < n && np < (size_t)s->batch_max && np < 10000; i++)
    if (!strcmp(type_of(names[i]), type)) pick[np++] = i;
  struct stat st;
  char path[PATH_MAX + 300];
  snprintf(path, sizeof path, "%s/%s", o->dir, names[0]);
  int due = force || np >= (size_t)s->batch_max;
  if (!due && s->batch_interval_ms > 0 && stat(path, &st) == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t age = ((int64_t)ts.tv_sec - st.st_mtim.tv_sec) * 1000 +
                  (ts.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
    due = age >= s->batch_interval_ms;
  }
  if (!due) goto out;
  if (sap_idoc_rate_wait(s) > 0) goto out; /* try again on the next tick */
  int xml = strstr(names[0], ".xml") != NULL;
  char root[64];
  snprintf(root, sizeof root, "%.*s", (int)(strcspn(type, ".")), type);
  struct idoc_buf b = {0};
  if (xml) {
    idoc_buf_put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<", 40);
    idoc_buf_put(&b, root, strlen(root));
    idoc_buf_put(&b, ">\n", 2);
  }
  for (size_t k = 0; k < np; k++) {
    size_t len;
    snprintf(path, sizeof path, "%s/%s", o->dir, names[pick[k]]);
    char *doc = slurp(path, &len);
    if (!doc) continue;
    if (xml) append_idocs(&b, doc);
    else idoc_buf_put(&b, doc, len);
    free(doc);
  }
  if (xml) {
    idoc_buf_put(&b, "</", 2);
    idoc_buf_put(&b, root, strlen(root));
    idoc_buf_put(&b, ">\n", 2);
  }
  char stem[64];
  snprintf(stem, sizeof stem, "batch_%.16s_%s", names[pick[0]], root);
  dray_status r = s->port_http ? sap_http_post(s, b.p ? b.p : "", b.len)
                               : sap_file_write(s, b.p ? b.p : "", b.len, stem);
  free(b.p);
  if (r == DRAY_OK) {
    for (size_t k = 0; k < np; k++) {
      snprintf(path, sizeof path, "%s/%s", o->dir, names[pick[k]]);
      unlink(path);
    }
    sent = (int)np;
    o->backoff_ms = 0;
    s->host->counter_add(s->inst, "batches_sent", 1);
  } else if (r == DRAY_REJECT) {
    for (size_t k = 0; k < np; k++) {
      char to[PATH_MAX + 300], ep[PATH_MAX + 310];
      snprintf(path, sizeof path, "%s/%s", o->dir, names[pick[k]]);
      snprintf(to, sizeof to, "%s/%s", o->failed, names[pick[k]]);
      rename(path, to);
      snprintf(ep, sizeof ep, "%s.error", to);
      FILE *f = fopen(ep, "w");
      if (f) {
        fprintf(f, "SAP refused the batch of %zu %s IDocs\n", np, root);
        fclose(f);
      }
    }
    s->host->log(s->inst, DRAY_LOG_ERROR, "batch of %zu %s IDocs refused by "
                 "SAP: moved to %s", np, root, o->failed);
    s->host->counter_add(s->inst, "batches_failed", 1);
  } else {
    o->backoff_ms = o->backoff_ms ? o->backoff_ms * 2 : 1000;
    if (o->backoff_ms > 60000) o->backoff_ms = 60000;
    o->backoff_until = now_ms(s) + o->backoff_ms;
    s->host->log(s->inst, DRAY_LOG_WARN, "batch of %zu %s IDocs not sent; "
                 "next try in %lld ms", np, root, (long long)o->backoff_ms);
  }
out:
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return sent;
}

static void *run(void *arg) {
  struct sap_outbox *o = arg;
  pthread_mutex_lock(&o->lock);
  while (!o->stop) {
    pthread_mutex_unlock(&o->lock);
    while (sap_outbox_flush(o, 0) > 0) {
    }
    pthread_mutex_lock(&o->lock);
    if (o->stop) break;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000;
    if (ts.tv_nsec >= 1000000000) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&o->wake, &o->lock, &ts);
  }
  pthread_mutex_unlock(&o->lock);
  return NULL;
}

int sap_outbox_start(struct sap_outbox *o) {
  o->stop = 0;
  if (pthread_create(&o->thread, NULL, run, o) != 0) {
    o->s->host->set_error(o->s->inst, "outbox: cannot start its thread");
    return -1;
  }
  o->running = 1;
  return 0;
}

void sap_outbox_stop(struct sap_outbox *o) {
  if (!o->running) return;
  pthread_mutex_lock(&o->lock);
  o->stop = 1;
  pthread_cond_signal(&o->wake);
  pthread_mutex_unlock(&o->lock);
  pthread_join(o->thread, NULL);
  o->running = 0;
}

void sap_outbox_destroy(struct sap_outbox **op) {
  if (!op || !*op) return;
  sap_outbox_stop(*op);
  pthread_mutex_destroy(&(*op)->lock);
  pthread_cond_destroy(&(*op)->wake);
  free(*op);
  *op = NULL;
}
