/* idoc_defs.c - IDoc type definitions: the registry, segment lookup, name
 * normalization, and the loader for the project's own definition format
 * (*.idef, see defs/README.md):
 *
 *   IDOC <name> [<basic type>]
 *   SEG <type> <definition name> <parent type|-> <level> <M|O> <min> <max>
 *   F <field> <first column> <length> [CHAR|NUMC|DATS|TIMS] [M]
 *
 * '#' starts a comment line. Segments come in definition order and a
 * parent is named by its segment type (the closest SEG line above with that
 * type). For a group's first segment, min/max are the group's loop counts.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idoc.h"

struct idoc_registry {
  struct idoc_type **types;
  size_t ntypes, cap;
};

void idoc_err_set(struct idoc_err *err, const char *fmt, ...) {
  if (!err) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
}

idoc_registry *idoc_registry_new(void) {
  return calloc(1, sizeof(idoc_registry));
}

void idoc_registry_destroy(idoc_registry **self_p) {
  if (!self_p || !*self_p) return;
  idoc_registry *self = *self_p;
  for (size_t i = 0; i < self->ntypes; i++) idoc_type_destroy(&self->types[i]);
  free(self->types);
  free(self);
  *self_p = NULL;
}

struct idoc_type *idoc_type_new(const char *name, const char *basic) {
  struct idoc_type *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  snprintf(t->name, sizeof t->name, "%s", name);
  snprintf(t->basic, sizeof t->basic, "%s", basic ? basic : name);
  return t;
}

void idoc_type_destroy(struct idoc_type **self_p) {
  if (!self_p || !*self_p) return;
  struct idoc_type *t = *self_p;
  for (size_t i = 0; i < t->nsegs; i++) {
    free(t->segs[i].fields);
    free(t->segs[i].ftab);
  }
  free(t->segs);
  free(t->hash);
  free(t);
  *self_p = NULL;
}

int idoc_type_add_seg(struct idoc_type *t, const struct idoc_segdef *seg) {
  /* grow by one: definitions are small and loaded once */
  struct idoc_segdef *n = realloc(t->segs, (t->nsegs + 1) * sizeof *n);
  if (!n) return -1;
  t->segs = n;
  n[t->nsegs] = *seg;
  n[t->nsegs].fields = NULL;
  n[t->nsegs].nfields = 0;
  n[t->nsegs].ftab = NULL;
  n[t->nsegs].ftab_mask = 0;
  n[t->nsegs].index = (int)t->nsegs;
  return (int)t->nsegs++;
}

int idoc_seg_add_field(struct idoc_segdef *seg, const struct idoc_fielddef *f) {
  struct idoc_fielddef *n =
      realloc(seg->fields, (seg->nfields + 1) * sizeof *n);
  if (!n) return -1;
  seg->fields = n;
  n[seg->nfields++] = *f;
  return 0;
}

