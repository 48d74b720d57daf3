/* idoc_xml.c - IDoc-XML, as SAP's XML file and XML-HTTP ports write it:
 *
 *   <ORDERS05>                 root = CIMTYP if an extension, else IDOCTYP
 *     <IDOC BEGIN="1">         one or more
 *       <EDI_DC40 SEGMENT="1"><TABNAM>EDI_DC40</TABNAM>...</EDI_DC40>
 *       <E1EDK01 SEGMENT="1"><CURCY>USD</CURCY>...</E1EDK01>
 *       <E1EDP01 SEGMENT="1">...<E1EDP19 SEGMENT="1">...</E1EDP19></E1EDP01>
 *
 * Tags are segment types; children nest inside their parent; empty fields
 * are omitted; "/" in namespaced names is written "_-". The reader streams
 * with xmlTextReader (no tree), never loads external entities or DTDs.
 * An element is a segment when the definitions say so, when it carries
 * SEGMENT="1", or (without definitions) when it holds elements.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "idoc.h"

#define MAX_TEXT 4096

/* "_-" -> "/" (XML spelling of namespaced names). */
static size_t unescape_name(const char *in, char *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; in[i] && k + 1 < cap; i++) {
    if (in[i] == '_' && in[i + 1] == '-') {
      out[k++] = '/';
      i++;
    } else
      out[k++] = in[i];
  }
  out[k] = 0;
  return k;
}

/* Names seen before in this document. The reader's dictionary gives every
 * occurrence of a name the same pointer, so a lookup is cached by
 * (context, pointer): the name is not scanned, hashed or compared again.
 * Only pointers the dictionary owns are cached: they stay valid, and mean
 * the same name, for the whole read (a freed name's memory could be
 * reused for another). Direct-mapped; a collision just evicts. */
#define NCACHE_BITS 11
#define NCACHE (1u << NCACHE_BITS)

struct field_ent { /* is `name` a field of segment definition `seg`? */
  const struct idoc_segdef *seg;
  const xmlChar *name;
  int f; /* field index, -1: not a field */
};

struct seg_ent { /* which definition is segment `name` under `parent`? */
  const struct idoc_type *type;
  const struct idoc_segdef *parent; /* NULL: top level */
  const xmlChar *name;
  const struct idoc_segdef *def; /* NULL: not in the type */
};

struct name_cache {
  struct field_ent fcache[NCACHE];
  struct seg_ent scache[NCACHE];
};

struct xstate {
  xmlTextReaderPtr r;
  const idoc_registry *reg;
  idoc_set *set;
  const char *origin;
  struct idoc_err *err;
  int doc;
  const struct idoc_type *type;
  int stack[IDOC_MAX_DEPTH]; /* open segments */
  xmlNodePtr nodes[IDOC_MAX_DEPTH];  /* their XML nodes (ends by identity) */
  int depth;
  char text[MAX_TEXT]; /* joins a value split over several text nodes */
  char xml_err[400];
  xmlDictPtr dict; /* the reader's, for the caches */
  struct name_cache *cache; /* owned; on the heap (56 KiB) */
};

/* Multiplicative hash, top bits: the dictionary packs names next to each
 * other, so low pointer bits alone collide. */
static size_t cache_slot(const void *ctx, const void *name) {
  uint64_t k = ((uint64_t)(uintptr_t)name ^ ((uint64_t)(uintptr_t)ctx << 17)) *
               0x9E3779B97F4A7C15ull;
  return (size_t)(k >> (64 - NCACHE_BITS));
}

static int cacheable(struct xstate *x, xmlNodePtr node) {
  if (!x->dict && node->doc) x->dict = node->doc->dict;
  return x->dict && xmlDictOwns(x->dict, node->name) == 1;
}

/* An element name as the definitions spell it ("_-" -> "/"), its length
 * and hash; `buf` holds at least IDOC_NAME_MAX * 2 + 2 bytes. */
