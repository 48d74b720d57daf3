/* idoc_flat.c - SAP flat IDoc files: EDI_DC40 control records (524
 * characters) followed by EDI_DD40 data records (1063), one record a line
 * (LF or CRLF), several IDocs a file.
 *
 * Widths are characters of the declared code page: with UTF-8 a record may
 * be longer in bytes ("México" makes a 1064-byte, 1063-character record).
 * Records may be right-trimmed. Segment names are normalized to segment
 * types, and the segment tree is rebuilt from the definitions: SEGNUM,
 * PSGNUM and HLEVEL in the file are only cross-checked, because writers
 * disagree about them (SAP writes PSGNUM 000000 for top-level segments,
 * others 000001, translators leave them blank).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc.h"

/* Character -> byte offsets of one record. */
struct rec {
  const char *p;
  size_t len;        /* bytes */
  size_t nchars;     /* characters */
  int ascii;         /* 1: byte offset == character offset */
  uint32_t off[IDOC_DD40_LEN + 2];
};

/* Offset of the first control character (< 0x20, or 0x7F), or -1: flat
 * records are text; a NUL or escape inside one is damage, not data. The
 * word loop skips clean 8-byte blocks fast. */
static long control_char(const char *p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    /* a byte < 0x20 sets its high bit in (w - 0x20..) & ~w */
    uint64_t low = (w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull;
    uint64_t del = w ^ 0x7F7F7F7F7F7F7F7Full;
    del = (del - 0x0101010101010101ull) & ~del & 0x8080808080808080ull;
    if (low | del) break;
  }
  for (; i < n; i++)
    if ((unsigned char)p[i] < 0x20 || p[i] == 0x7F) return (long)i;
  return -1;
}

static int all_ascii(const char *p, size_t n) {
  size_t i = 0;
  uint64_t acc = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; i++) acc |= (uint8_t)p[i];
  return (acc & 0x8080808080808080ull) == 0;
}

/* Offset of the first byte that breaks UTF-8, or -1. */
static long utf8_invalid(const char *p, size_t len) {
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)p[i];
    size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2
             : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!k || i + k > len) return (long)i;
    for (size_t j = 1; j < k; j++)
      if (((unsigned char)p[i + j] & 0xC0) != 0x80) return (long)i;
    i += k;
  }
  return -1;
}

/* 0, or -1 when the record is not valid in the code page (UTF-8). */
static int rec_init(struct rec *r, const char *p, size_t len, int codepage) {
  r->p = p;
  r->len = len;
  r->ascii = codepage == IDOC_CP_LATIN1 || all_ascii(p, len);
  if (r->ascii) {
    r->nchars = len;
    return 0;
  }
  long bad = utf8_invalid(p, len);
  if (bad >= 0) {
    r->nchars = (size_t)bad; /* the byte offset, for the error */
    return -1;
  }
  size_t c = 0;
  for (size_t i = 0; i < len; i++) {
    if (((unsigned char)p[i] & 0xC0) == 0x80) continue;
    if (c <= IDOC_DD40_LEN) r->off[c] = (uint32_t)i;
    c++;
  }
  r->nchars = c;
  if (c <= IDOC_DD40_LEN) r->off[c] = (uint32_t)len;
  else r->off[IDOC_DD40_LEN + 1] = (uint32_t)len;
  return 0;
}

/* Bytes of characters [first-1, first-1+length) clipped to the record,
 * right-trimmed of spaces. */
static void rec_slice(const struct rec *r, unsigned first, unsigned length,
                      const char **s, size_t *n) {
  size_t a = first - 1, b = a + length;
  if (a >= r->nchars) {
    *s = r->p;
    *n = 0;
    return;
  }
  if (b > r->nchars) b = r->nchars;
  size_t ba, bb;
  if (r->ascii) {
    ba = a;
    bb = b;
  } else {
    ba = r->off[a];
    /* callers never start past column 1064, so a <= IDOC_DD40_LEN */
    bb = b <= IDOC_DD40_LEN ? r->off[b] : r->len;
  }
  while (bb > ba && r->p[bb - 1] == ' ') bb--;
  *s = r->p + ba;
  *n = bb - ba;
}

