/* idoc_parser_export.c - loads SAP's "parser" documentation export of an
 * IDoc type (transaction WE60 / report RSEIDOC3, text format), so a user
 * adds any IDoc type, customer extensions (CIMTYP) included, by dropping
 * the file into definitions_dir. The structure we read:
 *
 *   BEGIN_RECORD_SECTION ... END_RECORD_SECTION      (control/data/status
 *                                                      records: skipped)
 *   BEGIN_IDOC <basic type> [<extension>]
 *   [EXTENSION <extension>]
 *   BEGIN_SEGMENT_SECTION
 *   BEGIN_SEGMENT <definition name>  SEGMENTTYPE, LEVEL, STATUS, LOOPMIN,
 *                                    LOOPMAX, BEGIN_FIELDS ... END_FIELDS
 *   END_SEGMENT
 *   BEGIN_GROUP <n>  LEVEL, STATUS, LOOPMIN, LOOPMAX, then segments and
 *   END_GROUP        groups; the group's first segment is the parent of
 *                    the rest and occurs as often as the group loops
 *   END_SEGMENT_SECTION, END_IDOC
 *
 * Field blocks start with NAME and carry TEXT, TYPE, LENGTH, FIELD_POS,
 * CHARACTER_FIRST/CHARACTER_LAST (older releases: BYTE_FIRST/BYTE_LAST).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc.h"

struct group {
  int head;    /* segment index of the group's first segment, -1 yet */
  int parent;  /* head of the enclosing group, -1 top level */
  int mandatory;
  uint64_t min, max;
  unsigned level;
};

struct pending {
  int active;
  struct idoc_segdef seg;
  struct idoc_fielddef *fields;
  size_t nfields, cap;
  int in_fields;
  struct idoc_fielddef field; /* the field block being read */
  int have_field;
  unsigned field_last;
};

static int flush_field(struct pending *p) {
  if (!p->have_field) return 0;
  if (!p->field.length && p->field_last >= p->field.first)
    p->field.length = (uint16_t)(p->field_last - p->field.first + 1);
  if (p->nfields == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    struct idoc_fielddef *n = realloc(p->fields, cap * sizeof *n);
    if (!n) return -1;
    p->fields = n;
    p->cap = cap;
  }
  p->fields[p->nfields++] = p->field;
  memset(&p->field, 0, sizeof p->field);
  p->have_field = 0;
  p->field_last = 0;
  return 0;
}

static unsigned long long num(const char *s) {
  return s ? strtoull(s, NULL, 10) : 0;
}