static const char *plain_name(const xmlChar *raw, char *buf, size_t *nlen,
                              uint32_t *h) {
  const char *name = (const char *)raw;
  size_t n = 0;
  int underscore = 0;
  uint32_t hash = 2166136261u; /* idoc_name_hash, computed while scanning */
  for (; raw[n]; n++) {
    underscore |= raw[n] == '_';
    hash = (hash ^ (uint8_t)raw[n]) * 16777619u;
  }
  if (underscore) {
    n = unescape_name(name, buf, IDOC_NAME_MAX * 2 + 2);
    name = buf;
    hash = idoc_name_hash(name, n);
  }
  *nlen = n;
  *h = hash;
  return name;
}

/* Field index of element `node` in segment definition `seg`, or -1. */
static int field_of(struct xstate *x, const struct idoc_segdef *seg,
                    xmlNodePtr node) {
  struct field_ent *e = &x->cache->fcache[cache_slot(seg, node->name)];
  if (e->name == node->name && e->seg == seg) return e->f;
  char buf[IDOC_NAME_MAX * 2 + 2];
  size_t nlen;
  uint32_t h;
  const char *name = plain_name(node->name, buf, &nlen, &h);
  int f = idoc_seg_field_h(seg, name, nlen, h);
  if (cacheable(x, node)) {
    e->seg = seg;
    e->name = node->name;
    e->f = f;
  }
  return f;
}

/* The definition of segment `name` under the segment defined by `parent`
 * (NULL: top level; `parent_known` 0: the parent has no definition), or
 * NULL when the type has none. */
static const struct idoc_segdef *segdef_of(struct xstate *x,
                                           const struct idoc_segdef *parent,
                                           int parent_known, const char *name,
                                           size_t nlen, uint32_t h) {
  const struct idoc_segdef *def = idoc_type_seg_h(x->type, name, nlen, h);
  int parent_def = parent ? parent->index : -1;
  /* a type defined under several parents: take the one under ours */
  if (def && parent_known && def->parent != parent_def)
    for (size_t k = 0; k < x->type->nsegs; k++)
      if (x->type->segs[k].parent == parent_def &&
          !strcmp(x->type->segs[k].type, def->type))
        return &x->type->segs[k];
  return def;
}

static void on_xml_error(void *arg, const char *msg,
                         xmlParserSeverities severity,
                         xmlTextReaderLocatorPtr loc) {
  struct xstate *x = arg;
  if (severity != XML_PARSER_SEVERITY_ERROR &&
      severity != XML_PARSER_SEVERITY_VALIDITY_ERROR)
    return;
  if (x->xml_err[0]) return; /* keep the first */
  snprintf(x->xml_err, sizeof x->xml_err, "%s:%d: XML error: %s", x->origin,
           loc ? xmlTextReaderLocatorLineNumber(loc) : 0, msg ? msg : "?");
  size_t l = strlen(x->xml_err);
  while (l && (x->xml_err[l - 1] == '\n' || x->xml_err[l - 1] == ' '))
    x->xml_err[--l] = 0;
}

static unsigned xline(struct xstate *x) {
  /* the node's own line: the parser's position runs ahead of the reader */
  xmlNodePtr n = xmlTextReaderCurrentNode(x->r);
  long l = n ? xmlGetLineNo(n) : -1;
  if (l <= 0) l = xmlTextReaderGetParserLineNumber(x->r);
  return l > 0 ? (unsigned)l : 0;
}

static const char *docnum(struct xstate *x) {
  if (x->doc < 0) return "";
  const char *d = idoc_doc_dc(x->set, x->doc, DC_DOCNUM);
  return d[0] ? d : "(no DOCNUM)";
}

/* Reads the text content of the current (field) element up to its end
 * tag, right-trimmed, straight into the set's arena: *val (NULL when
 * empty) and *vlen. Returns 0; -1 when it holds an element (err set); -2
 * when the reader failed; -3 out of memory. */