uint32_t idoc_name_hash(const char *s, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static void hash_insert(struct idoc_type *t, const char *key, int index) {
  size_t len = strlen(key);
  if (!len) return;
  size_t mask = t->hash_size - 1;
  for (size_t i = idoc_name_hash(key, len) & mask;; i = (i + 1) & mask) {
    int cur = t->hash[i];
    if (cur < 0) {
      t->hash[i] = index;
      return;
    }
    /* first definition of a type wins (a type nested twice keeps its
     * first place; the tree builder looks at parents for the others) */
    if (strcmp(t->segs[cur].type, key) == 0 ||
        strcmp(t->segs[cur].defname, key) == 0)
      return;
  }
}

int idoc_type_finish(struct idoc_type *t, struct idoc_err *err) {
  free(t->hash);
  t->hash_size = 16;
  while (t->hash_size < t->nsegs * 4) t->hash_size <<= 1;
  t->hash = malloc(t->hash_size * sizeof(int));
  if (!t->hash) {
    idoc_err_set(err, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < t->hash_size; i++) t->hash[i] = -1;
  for (size_t i = 0; i < t->nsegs; i++) {
    struct idoc_segdef *s = &t->segs[i];
    unsigned last = IDOC_SDATA_FIRST;
    for (size_t k = 0; k < s->nfields; k++) {
      struct idoc_fielddef *f = &s->fields[k];
      if (f->length == 0 || f->first < IDOC_SDATA_FIRST ||
          (unsigned)f->first + f->length - 1 > IDOC_DD40_LEN) {
        idoc_err_set(err,
                     "IDoc type %s segment %s field %s: columns %u..%u are "
                     "outside SDATA (64..1063)",
                     t->name, s->type, f->name, f->first,
                     f->first + f->length - 1);
        return -1;
      }
      if (f->first < last) {
        idoc_err_set(err,
                     "IDoc type %s segment %s field %s: starts at column %u, "
                     "overlapping the previous field (ends at %u)",
                     t->name, s->type, f->name, f->first, last - 1);
        return -1;
      }
      last = f->first + f->length;
    }
    hash_insert(t, s->type, (int)i);
    /* field lookup table: a power of two at least 4x the fields */
    free(s->ftab);
    uint32_t size = 16;
    while (size < s->nfields * 4) size <<= 1;
    s->ftab = malloc(size * sizeof *s->ftab);
    if (!s->ftab) {
      idoc_err_set(err, "out of memory");
      return -1;
    }
    s->ftab_mask = size - 1;
    s->nmandatory = 0;
    for (size_t k = 0; k < s->nfields; k++)
      s->fields[k].namelen = (uint8_t)strlen(s->fields[k].name);
    for (size_t k = 0; k < s->nfields; k++) s->nmandatory += s->fields[k].mandatory;
    for (uint32_t k = 0; k < size; k++) s->ftab[k] = 0xFFFF;
    for (size_t k = 0; k < s->nfields && k < 0xFFFF; k++) {
      const char *fn = s->fields[k].name;
      uint32_t h = idoc_name_hash(fn, strlen(fn)) & s->ftab_mask;
      while (s->ftab[h] != 0xFFFF) {
        if (!strcmp(s->fields[s->ftab[h]].name, fn)) break; /* duplicate */
        h = (h + 1) & s->ftab_mask;
      }
      if (s->ftab[h] == 0xFFFF) s->ftab[h] = (uint16_t)k;
    }
  }
  for (size_t i = 0; i < t->nsegs; i++) hash_insert(t, t->segs[i].defname, (int)i);
  /* child lists, in definition order */
  t->first_topdef = -1;
  for (size_t i = 0; i < t->nsegs; i++)
    t->segs[i].first_childdef = t->segs[i].next_siblingdef = -1;
  for (size_t i = t->nsegs; i-- > 0;) {
    struct idoc_segdef *s = &t->segs[i];
    if (s->parent >= (int)i) {
      idoc_err_set(err, "IDoc type %s segment %s: parent defined after it",
                   t->name, s->type);
      return -1;
    }
    int *head = s->parent >= 0 ? &t->segs[s->parent].first_childdef
                               : &t->first_topdef;
    s->next_siblingdef = *head;
    *head = (int)i;
  }
  return 0;
}

const struct idoc_segdef *idoc_type_seg(const struct idoc_type *t,
                                        const char *name, size_t len) {
  return idoc_type_seg_h(t, name, len, idoc_name_hash(name, len));
}

const struct idoc_segdef *idoc_type_seg_h(const struct idoc_type *t,
                                          const char *name, size_t len,
                                          uint32_t h) {
  if (!t || !t->hash || !len) return NULL;
  size_t mask = t->hash_size - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    int cur = t->hash[i];
    if (cur < 0) return NULL;
    const struct idoc_segdef *s = &t->segs[cur];
    if ((strlen(s->type) == len && memcmp(s->type, name, len) == 0) ||
        (strlen(s->defname) == len && memcmp(s->defname, name, len) == 0))
      return s;
  }
}

int idoc_seg_field(const struct idoc_segdef *seg, const char *name,
                   size_t len) {
  return idoc_seg_field_h(seg, name, len, idoc_name_hash(name, len));
}

int idoc_seg_field_h(const struct idoc_segdef *seg, const char *name,
                     size_t len, uint32_t h) {
  if (seg->ftab) {
    for (uint32_t i = h & seg->ftab_mask;; i = (i + 1) & seg->ftab_mask) {
      uint16_t k = seg->ftab[i];
      if (k == 0xFFFF) return -1;
      const struct idoc_fielddef *fd = &seg->fields[k];
      if (fd->namelen == len && fd->name[0] == name[0] &&
          !memcmp(fd->name, name, len))
        return k;
    }
  }
  for (size_t i = 0; i < seg->nfields; i++)
    if (strlen(seg->fields[i].name) == len &&
        memcmp(seg->fields[i].name, name, len) == 0)
      return (int)i;
  return -1;
}

const struct idoc_segdef *idoc_normalize_segname(const struct idoc_type *t,
                                                 const char *name, size_t len,
                                                 char *out) {
  while (len && name[len - 1] == ' ') len--;
  if (len > IDOC_NAME_MAX) len = IDOC_NAME_MAX;
  const struct idoc_segdef *d = idoc_type_seg(t, name, len);
  if (d) {
    memcpy(out, d->type, strlen(d->type) + 1);
    return d;
  }
  /* namespaced names: /ABC/E2XYZ001 -> prefix kept, base normalized */
  size_t base = 0;
  if (len && name[0] == '/') {
    const char *slash = memchr(name + 1, '/', len - 1);
    if (slash) base = (size_t)(slash - name) + 1;
  }
  char buf[IDOC_NAME_MAX + 1];
  memcpy(buf, name, len);
  buf[len] = 0;
  if (len - base >= 2 && buf[base] == 'E' && buf[base + 1] == '2')
    buf[base + 1] = '1';
  d = idoc_type_seg(t, buf, len);
  if (d) {
    memcpy(out, d->type, strlen(d->type) + 1);
    return d;
  }
  int was_e2 = len - base >= 2 && name[base] == 'E' && name[base + 1] == '2';
  if (len - base > 3 && isdigit((unsigned char)buf[len - 1]) &&
      isdigit((unsigned char)buf[len - 2]) &&
      isdigit((unsigned char)buf[len - 3])) {
    d = idoc_type_seg(t, buf, len - 3);
    if (d) {
      memcpy(out, d->type, strlen(d->type) + 1);
      return d;
    }
    /* without definitions: a definition name is E2 + type + 3 digits */
    if (!t && was_e2 && len - base >= 10) len -= 3;
  }
  memcpy(out, buf, len);
  out[len] = 0;
  return NULL;
}

const struct idoc_type *idoc_registry_find(const idoc_registry *self,
                                           const char *name) {
  if (!self || !name) return NULL;
  for (size_t i = self->ntypes; i-- > 0;)
    if (strcmp(self->types[i]->name, name) == 0) return self->types[i];
  return NULL;
}

size_t idoc_registry_count(const idoc_registry *self) {
  return self ? self->ntypes : 0;
}

int idoc_registry_add(idoc_registry *self, struct idoc_type **type_p) {
  struct idoc_type *t = *type_p;
  for (size_t i = 0; i < self->ntypes; i++)
    if (strcmp(self->types[i]->name, t->name) == 0) {
      idoc_type_destroy(&self->types[i]);
      self->types[i] = t;
      *type_p = NULL;
      return 0;
    }
  if (self->ntypes == self->cap) {
    size_t cap = self->cap ? self->cap * 2 : 8;
    struct idoc_type **n = realloc(self->types, cap * sizeof *n);
    if (!n) return -1;
    self->types = n;
    self->cap = cap;
  }
  self->types[self->ntypes++] = t;
  *type_p = NULL;
  return 0;
}

/* --- the .idef loader ------------------------------------------------ */

/* Splits a line into at most `max` whitespace-separated words in place. */
static int split_words(char *line, char **w, int max) {
  int n = 0;
  char *p = line;
  while (*p && n < max) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    w[n++] = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (*p) *p++ = 0;
  }
  return n;
}