/* Latin-1 -> UTF-8 into buf (2 * n + 1 bytes); returns the length. */
static size_t latin1_to_utf8(const char *s, size_t n, char *buf) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) buf[k++] = (char)c;
    else {
      buf[k++] = (char)(0xC0 | (c >> 6));
      buf[k++] = (char)(0x80 | (c & 0x3F));
    }
  }
  return k;
}

/* Stores a value converting Latin-1 to UTF-8 when needed. */
static int put_value(idoc_set *set, int seg, const char *name, const char *s,
                     size_t n, int codepage) {
  if (codepage == IDOC_CP_LATIN1 && !all_ascii(s, n)) {
    char buf[2 * IDOC_DD40_LEN + 2];
    return idoc_seg_append(set, seg, name, buf, latin1_to_utf8(s, n, buf));
  }
  return idoc_seg_append(set, seg, name, s, n);
}

static int is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '0') return 0;
  return 1;
}

static unsigned parse_num(const char *s, size_t n, int *ok) {
  unsigned v = 0;
  *ok = n > 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      *ok = 0;
      return 0;
    }
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  return v;
}

struct open_seg {
  int seg;
  const struct idoc_segdef *def;
};

/* The definition of `type` whose parent is open on the stack; picks among
 * several definitions of one segment type by position. Returns the stack
 * depth to keep (the parent's position + 1, 0 for top level) or -1. */
static int find_place(const struct idoc_type *t, const struct idoc_segdef **d,
                      const struct open_seg *stack, int depth) {
  const struct idoc_segdef *cand = *d;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t k = pass ? 0 : (size_t)cand->index; k < t->nsegs; k++) {
      const struct idoc_segdef *c = &t->segs[k];
      if (pass == 0 && k != (size_t)cand->index) break;
      if (pass == 1 && (k == (size_t)cand->index || strcmp(c->type, cand->type)))
        continue;
      if (c->parent < 0) {
        *d = c;
        return 0;
      }
      for (int i = depth - 1; i >= 0; i--)
        if (stack[i].def == &t->segs[c->parent]) {
          *d = c;
          return i + 1;
        }
    }
  }
  return -1;
}