static int read_text(struct xstate *x, xmlNodePtr field_node,
                     const char *field, const char **val, size_t *vlen) {
  *val = NULL;
  *vlen = 0;
  if (xmlTextReaderIsEmptyElement(x->r)) return 0;
  /* the reader comes back to the field's own node at its end tag: that,
   * not xmlTextReaderNodeType (which scans text for blanks), tells the
   * end apart */
  int ret;
  const char *acc = NULL;
  size_t alen = 0;
  while ((ret = xmlTextReaderRead(x->r)) == 1) {
    xmlNodePtr node = xmlTextReaderCurrentNode(x->r);
    if (node == field_node) break;
    int t = node->type;
    if (t == XML_TEXT_NODE || t == XML_CDATA_SECTION_NODE) {
      const char *v = (const char *)node->content;
      if (!v) continue;
      size_t n;
      if (!acc) {
        /* the usual case: one short text node, copied once, in one pass
         * (a byte loop beats strlen + memcpy on a few characters) */
        struct idoc_chunk *c = x->set->arena;
        if (c) {
          char *dst = c->data + c->used;
          size_t room = c->size - c->used;
          if (room > MAX_TEXT) room = MAX_TEXT;
          for (n = 0; n < room && (dst[n] = v[n]) != 0; n++) {
          }
          if (n < room) {
            c->used += n + 1;
            acc = dst;
            alen = n;
            continue;
          }
        }
      }
      n = strlen(v);
      if (alen + n >= MAX_TEXT) {
        idoc_err_set(x->err, "%s:%u: IDoc %s field %s: value longer than %d "
                     "bytes", x->origin, xline(x), docnum(x), field, MAX_TEXT);
        return -1;
      }
      if (!acc) {
        /* the usual case: one text node, copied once */
        acc = idoc_set_strdup(x->set, v, n);
        alen = n;
      } else {
        memcpy(x->text, acc, alen);
        memcpy(x->text + alen, v, n);
        alen += n;
        acc = idoc_set_strdup(x->set, x->text, alen);
      }
      if (!acc) return -3;
    } else if (t == XML_ELEMENT_NODE) {
      idoc_err_set(x->err, "%s:%u: IDoc %s field %s holds an element <%s>",
                   x->origin, xline(x), docnum(x), field,
                   (const char *)xmlTextReaderConstLocalName(x->r));
      return -1;
    }
  }
  if (ret != 1) return -2;
  while (alen && (acc[alen - 1] == ' ' || acc[alen - 1] == '\n' ||
                  acc[alen - 1] == '\r' || acc[alen - 1] == '\t'))
    alen--;
  if (alen) {
    ((char *)acc)[alen] = 0; /* our own arena copy */
    *val = acc;
    *vlen = alen;
  }
  return 0;
}

static int has_segment_attr(xmlTextReaderPtr r) {
  xmlChar *a = xmlTextReaderGetAttribute(r, BAD_CAST "SEGMENT");
  int yes = a != NULL;
  xmlFree(a);
  return yes;
}

static int read_control(struct xstate *x, xmlNodePtr dc_node) {
  if (xmlTextReaderIsEmptyElement(x->r)) return 0;
  int ret;
  while ((ret = xmlTextReaderRead(x->r)) == 1) {
    xmlNodePtr node = xmlTextReaderCurrentNode(x->r);
    if (node == dc_node) return 0;
    if (!node || node->type != XML_ELEMENT_NODE) continue;
    const char *name = (const char *)node->name;
    int f = idoc_dc_field(name, strlen(name));
    if (f < 0) {
      idoc_err_set(x->err, "%s:%u: IDoc %s: EDI_DC40 has no field %s",
                   x->origin, xline(x), docnum(x), name);
      return -1;
    }
    const char *v;
    size_t vl;
    int rc = read_text(x, node, name, &v, &vl);
    if (rc < 0) return rc;
    if (v) {
      x->set->docs[x->doc].dc[f].p = v;
      x->set->docs[x->doc].dc[f].len = (uint32_t)vl;
    }
  }
  return -2;
}

static void resolve_type(struct xstate *x) {
  if (x->type) return;
  const char *cim = idoc_doc_dc(x->set, x->doc, DC_CIMTYP);
  const char *bas = idoc_doc_dc(x->set, x->doc, DC_IDOCTYP);
  if (cim[0]) x->type = idoc_registry_find(x->reg, cim);
  if (!x->type && bas[0]) x->type = idoc_registry_find(x->reg, bas);
  x->set->docs[x->doc].type = x->type;
}

