/* idoc_validate.c - checks decoded or built IDocs against their type
 * definitions: segments allowed where they stand and in definition order,
 * occurrence limits (max always, min for mandatory segments), mandatory
 * fields, field lengths in characters and NUMC/DATS/TIMS contents. The
 * first failure is reported naming DOCNUM, SEGNUM, segment and field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc.h"

static int digits_only(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

static int check_fields(const idoc_set *set, int si, const char *where,
                        struct idoc_err *err) {
  const struct idoc_segment *s = &set->segs[si];
  const struct idoc_segdef *def = s->def;
  for (int vi = s->first_value; vi >= 0; vi = set->values[vi].v.next) {
    const struct idoc_value *v = &set->values[vi];
    int f = idoc_seg_field(def, v->name, strlen(v->name));
    if (f < 0) {
      idoc_err_set(err, "%s field %s: not a field of segment %s", where,
                   v->name, def->type);
      return -1;
    }
    const struct idoc_fielddef *fd = &def->fields[f];
    size_t chars = idoc_utf8_chars(v->v.p, v->v.len);
    if (chars > fd->length) {
      idoc_err_set(err, "%s field %s: %zu characters, the field holds %u",
                   where, fd->name, chars, fd->length);
      return -1;
    }
    /* NUMC, dates and times hold digits only (leading blanks are a
     * common writer habit for empty dates; those are trimmed already) */
    if (fd->type != IDOC_F_CHAR && !digits_only(v->v.p, v->v.len)) {
      idoc_err_set(err, "%s field %s: '%s' is not numeric (%s)", where,
                   fd->name, v->v.p,
                   fd->type == IDOC_F_NUMC ? "NUMC"
                   : fd->type == IDOC_F_DATS ? "DATS" : "TIMS");
      return -1;
    }
  }
  for (size_t f = 0; def->nmandatory && f < def->nfields; f++)
    if (def->fields[f].mandatory) {
      const struct idoc_str *v = idoc_seg_get(set, si, def->fields[f].name);
      if (!v || !v->len) {
        idoc_err_set(err, "%s field %s: mandatory field is empty", where,
                     def->fields[f].name);
        return -1;
      }
    }
  return 0;
}

/* Checks the children of one parent (seg, or the IDoc's top level when
 * seg < 0) against the definition's child list. */
static int check_children(idoc_set *set, const struct idoc_type *t,
                          int doc, int seg, const char *origin,
                          const char *docnum, uint64_t *counts,
                          struct idoc_err *err) {
  int first = seg >= 0 ? set->segs[seg].first_child : set->docs[doc].first_top;
  int firstdef = seg >= 0 ? set->segs[seg].def->first_childdef : t->first_topdef;
  const char *pname = seg >= 0 ? set->segs[seg].type : "the IDoc's top level";
  for (int d = firstdef; d >= 0; d = t->segs[d].next_siblingdef) counts[d] = 0;
  int last_def = -1;
  for (int c = first; c >= 0; c = set->segs[c].next_sibling) {
    struct idoc_segment *cs = &set->segs[c];
    char where[200];
    snprintf(where, sizeof where, "%s:%u: IDoc %s SEGNUM %06u segment %s",
             origin, cs->line, docnum, cs->segnum, cs->type);
    if (!cs->def || cs->def->parent != (seg >= 0 ? set->segs[seg].def->index
                                                 : -1)) {
      /* XML or built input: find the definition under this parent */
      const struct idoc_segdef *found = NULL;
      for (int d = firstdef; d >= 0; d = t->segs[d].next_siblingdef)
        if (!strcmp(t->segs[d].type, cs->type)) found = &t->segs[d];
      if (!found) {
        idoc_err_set(err, "%s: segment not allowed under %s in IDoc type %s",
                     where, pname, t->name);
        return -1;
      }
      set->segs[c].def = found;
    }
    int di = cs->def->index;
    if (di < last_def) {
      idoc_err_set(err, "%s: out of order: must come before %s", where,
                   t->segs[last_def].type);
      return -1;
    }
    last_def = di;
    if (++counts[di] > cs->def->max) {
      idoc_err_set(err, "%s: occurs more than %llu times under %s", where,
                   (unsigned long long)cs->def->max, pname);
      return -1;
    }
    if (check_fields(set, c, where, err) < 0) return -1;
  }
  for (int d = firstdef; d >= 0; d = t->segs[d].next_siblingdef) {
    const struct idoc_segdef *sd = &t->segs[d];
    if (sd->mandatory && counts[d] < (sd->min ? sd->min : 1)) {
      if (seg >= 0)
        idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u segment %s: mandatory "
                     "segment %s missing (%llu of at least %llu)", origin,
                     set->segs[seg].line, docnum, set->segs[seg].segnum,
                     pname, sd->type, (unsigned long long)counts[d],
                     (unsigned long long)(sd->min ? sd->min : 1));
      else
        idoc_err_set(err, "%s:%u: IDoc %s: mandatory segment %s missing "
                     "(%llu of at least %llu)", origin, set->docs[doc].line,
                     docnum, sd->type, (unsigned long long)counts[d],
                     (unsigned long long)(sd->min ? sd->min : 1));
      return -1;
    }
  }
  for (int c = first; c >= 0; c = set->segs[c].next_sibling)
    if (check_children(set, t, doc, c, origin, docnum, counts, err) < 0)
      return -1;
  return 0;
}