int idoc_flat_decode(const idoc_registry *reg, const char *data, size_t len,
                     const char *origin, const struct idoc_flat_opts *opts,
                     idoc_set *set, struct idoc_err *err) {
  static const struct idoc_flat_opts defaults = {0, 0, 1};
  if (!opts) opts = &defaults;
  /* records are 1063 characters, mostly blank */
  if (idoc_set_reserve(set, len / 1000 + 16, len / 120 + 64, len / 8 + 1024) < 0) {
    idoc_err_set(err, "%s: out of memory", origin);
    return -1;
  }
  struct rec *r = malloc(sizeof *r);
  if (!r) {
    idoc_err_set(err, "out of memory");
    return -1;
  }
  int rc = -1, doc = -1, depth = 0;
  struct open_seg stack[IDOC_MAX_DEPTH];
  const struct idoc_type *type = NULL;
  unsigned lineno = 0;
  size_t pos = 0;
  char docnum[40] = "";
  /* a UTF-8 byte order mark before the first record */
  if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) pos = 3;
  while (pos < len) {
    const char *line = data + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t l = nl ? (size_t)(nl - line) : len - pos;
    pos += l + (nl ? 1 : 0);
    lineno++;
    if (l && line[l - 1] == '\r') l--;
    if (l == 0) continue;
    long cc = control_char(line, l);
    if (cc >= 0) {
      idoc_err_set(err, "%s:%u: control character 0x%02X at byte %ld of the "
                   "record", origin, lineno, (unsigned char)line[cc], cc + 1);
      goto out;
    }
    if (rec_init(r, line, l, opts->codepage) < 0) {
      idoc_err_set(err, "%s:%u: byte %zu is not valid UTF-8 (is the file in "
                   "another code page? set code_page)", origin, lineno,
                   r->nchars + 1);
      goto out;
    }
    const char *s;
    size_t n;
    rec_slice(r, 1, 10, &s, &n);
    if (n == 8 && !memcmp(s, "EDI_DC40", 8)) {
      if (r->nchars > IDOC_DC40_LEN) {
        const char *tail;
        size_t tn;
        rec_slice(r, IDOC_DC40_LEN + 1, (unsigned)(r->nchars - IDOC_DC40_LEN),
                  &tail, &tn);
        if (tn) {
          idoc_err_set(err, "%s:%u: control record has %zu characters, "
                       "EDI_DC40 holds %d", origin, lineno, r->nchars,
                       IDOC_DC40_LEN);
          goto out;
        }
      }
      doc = idoc_set_add_doc(set, NULL);
      if (doc < 0) goto oom;
      struct idoc_doc *d = &set->docs[doc];
      d->line = lineno;
      for (int f = 0; f < DC_COUNT; f++) {
        rec_slice(r, idoc_dc40[f].first, idoc_dc40[f].length, &s, &n);
        if (!n) continue;
        char conv[2 * IDOC_DC40_LEN + 2];
        if (opts->codepage == IDOC_CP_LATIN1 && !all_ascii(s, n)) {
          n = latin1_to_utf8(s, n, conv);
          s = conv;
        }
        const char *c = idoc_set_strdup(set, s, n);
        if (!c) goto oom;
        d->dc[f].p = c;
        d->dc[f].len = (uint32_t)n;
      }
      const char *key = d->dc[DC_CIMTYP].p ? d->dc[DC_CIMTYP].p
                                           : d->dc[DC_IDOCTYP].p;
      if (!key) {
        idoc_err_set(err, "%s:%u: control record without IDOCTYP", origin,
                     lineno);
        goto out;
      }
      type = idoc_registry_find(reg, key);
      if (!type && d->dc[DC_CIMTYP].p)
        type = idoc_registry_find(reg, d->dc[DC_IDOCTYP].p);
      if (!type) {
        idoc_err_set(err, "%s:%u: no definitions for IDoc type %s: add its "
                     "WE60 parser export to definitions_dir", origin, lineno,
                     key);
        goto out;
      }
      d->type = type;
      snprintf(docnum, sizeof docnum, "%s", d->dc[DC_DOCNUM].p ? d->dc[DC_DOCNUM].p : "");
      depth = 0;
      continue;
    }
    if (n == 8 && !memcmp(s, "EDI_DS40", 8)) continue; /* status records */
    if (doc < 0) {
      idoc_err_set(err, "%s:%u: data record before any EDI_DC40 control "
                   "record", origin, lineno);
      goto out;
    }
    unsigned segno = set->docs[doc].nsegs + 1;
    if (r->nchars > IDOC_DD40_LEN) {
      const char *tail;
      size_t tn;
      rec_slice(r, IDOC_DD40_LEN + 1, (unsigned)(r->nchars - IDOC_DD40_LEN),
                &tail, &tn);
      if (tn) {
        idoc_err_set(err, "%s:%u: IDoc %s record %u: %zu characters, "
                     "EDI_DD40 holds %d (code page %s)", origin, lineno,
                     docnum, segno, r->nchars, IDOC_DD40_LEN,
                     opts->codepage == IDOC_CP_LATIN1 ? "ISO-8859-1" : "UTF-8");
        goto out;
      }
    }
    rec_slice(r, 1, 30, &s, &n);
    char segtype[IDOC_NAME_MAX + 1];
    const struct idoc_segdef *def = idoc_normalize_segname(type, s, n, segtype);
    if (!def) {
      idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u: segment %.*s is not "
                   "part of IDoc type %s", origin, lineno, docnum, segno,
                   (int)n, s, type->name);
      goto out;
    }
    /* cross-check DOCNUM, SEGNUM */
    rec_slice(r, 34, 16, &s, &n);
    char dconv[40];
    if (opts->codepage == IDOC_CP_LATIN1 && !all_ascii(s, n)) {
      n = latin1_to_utf8(s, n, dconv);
      s = dconv;
    }
    if (n && docnum[0] && (n != strlen(docnum) || memcmp(s, docnum, n))) {
      idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u segment %s: DOCNUM "
                   "%.*s differs from the control record's", origin, lineno,
                   docnum, segno, def->type, (int)n, s);
      goto out;
    }
    int keep = find_place(type, &def, stack, depth);
    if (keep < 0) {
      const struct idoc_segdef *pd = &type->segs[def->parent];
      idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u: segment %s must follow "
                   "its parent segment %s", origin, lineno, docnum, segno,
                   def->type, pd->type);
      goto out;
    }
    depth = keep;
    int parent = depth ? stack[depth - 1].seg : -1;
    int ok;
    rec_slice(r, 62, 2, &s, &n);
    unsigned hl = parse_num(s, n, &ok);
    if (n && opts->strict_levels && (!ok || hl != def->level)) {
      idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u segment %s: HLEVEL "
                   "'%.*s' but the definition says %02u", origin, lineno,
                   docnum, segno, def->type, (int)n, s, def->level);
      goto out;
    }
    rec_slice(r, 56, 6, &s, &n);
    if (parent >= 0 && opts->strict_levels && !is_blank(s, n)) {
      unsigned ps = parse_num(s, n, &ok);
      if (!ok || ps != set->segs[parent].segnum) {
        idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u segment %s: PSGNUM "
                     "'%.*s' but its parent %s is segment %06u", origin,
                     lineno, docnum, segno, def->type, (int)n, s,
                     set->segs[parent].type, set->segs[parent].segnum);
        goto out;
      }
    }
    if (depth == IDOC_MAX_DEPTH) {
      idoc_err_set(err, "%s:%u: segments nested deeper than %d", origin,
                   lineno, IDOC_MAX_DEPTH);
      goto out;
    }
    int seg = idoc_set_add_seg(set, doc, parent, NULL, def);
    if (seg < 0) goto oom;
    set->segs[seg].line = lineno;
    /* errors name the SEGNUM the file gives (when it gives one) */
    rec_slice(r, 50, 6, &s, &n);
    unsigned sn = parse_num(s, n, &ok);
    if (ok && sn) set->segs[seg].segnum = sn;
    stack[depth].seg = seg;
    stack[depth].def = def;
    depth++;
    for (size_t f = 0; f < def->nfields; f++) {
      const struct idoc_fielddef *fd = &def->fields[f];
      rec_slice(r, fd->first, fd->length, &s, &n);
      if (n && put_value(set, seg, fd->name, s, n, opts->codepage) < 0)
        goto oom;
    }
  }
  if (set->ndocs == 0) {
    idoc_err_set(err, "%s: no EDI_DC40 control record: not a flat IDoc file",
                 origin);
    goto out;
  }
  rc = 0;
  goto out;