int idoc_xml_decode(const idoc_registry *reg, const char *data, size_t len,
                    const char *origin, idoc_set *set, struct idoc_err *err) {
  if (len > (size_t)INT32_MAX) {
    idoc_err_set(err, "%s: document larger than 2 GiB", origin);
    return -1;
  }
  if (idoc_set_reserve(set, len / 100 + 16, len / 24 + 64, len / 3 + 1024) < 0) {
    idoc_err_set(err, "%s: out of memory", origin);
    return -1;
  }
  xmlTextReaderPtr r = xmlReaderForMemory(data, (int)len, NULL, NULL,
                                          IDOC_XML_PARSE_OPTIONS);
  if (!r) {
    idoc_err_set(err, "%s: cannot start the XML reader", origin);
    return -1;
  }
  struct xstate x;
  memset(&x, 0, sizeof x);
  x.cache = calloc(1, sizeof *x.cache);
  if (!x.cache) {
    xmlFreeTextReader(r);
    idoc_err_set(err, "%s: out of memory", origin);
    return -1;
  }
  x.r = r;
  x.reg = reg;
  x.set = set;
  x.origin = origin;
  x.err = err;
  x.doc = -1;
  err->msg[0] = 0;
  xmlTextReaderSetErrorHandler(r, on_xml_error, &x);
  int rc = -1, ret, level = 0; /* 0 outside root, 1 in root, 2 in IDOC */
  const struct idoc_type *root_type = NULL;
  int in_doc = 0, seen_root = 0;
  /* Ends are told by node identity: the reader visits an open element's
   * node again at its end tag (cheaper than xmlTextReaderNodeType). */
  xmlNodePtr root_node = NULL, idoc_node = NULL;
  while ((ret = xmlTextReaderRead(r)) == 1) {
    xmlNodePtr node = xmlTextReaderCurrentNode(r);
    if (!node) continue;
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      const char *v = (const char *)node->content;
      while (v && (*v == ' ' || *v == '\n' || *v == '\r' || *v == '\t')) v++;
      if (v && *v) {
        idoc_err_set(err, "%s:%u: text '%.20s' outside a field", origin,
                     xline(&x), v);
        goto out;
      }
      continue;
    }
    if (node->type != XML_ELEMENT_NODE) continue;
    if (level == 2 && x.depth > 0 && node == x.nodes[x.depth - 1]) {
      x.depth--;
      continue;
    }
    if (level == 2 && x.depth == 0 && node == idoc_node) {
      level = 1;
      in_doc = 0;
      continue;
    }
    if (level == 1 && node == root_node) {
      level = 0;
      continue;
    }
    const char *raw = (const char *)node->name;
    if (level == 2 && x.depth > 0) {
      /* fast path: a field of the current segment (cached lookup) */
      int cur = x.stack[x.depth - 1];
      const struct idoc_segdef *cd = set->segs[cur].def;
      if (cd && cd->nfields) {
        int f = field_of(&x, cd, node);
        if (f >= 0) {
          const char *v;
          size_t vl;
          int c = read_text(&x, node, cd->fields[f].name, &v, &vl);
          if (c == -3) goto oom;
          if (c < 0) goto fail;
          if (v && idoc_seg_append_owned(set, cur, cd->fields[f].name, v, vl) < 0)
            goto oom;
          continue;
        }
      }
    }
    int empty = xmlTextReaderIsEmptyElement(r);
    if (level == 0) {
      if (seen_root) {
        idoc_err_set(err, "%s:%u: a second root element <%s>", origin,
                     xline(&x), raw);
        goto out;
      }
      seen_root = 1;
      char rootbuf[IDOC_NAME_MAX * 2 + 2];
      size_t rlen;
      uint32_t rh;
      const char *rname = plain_name(node->name, rootbuf, &rlen, &rh);
      set->root = idoc_set_strdup(set, rname, rlen);
      if (!set->root) goto oom;
      root_type = idoc_registry_find(reg, rname);
      if (!empty) {
        level = 1;
        root_node = node;
      }
      continue;
    }
    if (level == 1) {
      if (strcmp(raw, "IDOC")) {
        idoc_err_set(err, "%s:%u: expected <IDOC BEGIN=\"1\"> under <%s>, "
                     "found <%s>", origin, xline(&x), set->root, raw);
        goto out;
      }
      x.doc = idoc_set_add_doc(set, root_type);
      if (x.doc < 0) goto oom;
      set->docs[x.doc].line = xline(&x);
      x.type = root_type;
      x.depth = 0;
      in_doc = 1;
      if (!empty) {
        level = 2;
        idoc_node = node;
      }
      continue;
    }
    /* level 2: inside an IDOC ("_-" never occurs in EDI_DC40: the raw
     * name is compared) */
    if (x.depth == 0 && !strcmp(raw, "EDI_DC40")) {
      int c = read_control(&x, node);
      if (c == -3) goto oom;
      if (c < 0) goto fail;
      resolve_type(&x);
      continue;
    }
    /* the name itself is only needed on a cache miss or for the slow
     * paths below */
    char namebuf[IDOC_NAME_MAX * 2 + 2];
    const char *name = NULL;
    size_t nlen = 0;
    uint32_t h = 0;
    const struct idoc_segdef *def = NULL;
    if (x.type) {
      const struct idoc_segdef *pd =
          x.depth ? x.set->segs[x.stack[x.depth - 1]].def : NULL;
      int parent_known = x.depth == 0 || pd != NULL;
      const void *ctx = pd ? (const void *)pd : (const void *)x.type;
      struct seg_ent *e = &x.cache->scache[cache_slot(ctx, node->name)];
      if (parent_known && e->name == node->name && e->type == x.type &&
          e->parent == pd) {
        def = e->def;
      } else {
        name = plain_name(node->name, namebuf, &nlen, &h);
        def = segdef_of(&x, pd, parent_known, name, nlen, h);
        if (parent_known && cacheable(&x, node)) {
          e->type = x.type;
          e->parent = pd;
          e->name = node->name;
          e->def = def;
        }
      }
    }
    if (!name && (!def || !x.type)) name = plain_name(node->name, namebuf, &nlen, &h);
    if (!name) {
      /* a defined segment: its definition's spelling */
      name = def->type;
      nlen = strlen(name);
    }
    /* not a field of the current segment (the fast path above) */
    int is_segment = x.depth == 0 || def || has_segment_attr(r);
    if (!is_segment && !x.type && !empty) {
      /* no definitions: a field holds text only; peek at what follows */
      int cur = x.depth ? x.stack[x.depth - 1] : -1;
      const char *fname = idoc_set_strdup(set, name, nlen);
      if (!fname) goto oom;
      const char *v;
      size_t vl;
      int c = read_text(&x, node, fname, &v, &vl);
      if (c == -3) goto oom;
      if (c == 0) {
        if (v && idoc_seg_append_owned(set, cur, fname, v, vl) < 0) goto oom;
        continue;
      }
      if (c == -2) goto fail;
      idoc_err_set(err, "%s:%u: IDoc %s: <%s> holds elements but has no "
                   "SEGMENT=\"1\" and IDoc type %s has no definitions",
                   origin, xline(&x), docnum(&x), raw,
                   set->root ? set->root : "?");
      goto out;
    }
    if (is_segment) {
      if (x.depth == IDOC_MAX_DEPTH) {
        idoc_err_set(err, "%s:%u: segments nested deeper than %d", origin,
                     xline(&x), IDOC_MAX_DEPTH);
        goto out;
      }
      if (nlen > IDOC_NAME_MAX) {
        idoc_err_set(err, "%s:%u: IDoc %s: segment name <%s> longer than 30",
                     origin, xline(&x), docnum(&x), raw);
        goto out;
      }
      if (x.type && !def) {
        idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u: segment %s is not "
                     "part of IDoc type %s", origin, xline(&x), docnum(&x),
                     set->docs[x.doc].nsegs + 1, name, x.type->name);
        goto out;
      }
      int parent = x.depth ? x.stack[x.depth - 1] : -1;
      int seg = idoc_set_add_seg(set, x.doc, parent, name, def);
      if (seg < 0) goto oom;
      set->segs[seg].line = xline(&x);
      if (!empty) {
        x.nodes[x.depth] = node;
        x.stack[x.depth++] = seg;
      }
      continue;
    }
    /* a field of the current segment */
    int cur = x.stack[x.depth - 1];
    const struct idoc_segdef *cd = set->segs[cur].def;
    const char *fname = NULL;
    if (cd) {
      int f = idoc_seg_field(cd, name, nlen);
      if (f < 0) {
        idoc_err_set(err, "%s:%u: IDoc %s SEGNUM %06u segment %s: unknown "
                     "field %s", origin, xline(&x), docnum(&x),
                     set->segs[cur].segnum, set->segs[cur].type, name);
        goto out;
      }
      fname = cd->fields[f].name;
    } else {
      fname = idoc_set_strdup(set, name, nlen);
      if (!fname) goto oom;
    }
    const char *v;
    size_t vl;
    int c = read_text(&x, node, fname, &v, &vl);
    if (c == -3) goto oom;
    if (c < 0) goto fail; /* -1 set err; -2: the reader failed */
    if (v && idoc_seg_append_owned(set, cur, fname, v, vl) < 0) goto oom;
  }
  if (ret != 0) goto fail;
  if (!seen_root || set->ndocs == 0) {
    idoc_err_set(err, "%s: no <IDOC> element: not an IDoc-XML document",
                 origin);
    goto out;
  }
  (void)in_doc;
  rc = 0;
  goto out;
