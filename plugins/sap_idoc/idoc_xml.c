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
};

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
static int read_text(struct xstate *x, const char *field, const char **val,
                     size_t *vlen) {
  *val = NULL;
  *vlen = 0;
  if (xmlTextReaderIsEmptyElement(x->r)) return 0;
  /* the reader comes back to the field's own node at its end tag: that,
   * not xmlTextReaderNodeType (which scans text for blanks), tells the
   * end apart */
  xmlNodePtr field_node = xmlTextReaderCurrentNode(x->r);
  int ret;
  const char *acc = NULL;
  size_t alen = 0;
  while ((ret = xmlTextReaderRead(x->r)) == 1) {
    xmlNodePtr node = xmlTextReaderCurrentNode(x->r);
    if (node == field_node) break;
    int t = node->type;
    if (t == XML_TEXT_NODE || t == XML_CDATA_SECTION_NODE) {
      const char *v = (const char *)node->content;
      size_t n = v ? strlen(v) : 0;
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

static int read_control(struct xstate *x) {
  if (xmlTextReaderIsEmptyElement(x->r)) return 0;
  xmlNodePtr dc_node = xmlTextReaderCurrentNode(x->r);
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
    int rc = read_text(x, name, &v, &vl);
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
    char namebuf[IDOC_NAME_MAX * 2 + 2];
    const char *name = raw;
    size_t nlen = 0;
    int underscore = 0;
    uint32_t h = 2166136261u; /* idoc_name_hash, computed while scanning */
    for (; raw[nlen]; nlen++) {
      underscore |= raw[nlen] == '_';
      h = (h ^ (uint8_t)raw[nlen]) * 16777619u;
    }
    if (underscore) {
      nlen = unescape_name(raw, namebuf, sizeof namebuf);
      name = namebuf;
      h = idoc_name_hash(name, nlen);
    }
    int empty = xmlTextReaderIsEmptyElement(r);
    if (level == 0) {
      if (seen_root) {
        idoc_err_set(err, "%s:%u: a second root element <%s>", origin,
                     xline(&x), raw);
        goto out;
      }
      seen_root = 1;
      set->root = idoc_set_strdup(set, name, nlen);
      root_type = idoc_registry_find(reg, name);
      if (!empty) {
        level = 1;
        root_node = node;
      }
      continue;
    }
    if (level == 1) {
      if (strcmp(name, "IDOC")) {
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
    /* level 2: inside an IDOC */
    if (x.depth == 0 && !strcmp(name, "EDI_DC40")) {
      int c = read_control(&x);
      if (c == -3) goto oom;
      if (c < 0) goto fail;
      resolve_type(&x);
      continue;
    }
    /* fast path: a field of the current segment (hashed lookup) */
    if (x.depth > 0) {
      int cur = x.stack[x.depth - 1];
      const struct idoc_segdef *cd = set->segs[cur].def;
      if (cd && cd->nfields) {
        int f = idoc_seg_field_h(cd, name, nlen, h);
        if (f >= 0) {
          const char *v;
          size_t vl;
          int c = read_text(&x, cd->fields[f].name, &v, &vl);
          if (c == -3) goto oom;
          if (c < 0) goto fail;
          if (v && idoc_seg_append_owned(set, cur, cd->fields[f].name, v, vl) < 0)
            goto oom;
          continue;
        }
      }
    }
    const struct idoc_segdef *def = NULL;
    if (x.type) {
      int parent_def = x.depth ? (x.set->segs[x.stack[x.depth - 1]].def
                                      ? x.set->segs[x.stack[x.depth - 1]].def->index
                                      : -2)
                               : -1;
      def = idoc_type_seg_h(x.type, name, nlen, h);
      /* a type defined under several parents: take the one under ours */
      if (def && def->parent != parent_def && parent_def != -2)
        for (size_t k = 0; k < x.type->nsegs; k++)
          if (x.type->segs[k].parent == parent_def &&
              !strcmp(x.type->segs[k].type, def->type)) {
            def = &x.type->segs[k];
            break;
          }
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
      int c = read_text(&x, fname, &v, &vl);
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
    int c = read_text(&x, fname, &v, &vl);
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