oom:
  idoc_err_set(err, "%s:%u: out of memory", origin, lineno);
out:
  free(r);
  return rc;
}

/* --- encoder -------------------------------------------------------- */

/* Appends `v` as `width` characters, padded with spaces. */
static int put_padded(struct idoc_buf *b, const char *v, size_t n,
                      unsigned width, int codepage, const char *what,
                      struct idoc_err *err) {
  size_t chars = idoc_utf8_chars(v, n);
  if (chars > width) {
    idoc_err_set(err, "%s: '%.*s' has %zu characters, the field holds %u",
                 what, (int)n, v, chars, width);
    return -1;
  }
  if (codepage == IDOC_CP_LATIN1 && chars != n) {
    char tmp[IDOC_SDATA_LEN];
    size_t k = 0;
    for (size_t i = 0; i < n;) {
      unsigned char c = (unsigned char)v[i];
      unsigned cp;
      if (c < 0x80) { cp = c; i++; }
      else if ((c & 0xE0) == 0xC0 && i + 1 < n) {
        cp = ((c & 0x1Fu) << 6) | ((unsigned char)v[i + 1] & 0x3Fu);
        i += 2;
      } else cp = 0x100, i++;
      if (cp > 0xFF) {
        idoc_err_set(err, "%s: '%.*s' cannot be written in ISO-8859-1", what,
                     (int)n, v);
        return -1;
      }
      tmp[k++] = (char)cp;
    }
    if (idoc_buf_put(b, tmp, k) < 0) return -1;
  } else if (idoc_buf_put(b, v, n) < 0) return -1;
  return idoc_buf_fill(b, ' ', width - chars);
}

struct enc {
  const idoc_set *set;
  const struct idoc_flat_opts *opts;
  struct idoc_buf *b;
  const char *docnum, *mandt;
  unsigned segnum;
  struct idoc_err *err;
};

static int put_eol(struct enc *e) {
  return e->opts->crlf ? idoc_buf_put(e->b, "\r\n", 2)
                       : idoc_buf_put(e->b, "\n", 1);
}