fail:
  if (!err->msg[0]) {
    if (x.xml_err[0]) idoc_err_set(err, "%s", x.xml_err);
    else idoc_err_set(err, "%s:%u: XML error: malformed document", origin,
                      xline(&x));
  }
  goto out;
oom:
  idoc_err_set(err, "%s: out of memory", origin);
out:
  xmlFreeTextReader(r);
  free(x.cache);
  return rc;
}

/* --- encoder -------------------------------------------------------- */

static int put_s(struct idoc_buf *b, const char *s) {
  return idoc_buf_put(b, s, strlen(s));
}

/* Segment, field and type names become element names: letters, digits,
 * '_' and '/' (written "_-"), not starting with a digit. */
static int xml_name_ok(const char *n) {
  if (!*n || (*n >= '0' && *n <= '9')) return 0;
  for (; *n; n++)
    if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') ||
          (*n >= '0' && *n <= '9') || *n == '_' || *n == '/'))
      return 0;
  return 1;
}

static int put_name(struct idoc_buf *b, const char *n) {
  for (; *n; n++) {
    if (*n == '/') {
      if (idoc_buf_put(b, "_-", 2) < 0) return -1;
    } else if (idoc_buf_put(b, n, 1) < 0)
      return -1;
  }
  return 0;
}