int idoc_registry_load_parser_export(idoc_registry *self, const char *text,
                                    size_t len, const char *origin,
                                    struct idoc_err *err) {
  struct idoc_type *t = NULL;
  struct group groups[IDOC_MAX_DEPTH];
  int ngroups = 0, in_records = 0, rc = -1, in_idoc = 0;
  /* properties read after BEGIN_GROUP, before the group's first segment */
  int group_open = 0;
  char basic[IDOC_NAME_MAX + 1] = "", ext[IDOC_NAME_MAX + 1] = "";
  struct pending p;
  memset(&p, 0, sizeof p);
  unsigned lineno = 0;
  size_t pos = 0;
  char line[1024];
  while (pos < len) {
    size_t start = pos;
    while (pos < len && text[pos] != '\n') pos++;
    size_t l = pos - start;
    if (pos < len) pos++;
    lineno++;
    if (l >= sizeof line) l = sizeof line - 1; /* TEXT lines: cut */
    memcpy(line, text + start, l);
    line[l] = 0;
    while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' ||
                 line[l - 1] == '\t'))
      line[--l] = 0;
    char *key = line;
    while (*key == ' ' || *key == '\t') key++;
    if (!*key) continue;
    char *arg = key;
    while (*arg && *arg != ' ' && *arg != '\t') arg++;
    if (*arg) {
      *arg++ = 0;
      while (*arg == ' ' || *arg == '\t') arg++;
    }
    if (!strcmp(key, "BEGIN_RECORD_SECTION")) {
      in_records = 1;
      continue;
    }
    if (!strcmp(key, "END_RECORD_SECTION")) {
      in_records = 0;
      continue;
    }
    if (in_records) continue;
    if (!strcmp(key, "BEGIN_IDOC")) {
      char a[64] = "", b[64] = "";
      if (sscanf(arg, "%63s %63s", a, b) < 1 || strlen(a) > IDOC_NAME_MAX ||
          strlen(b) > IDOC_NAME_MAX) {
        idoc_err_set(err, "%s:%u: BEGIN_IDOC needs an IDoc type name", origin,
                     lineno);
        goto out;
      }
      snprintf(basic, sizeof basic, "%s", a);
      snprintf(ext, sizeof ext, "%s", b);
      in_idoc = 1;
      continue;
    }
    if (!in_idoc) continue; /* preamble */
    if ((!strcmp(key, "EXTENSION") || !strcmp(key, "CIMTYP")) && !t) {
      snprintf(ext, sizeof ext, "%.*s", IDOC_NAME_MAX, arg);
      continue;
    }
    if (!strcmp(key, "BEGIN_SEGMENT_SECTION")) {
      t = idoc_type_new(ext[0] ? ext : basic, basic);
      if (!t) goto oom;
      continue;
    }
    if (!t) continue;
    if (!strcmp(key, "BEGIN_GROUP")) {
      if (ngroups == IDOC_MAX_DEPTH) {
        idoc_err_set(err, "%s:%u: groups nested deeper than %d", origin,
                     lineno, IDOC_MAX_DEPTH);
        goto out;
      }
      struct group *g = &groups[ngroups];
      g->head = -1;
      g->parent = ngroups ? groups[ngroups - 1].head : -1;
      if (ngroups && g->parent < 0) {
        idoc_err_set(err, "%s:%u: group inside a group with no segment yet",
                     origin, lineno);
        goto out;
      }
      g->mandatory = 0;
      g->min = 1;
      g->max = 1;
      g->level = 0;
      ngroups++;
      group_open = 1;
      continue;
    }
    if (!strcmp(key, "END_GROUP")) {
      if (!ngroups || groups[ngroups - 1].head < 0) {
        idoc_err_set(err, "%s:%u: END_GROUP without an open group holding a "
                     "segment", origin, lineno);
        goto out;
      }
      ngroups--;
      group_open = 0;
      continue;
    }
    if (!strcmp(key, "BEGIN_SEGMENT")) {
      if (p.active) {
        idoc_err_set(err, "%s:%u: BEGIN_SEGMENT inside a segment", origin,
                     lineno);
        goto out;
      }
      memset(&p.seg, 0, sizeof p.seg);
      p.nfields = 0;
      p.active = 1;
      p.seg.min = 1;
      p.seg.max = 1;
      snprintf(p.seg.defname, sizeof p.seg.defname, "%.*s", IDOC_NAME_MAX,
               arg);
      group_open = 0;
      continue;
    }
    if (!strcmp(key, "LEVEL") || !strcmp(key, "STATUS") ||
        !strcmp(key, "LOOPMIN") || !strcmp(key, "LOOPMAX")) {
      if (p.active && !p.in_fields) {
        if (key[0] == 'L' && key[1] == 'E') p.seg.level = (uint8_t)num(arg);
        else if (key[0] == 'S') p.seg.mandatory = !strcmp(arg, "MANDATORY");
        else if (!strcmp(key, "LOOPMIN")) p.seg.min = num(arg);
        else p.seg.max = num(arg);
      } else if (group_open && ngroups) {
        struct group *g = &groups[ngroups - 1];
        if (key[0] == 'L' && key[1] == 'E') g->level = (unsigned)num(arg);
        else if (key[0] == 'S') g->mandatory = !strcmp(arg, "MANDATORY");
        else if (!strcmp(key, "LOOPMIN")) g->min = num(arg);
        else g->max = num(arg);
      }
      continue;
    }
    if (!p.active) continue; /* END_SEGMENT_SECTION, END_IDOC, TEXT... */
    if (!strcmp(key, "SEGMENTTYPE")) {
      snprintf(p.seg.type, sizeof p.seg.type, "%.*s", IDOC_NAME_MAX, arg);
    } else if (!strcmp(key, "BEGIN_FIELDS")) {
      p.in_fields = 1;
    } else if (!strcmp(key, "END_FIELDS")) {
      if (flush_field(&p) < 0) goto oom;
      p.in_fields = 0;
    } else if (p.in_fields && !strcmp(key, "NAME")) {
      if (flush_field(&p) < 0) goto oom;
      snprintf(p.field.name, sizeof p.field.name, "%.*s", IDOC_NAME_MAX, arg);
      p.have_field = 1;
    } else if (p.in_fields && p.have_field && !strcmp(key, "TYPE")) {
      int ft = idoc_ftype_parse(arg);
      p.field.type = (uint8_t)(ft < 0 ? IDOC_F_CHAR : ft);
    } else if (p.in_fields && p.have_field && !strcmp(key, "LENGTH")) {
      unsigned long long v = num(arg);
      p.field.length = (uint16_t)(v > IDOC_SDATA_LEN ? IDOC_SDATA_LEN + 1 : v);
    } else if (p.in_fields && p.have_field &&
               (!strcmp(key, "CHARACTER_FIRST") ||
                !strcmp(key, "BYTE_FIRST"))) {
      unsigned long long v = num(arg);
      p.field.first = (uint16_t)(v > 9999 ? 9999 : v);
    } else if (p.in_fields && p.have_field &&
               (!strcmp(key, "CHARACTER_LAST") || !strcmp(key, "BYTE_LAST"))) {
      unsigned long long v = num(arg);
      p.field_last = (unsigned)(v > 9999 ? 9999 : v);
    } else if (!strcmp(key, "END_SEGMENT")) {
      if (flush_field(&p) < 0) goto oom;
      p.in_fields = 0;
      if (!p.seg.type[0]) {
        /* no SEGMENTTYPE line: derive it from the definition name */
        idoc_normalize_segname(NULL, p.seg.defname, strlen(p.seg.defname),
                               p.seg.type);
      }
      p.seg.parent = ngroups ? groups[ngroups - 1].head : -1;
      int is_head = ngroups && groups[ngroups - 1].head < 0;
      if (is_head) {
        struct group *g = &groups[ngroups - 1];
        p.seg.parent = g->parent;
        p.seg.mandatory = (uint8_t)g->mandatory;
        p.seg.min = g->min;
        p.seg.max = g->max;
      }
      if (p.seg.max < p.seg.min) p.seg.max = p.seg.min;
      int idx = idoc_type_add_seg(t, &p.seg);
      if (idx < 0) goto oom;
      for (size_t i = 0; i < p.nfields; i++)
        if (idoc_seg_add_field(&t->segs[idx], &p.fields[i]) < 0) goto oom;
      if (is_head) groups[ngroups - 1].head = idx;
      p.active = 0;
    }
  }
  if (!t || t->nsegs == 0) {
    idoc_err_set(err, "%s: no BEGIN_IDOC / BEGIN_SEGMENT found: not a WE60 "
                 "parser export", origin);
    goto out;
  }
  if (p.active || ngroups) {
    idoc_err_set(err, "%s:%u: file ends inside a %s", origin, lineno,
                 p.active ? "segment" : "group");
    goto out;
  }
  if (idoc_type_finish(t, err) < 0) goto out;
  if (idoc_registry_add(self, &t) < 0) goto oom;
  rc = 0;
  goto out;
oom:
  idoc_err_set(err, "%s: out of memory", origin);
out:
  free(p.fields);
  idoc_type_destroy(&t);
  return rc;
}