static int encode_seg(struct enc *e, int si, unsigned psgnum, unsigned depth) {
  const idoc_set *set = e->set;
  const struct idoc_segment *s = &set->segs[si];
  const struct idoc_segdef *def = s->def;
  unsigned segnum = ++e->segnum;
  char what[160];
  snprintf(what, sizeof what, "IDoc %s SEGNUM %06u segment %s", e->docnum,
           segnum, s->type);
  if (!def) {
    idoc_err_set(e->err, "%s: no definition: cannot write a flat record",
                 what);
    return -1;
  }
  if (depth >= IDOC_MAX_DEPTH) {
    idoc_err_set(e->err, "%s: nested too deep", what);
    return -1;
  }
  char head[64];
  const char *nm = def->defname[0] ? def->defname : def->type;
  int cp = e->opts->codepage;
  if (put_padded(e->b, nm, strlen(nm), 30, cp, what, e->err) < 0 ||
      put_padded(e->b, e->mandt, strlen(e->mandt), 3, cp, what, e->err) < 0 ||
      put_padded(e->b, e->docnum, strlen(e->docnum), 16, cp, what, e->err) < 0)
    return -1;
  snprintf(head, sizeof head, "%06u%06u%02u", segnum % 1000000u,
           psgnum % 1000000u, def->level % 100u);
  if (idoc_buf_put(e->b, head, 14) < 0) return -1;
  unsigned col = IDOC_SDATA_FIRST;
  for (int vi = s->first_value; vi >= 0; vi = set->values[vi].v.next) {
    if (idoc_seg_field(def, set->values[vi].name,
                       strlen(set->values[vi].name)) < 0) {
      idoc_err_set(e->err, "%s: field %s is not in the segment definition",
                   what, set->values[vi].name);
      return -1;
    }
  }
  for (size_t f = 0; f < def->nfields; f++) {
    const struct idoc_fielddef *fd = &def->fields[f];
    const struct idoc_str *v = idoc_seg_get(set, si, fd->name);
    if (!v || !v->len) continue;
    if (fd->first > col && idoc_buf_fill(e->b, ' ', fd->first - col) < 0)
      return -1;
    char fwhat[200];
    snprintf(fwhat, sizeof fwhat, "%s field %s", what, fd->name);
    if (put_padded(e->b, v->p, v->len, fd->length, e->opts->codepage, fwhat,
                   e->err) < 0)
      return -1;
    col = fd->first + fd->length;
  }
  if (col <= IDOC_DD40_LEN && idoc_buf_fill(e->b, ' ', IDOC_DD40_LEN + 1 - col) < 0)
    return -1;
  if (put_eol(e) < 0) return -1;
  for (int c = s->first_child; c >= 0; c = set->segs[c].next_sibling)
    if (encode_seg(e, c, segnum, depth + 1) < 0) return -1;
  return 0;
}

int idoc_flat_encode(const idoc_set *set, const struct idoc_flat_opts *opts,
                     char **out, size_t *out_len, size_t *out_cap,
                     struct idoc_err *err) {
  static const struct idoc_flat_opts defaults = {0, 0, 1};
  if (!opts) opts = &defaults;
  struct idoc_buf b = {*out, *out_len, *out_cap};
  struct enc e = {set, opts, &b, NULL, NULL, 0, err};
  int rc = -1;
  for (size_t d = 0; d < set->ndocs; d++) {
    const struct idoc_doc *doc = &set->docs[d];
    e.docnum = idoc_doc_dc(set, (int)d, DC_DOCNUM);
    e.mandt = idoc_doc_dc(set, (int)d, DC_MANDT);
    e.segnum = 0;
    for (int f = 0; f < DC_COUNT; f++) {
      const char *v = f == DC_TABNAM ? "EDI_DC40" : idoc_doc_dc(set, (int)d, f);
      char what[96];
      snprintf(what, sizeof what, "IDoc %s control field %s", e.docnum,
               idoc_dc40[f].name);
      if (put_padded(&b, v, strlen(v), idoc_dc40[f].length, opts->codepage,
                     what, err) < 0)
        goto out;
    }
    if (put_eol(&e) < 0) goto oom;
    for (int s = doc->first_top; s >= 0; s = set->segs[s].next_sibling)
      if (encode_seg(&e, s, 0, 0) < 0) goto out;
  }
  rc = 0;
  goto out;
oom:
  idoc_err_set(err, "out of memory");
out:
  *out = b.p;
  *out_len = b.len;
  *out_cap = b.cap;
  return rc;
}