static int put_escaped(struct idoc_buf *b, const char *s, size_t n,
                       struct idoc_err *err, const char *what) {
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *rep = NULL;
    if (c == '&') rep = "&amp;";
    else if (c == '<') rep = "&lt;";
    else if (c == '>') rep = "&gt;";
    else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      idoc_err_set(err, "%s: control character 0x%02X cannot be written in "
                   "XML", what, c);
      return -1;
    }
    if (rep) {
      if (idoc_buf_put(b, s + start, i - start) < 0 || put_s(b, rep) < 0)
        return -1;
      start = i + 1;
    }
  }
  return idoc_buf_put(b, s + start, n - start);
}

static int put_field(struct idoc_buf *b, const char *name,
                     const struct idoc_str *v, struct idoc_err *err,
                     const char *what) {
  if (!v || !v->len) return 0;
  if (!xml_name_ok(name)) {
    idoc_err_set(err, "%s: field name '%s' cannot be an XML element", what,
                 name);
    return -1;
  }
  if (idoc_buf_put(b, "<", 1) < 0 || put_name(b, name) < 0 ||
      idoc_buf_put(b, ">", 1) < 0 || put_escaped(b, v->p, v->len, err, what) < 0 ||
      idoc_buf_put(b, "</", 2) < 0 || put_name(b, name) < 0 ||
      idoc_buf_put(b, ">", 1) < 0)
    return -1;
  return 0;
}