static int parse_u64(const char *s, uint64_t *out) {
  if (!*s) return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || *s == '-') return -1;
  *out = v;
  return 0;
}

int idoc_ftype_parse(const char *s) {
  if (!strcmp(s, "CHAR") || !strcmp(s, "CHARACTER")) return IDOC_F_CHAR;
  if (!strcmp(s, "NUMC") || !strcmp(s, "NUMERIC")) return IDOC_F_NUMC;
  if (!strcmp(s, "DATS") || !strcmp(s, "DATE")) return IDOC_F_DATS;
  if (!strcmp(s, "TIMS") || !strcmp(s, "TIME")) return IDOC_F_TIMS;
  return -1;
}

int idoc_registry_load_idef(idoc_registry *self, const char *text,
                            size_t len, const char *origin,
                            struct idoc_err *err) {
  struct idoc_type *t = NULL;
  int cur = -1, rc = -1;
  unsigned lineno = 0;
  char line[512];
  size_t pos = 0;
  while (pos < len) {
    size_t start = pos;
    while (pos < len && text[pos] != '\n') pos++;
    size_t l = pos - start;
    if (pos < len) pos++;
    lineno++;
    if (l && text[start + l - 1] == '\r') l--;
    if (l >= sizeof line) {
      idoc_err_set(err, "%s:%u: line longer than %zu characters", origin,
                   lineno, sizeof line - 1);
      goto out;
    }
    memcpy(line, text + start, l);
    line[l] = 0;
    char *w[10];
    int n = split_words(line, w, 10);
    if (n == 0 || w[0][0] == '#') continue;
    if (!strcmp(w[0], "IDOC")) {
      if (t) {
        if (idoc_type_finish(t, err) < 0 || idoc_registry_add(self, &t) < 0)
          goto out;
      }
      if (n < 2 || strlen(w[1]) > IDOC_NAME_MAX) {
        idoc_err_set(err, "%s:%u: IDOC needs a type name (<= 30 chars)",
                     origin, lineno);
        goto out;
      }
      t = idoc_type_new(w[1], n > 2 ? w[2] : w[1]);
      if (!t) goto oom;
      cur = -1;
    } else if (!strcmp(w[0], "SEG")) {
      struct idoc_segdef s;
      memset(&s, 0, sizeof s);
      uint64_t level;
      if (!t) {
        idoc_err_set(err, "%s:%u: SEG before IDOC", origin, lineno);
        goto out;
      }
      if (n != 8 || strlen(w[1]) > IDOC_NAME_MAX ||
          strlen(w[2]) > IDOC_NAME_MAX || parse_u64(w[4], &level) < 0 ||
          level > 99 || (strcmp(w[5], "M") && strcmp(w[5], "O")) ||
          parse_u64(w[6], &s.min) < 0 || parse_u64(w[7], &s.max) < 0 ||
          s.max < s.min) {
        idoc_err_set(err,
                     "%s:%u: expected SEG <type> <defname> <parent|-> "
                     "<level> <M|O> <min> <max>",
                     origin, lineno);
        goto out;
      }
      snprintf(s.type, sizeof s.type, "%s", w[1]);
      snprintf(s.defname, sizeof s.defname, "%s", w[2]);
      s.level = (uint8_t)level;
      s.mandatory = w[5][0] == 'M';
      s.parent = -1;
      if (strcmp(w[3], "-")) {
        for (size_t i = t->nsegs; i-- > 0;)
          if (!strcmp(t->segs[i].type, w[3])) {
            s.parent = (int)i;
            break;
          }
        if (s.parent < 0) {
          idoc_err_set(err, "%s:%u: parent segment %s is not defined above",
                       origin, lineno, w[3]);
          goto out;
        }
      }
      cur = idoc_type_add_seg(t, &s);
      if (cur < 0) goto oom;
    } else if (!strcmp(w[0], "F")) {
      struct idoc_fielddef f;
      memset(&f, 0, sizeof f);
      uint64_t first, length;
      if (cur < 0) {
        idoc_err_set(err, "%s:%u: field before any SEG", origin, lineno);
        goto out;
      }
      if (n < 4 || n > 6 || strlen(w[1]) > IDOC_NAME_MAX ||
          parse_u64(w[2], &first) < 0 || parse_u64(w[3], &length) < 0 ||
          first > IDOC_DD40_LEN || length > IDOC_SDATA_LEN) {
        idoc_err_set(err,
                     "%s:%u: expected F <name> <first column> <length> "
                     "[CHAR|NUMC|DATS|TIMS] [M]",
                     origin, lineno);
        goto out;
      }
      snprintf(f.name, sizeof f.name, "%s", w[1]);
      f.first = (uint16_t)first;
      f.length = (uint16_t)length;
      for (int k = 4; k < n; k++) {
        int ft = idoc_ftype_parse(w[k]);
        if (ft >= 0)
          f.type = (uint8_t)ft;
        else if (!strcmp(w[k], "M"))
          f.mandatory = 1;
        else {
          idoc_err_set(err, "%s:%u: unknown field attribute '%s'", origin,
                       lineno, w[k]);
          goto out;
        }
      }
      if (idoc_seg_add_field(&t->segs[cur], &f) < 0) goto oom;
    } else {
      idoc_err_set(err, "%s:%u: unknown keyword '%s' (IDOC, SEG, F)", origin,
                   lineno, w[0]);
      goto out;
    }
  }
  if (!t) {
    idoc_err_set(err, "%s: no IDOC line", origin);
    goto out;
  }
  if (idoc_type_finish(t, err) < 0) goto out;
  if (idoc_registry_add(self, &t) < 0) goto oom;
  rc = 0;
  goto out;
oom:
  idoc_err_set(err, "%s: out of memory", origin);
out:
  idoc_type_destroy(&t);
  return rc;
}