int idoc_validate(idoc_set *set, const char *origin,
                  struct idoc_err *err) {
  static const int required[] = {DC_IDOCTYP, DC_MESTYP};
  for (size_t d = 0; d < set->ndocs; d++) {
    const struct idoc_doc *doc = &set->docs[d];
    const char *docnum = idoc_doc_dc(set, (int)d, DC_DOCNUM);
    if (!docnum[0]) docnum = "(no DOCNUM)";
    for (size_t k = 0; k < sizeof required / sizeof *required; k++)
      if (!doc->dc[required[k]].len) {
        idoc_err_set(err, "%s:%u: IDoc %s: control record field %s is empty",
                     origin, doc->line, docnum, idoc_dc40[required[k]].name);
        return -1;
      }
    for (int f = 0; f < DC_COUNT; f++)
      if (doc->dc[f].len &&
          idoc_utf8_chars(doc->dc[f].p, doc->dc[f].len) > idoc_dc40[f].length) {
        idoc_err_set(err, "%s:%u: IDoc %s: control record field %s holds %u "
                     "characters", origin, doc->line, docnum,
                     idoc_dc40[f].name, idoc_dc40[f].length);
        return -1;
      }
    const struct idoc_type *t = doc->type;
    if (!t) {
      idoc_err_set(err, "%s:%u: IDoc %s: no definitions for IDoc type %s",
                   origin, doc->line, docnum,
                   idoc_doc_dc(set, (int)d, DC_IDOCTYP));
      return -1;
    }
    /* the control record must name the type the definitions are for */
    const char *cim = idoc_doc_dc(set, (int)d, DC_CIMTYP);
    const char *bas = idoc_doc_dc(set, (int)d, DC_IDOCTYP);
    if (strcmp(t->name, cim[0] ? cim : bas) && strcmp(t->basic, bas)) {
      idoc_err_set(err, "%s:%u: IDoc %s: control record names IDoc type "
                   "%s%s%s, the document is a %s", origin, doc->line, docnum,
                   bas, cim[0] ? "/" : "", cim, t->name);
      return -1;
    }
    uint64_t *counts = calloc(t->nsegs ? t->nsegs : 1, sizeof *counts);
    if (!counts) {
      idoc_err_set(err, "out of memory");
      return -1;
    }
    int rc = check_children(set, t, (int)d, -1, origin, docnum, counts, err);
    free(counts);
    if (rc < 0) return -1;
  }
  return 0;
}