static int encode_seg(const idoc_set *set, int si, struct idoc_buf *b,
                      unsigned depth, struct idoc_err *err) {
  const struct idoc_segment *s = &set->segs[si];
  if (depth >= IDOC_MAX_DEPTH) {
    idoc_err_set(err, "segment %s nested too deep", s->type);
    return -1;
  }
  char what[96];
  snprintf(what, sizeof what, "segment %s", s->type);
  if (!xml_name_ok(s->type)) {
    idoc_err_set(err, "segment name '%s' cannot be an XML element", s->type);
    return -1;
  }
  if (idoc_buf_put(b, "<", 1) < 0 || put_name(b, s->type) < 0 ||
      put_s(b, " SEGMENT=\"1\">") < 0)
    return -1;
  if (s->def) {
    /* fields in definition order */
    for (size_t f = 0; f < s->def->nfields; f++) {
      const struct idoc_str *v = idoc_seg_get(set, si, s->def->fields[f].name);
      if (put_field(b, s->def->fields[f].name, v, err, what) < 0) return -1;
    }
  } else {
    for (int vi = s->first_value; vi >= 0; vi = set->values[vi].v.next)
      if (put_field(b, set->values[vi].name, &set->values[vi].v, err, what) < 0)
        return -1;
  }
  if (s->first_child >= 0 && idoc_buf_put(b, "\n", 1) < 0) return -1;
  for (int c = s->first_child; c >= 0; c = set->segs[c].next_sibling)
    if (encode_seg(set, c, b, depth + 1, err) < 0) return -1;
  if (idoc_buf_put(b, "</", 2) < 0 || put_name(b, s->type) < 0 ||
      idoc_buf_put(b, ">\n", 2) < 0)
    return -1;
  return 0;
}

int idoc_xml_encode(const idoc_set *set, char **out, size_t *out_len,
                    struct idoc_err *err) {
  struct idoc_buf b = {0};
  if (!set->ndocs) {
    idoc_err_set(err, "no IDoc to write");
    return -1;
  }
  const char *root = idoc_doc_dc(set, 0, DC_CIMTYP);
  if (!root[0]) root = idoc_doc_dc(set, 0, DC_IDOCTYP);
  if (!root[0] || !xml_name_ok(root)) {
    idoc_err_set(err, "IDoc %s: IDoc type '%s' cannot be the root element",
                 idoc_doc_dc(set, 0, DC_DOCNUM), root);
    return -1;
  }
  if (put_s(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<") < 0 ||
      put_name(&b, root) < 0 || put_s(&b, ">\n") < 0)
    goto oom;
  for (size_t d = 0; d < set->ndocs; d++) {
    if (put_s(&b, "<IDOC BEGIN=\"1\">\n<EDI_DC40 SEGMENT=\"1\">") < 0) goto oom;
    for (int f = 0; f < DC_COUNT; f++) {
      struct idoc_str tab = {"EDI_DC40", 8, -1};
      const struct idoc_str *v = f == DC_TABNAM ? &tab : &set->docs[d].dc[f];
      if (put_field(&b, idoc_dc40[f].name, v, err, "EDI_DC40") < 0) goto fail;
    }
    if (put_s(&b, "</EDI_DC40>\n") < 0) goto oom;
    for (int s = set->docs[d].first_top; s >= 0; s = set->segs[s].next_sibling)
      if (encode_seg(set, s, &b, 0, err) < 0) goto fail;
    if (put_s(&b, "</IDOC>\n") < 0) goto oom;
  }
  if (put_s(&b, "</") < 0 || put_name(&b, root) < 0 || put_s(&b, ">\n") < 0)
    goto oom;
  *out = b.p;
  *out_len = b.len;
  return 0;
oom:
  idoc_err_set(err, "out of memory");
fail:
  free(b.p);
  return -1;
}