static int read_file(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  struct stat st;
  if (fstat(fileno(f), &st) < 0 || st.st_size > (1 << 26)) {
    fclose(f);
    return -1;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    fclose(f);
    return -1;
  }
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  fclose(f);
  buf[n] = 0;
  *data = buf;
  *len = n;
  return 0;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int idoc_registry_load_dir(idoc_registry *self, const char *dir,
                           struct idoc_err *err) {
  DIR *d = opendir(dir);
  if (!d) {
    idoc_err_set(err, "%s: cannot open definitions directory: %s", dir,
                 strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if ((l > 5 && !strcmp(e->d_name + l - 5, ".idef")) ||
        (l > 4 && !strcmp(e->d_name + l - 4, ".txt"))) {
      char **nn = realloc(names, (n + 1) * sizeof *nn);
      if (!nn || !(nn[n] = strdup(e->d_name))) {
        names = nn ? nn : names;
        rc = -1;
        idoc_err_set(err, "out of memory");
        break;
      }
      names = nn;
      n++;
    }
  }
  closedir(d);
  /* a stable order: later files (by name) override earlier ones */
  if (n) qsort(names, n, sizeof *names, name_cmp);
  for (size_t i = 0; i < n && rc == 0; i++) {
    char path[4096];
    char *data;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (read_file(path, &data, &len) < 0) {
      idoc_err_set(err, "%s: cannot read: %s", path, strerror(errno));
      rc = -1;
      break;
    }
    size_t l = strlen(names[i]);
    if (!strcmp(names[i] + l - 5, ".idef"))
      rc = idoc_registry_load_idef(self, data, len, path, err);
    else
      rc = idoc_registry_load_parser_export(self, data, len, path, err);
    free(data);
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rc;
}
