/* idoc.h - the sap_idoc plugin's internal model: IDoc type definitions, a
 * decoded set of IDocs (control record + segment tree), and the codecs and
 * mappings that work on them. Not part of any public API; nothing here is
 * exported from sap_idoc.so.
 *
 * Ownership: an idoc_registry owns its types; an idoc_set owns every
 * segment, value and string it holds (one arena, freed by
 * idoc_set_destroy). Segment definitions referenced from a set belong to the
 * registry, which must outlive the set.
 */
#ifndef SAP_IDOC_IDOC_H
#define SAP_IDOC_IDOC_H

#include <stddef.h>
#include <stdint.h>

/* Record widths in characters of the file's code page. */
#define IDOC_DC40_LEN 524
#define IDOC_DD40_LEN 1063
#define IDOC_SDATA_FIRST 64 /* 1-based column of the first segment field */
#define IDOC_SDATA_LEN 1000
#define IDOC_NAME_MAX 30 /* segment / IDoc type names */
#define IDOC_MAX_DEPTH 64

/* ------------------------------------------------------------------ */
/* Errors: every failure carries a text naming what and where.          */

struct idoc_err {
  char msg[512];
};

void idoc_err_set(struct idoc_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ */
/* Definitions                                                         */

enum idoc_ftype { IDOC_F_CHAR = 0, IDOC_F_NUMC, IDOC_F_DATS, IDOC_F_TIMS };

struct idoc_fielddef {
  char name[IDOC_NAME_MAX + 1];
  uint8_t namelen; /* set by idoc_type_finish */
  uint16_t first;  /* 1-based character column in the 1063-char record */
  uint16_t length; /* characters */
  uint8_t type;    /* enum idoc_ftype */
  uint8_t mandatory;
};

struct idoc_segdef {
  char type[IDOC_NAME_MAX + 1];    /* segment type, E1EDK01 */
  char defname[IDOC_NAME_MAX + 1]; /* definition name, E2EDK01005 */
  int parent;                      /* index in type->segs, -1: top level */
  int index;                       /* own index in type->segs */
  uint8_t level;                   /* SAP's HLEVEL */
  uint8_t mandatory;
  uint64_t min, max; /* occurrences per parent instance (loop counts) */
  int first_childdef, next_siblingdef; /* definition tree, set by finish */
  struct idoc_fielddef *fields;
  size_t nfields;
  uint16_t *ftab; /* field name hash -> index (0xFFFF empty), by finish */
  uint16_t nmandatory; /* fields flagged M, counted by finish */
  uint32_t ftab_mask;
};

/* One IDoc type: basic type (IDOCTYP) or extension (CIMTYP). */
struct idoc_type {
  char name[IDOC_NAME_MAX + 1]; /* key: CIMTYP if an extension, else IDOCTYP */
  char basic[IDOC_NAME_MAX + 1];
  struct idoc_segdef *segs; /* definition order; parents precede children */
  size_t nsegs;
  int first_topdef; /* first top-level segment definition */
  /* open-addressing hash: segment type and definition name -> index */
  int *hash;
  size_t hash_size;
};

typedef struct idoc_registry idoc_registry;

/* Caller owns the result; NULL on allocation failure. */
idoc_registry *idoc_registry_new(void);
void idoc_registry_destroy(idoc_registry **self_p);
/* Loads every *.idef (project format) and *.txt (SAP WE60 parser export)
 * file of `dir`. A later type with the same name replaces an earlier one
 * (user definitions override shipped ones). 0 or -1 with err set. */
int idoc_registry_load_dir(idoc_registry *self, const char *dir,
                           struct idoc_err *err);
/* Loads one file by its content; `origin` names it in errors. */
int idoc_registry_load_idef(idoc_registry *self, const char *text,
                            size_t len, const char *origin,
                            struct idoc_err *err);
int idoc_registry_load_parser_export(idoc_registry *self, const char *text,
                                    size_t len, const char *origin,
                                    struct idoc_err *err);
/* Loads the definitions shipped with the plugin (ORDERS05, DELVRY07,
 * SHPMNT05, INVOIC02, SYSTAT01, ALEAUD01). 0 or -1 with err set. */
int idoc_registry_load_shipped(idoc_registry *reg, struct idoc_err *err);
/* Type by name (CIMTYP or IDOCTYP); NULL if unknown. */
const struct idoc_type *idoc_registry_find(const idoc_registry *self,
                                           const char *name);
size_t idoc_registry_count(const idoc_registry *self);

/* Takes ownership of *type_p (allocated with idoc_type_new); replaces a
 * type of the same name. 0 or -1. */
int idoc_registry_add(idoc_registry *self, struct idoc_type **type_p);

struct idoc_type *idoc_type_new(const char *name, const char *basic);
void idoc_type_destroy(struct idoc_type **self_p);
/* Appends a segment definition; returns its index or -1. */
int idoc_type_add_seg(struct idoc_type *t, const struct idoc_segdef *seg);
int idoc_seg_add_field(struct idoc_segdef *seg, const struct idoc_fielddef *f);
/* Builds the lookup hash and checks the structure (fields inside the
 * record, no overlap). 0 or -1 with err set. */
int idoc_type_finish(struct idoc_type *t, struct idoc_err *err);
/* Segment definition by type (E1EDK01) or definition name (E2EDK01005);
 * NULL if unknown. */
const struct idoc_segdef *idoc_type_seg(const struct idoc_type *t,
                                        const char *name, size_t len);
/* enum idoc_ftype for a type word (CHAR, NUMC, CHARACTER, NUMERIC, DATS,
 * TIMS...), or -1. */
int idoc_ftype_parse(const char *s);
/* Field index within seg by name, or -1. */
int idoc_seg_field(const struct idoc_segdef *seg, const char *name,
                   size_t len);
/* The hash the lookups use (FNV-1a), so a scanner can compute it while it
 * reads a name, and the lookups taking it. */
uint32_t idoc_name_hash(const char *s, size_t len);
int idoc_seg_field_h(const struct idoc_segdef *seg, const char *name,
                     size_t len, uint32_t h);
const struct idoc_segdef *idoc_type_seg_h(const struct idoc_type *t,
                                          const char *name, size_t len,
                                          uint32_t h);

/* Normalizes a segment name as written in a file (E2EDK01005, E2EDK01,
 * /ABC/E2XYZ001, E1EDK01) to its segment type, using `t` when given to
 * choose between "strip a version" and "keep the digits". Writes at most
 * IDOC_NAME_MAX chars + NUL into out. Returns the definition or NULL. */
const struct idoc_segdef *idoc_normalize_segname(const struct idoc_type *t,
                                                 const char *name, size_t len,
                                                 char *out);

/* ------------------------------------------------------------------ */
/* Control record EDI_DC40                                             */

enum idoc_dc_field {
  DC_TABNAM, DC_MANDT, DC_DOCNUM, DC_DOCREL, DC_STATUS, DC_DIRECT, DC_OUTMOD,
  DC_EXPRSS, DC_TEST, DC_IDOCTYP, DC_CIMTYP, DC_MESTYP, DC_MESCOD, DC_MESFCT,
  DC_STD, DC_STDVRS, DC_STDMES, DC_SNDPOR, DC_SNDPRT, DC_SNDPFC, DC_SNDPRN,
  DC_SNDSAD, DC_SNDLAD, DC_RCVPOR, DC_RCVPRT, DC_RCVPFC, DC_RCVPRN, DC_RCVSAD,
  DC_RCVLAD, DC_CREDAT, DC_CRETIM, DC_REFINT, DC_REFGRP, DC_REFMES, DC_ARCKEY,
  DC_SERIAL, DC_COUNT
};

struct idoc_dcdef {
  const char *name;
  uint16_t first; /* 1-based */
  uint16_t length;
};
extern const struct idoc_dcdef idoc_dc40[DC_COUNT];
/* Control field index by name, or -1. */
int idoc_dc_field(const char *name, size_t len);

/* ------------------------------------------------------------------ */
/* A decoded (or built) set of IDocs                                   */

struct idoc_str {
  const char *p; /* NUL-terminated, in the set's arena; NULL = empty */
  uint32_t len;
  /* In a field value: the index of the segment's next value (-1: last).
   * Kept here, in what would be padding, so a value is 24 bytes: a large
   * document touches less fresh memory. */
  int32_t next;
};

struct idoc_value {
  struct idoc_str v;
  const char *name; /* field name (definition's or arena copy) */
};

struct idoc_segment {
  const char *type;              /* normalized segment type */
  const struct idoc_segdef *def; /* NULL without definitions */
  uint32_t segnum;               /* 1-based within its IDoc */
  uint32_t line;                 /* source line (flat/XML), 0 if built */
  int32_t parent, first_child, last_child, next_sibling; /* -1 = none */
  int32_t first_value, last_value;
  /* 48 bytes: the level is the definition's (def->level), not kept here */
};

struct idoc_doc {
  const struct idoc_type *type; /* NULL without definitions */
  struct idoc_str dc[DC_COUNT];
  int32_t first_top, last_top; /* top-level segments */
  uint32_t first_seg, nsegs;   /* range in set->segs, in document order */
  uint32_t line;
};

/* One block of the set's string arena (strings are appended at used). */
struct idoc_chunk {
  struct idoc_chunk *next;
  size_t used, size;
  char data[];
};

typedef struct idoc_set {
  struct idoc_doc *docs;
  size_t ndocs, docs_cap;
  struct idoc_segment *segs;
  size_t nsegs, segs_cap;
  struct idoc_value *values;
  size_t nvalues, values_cap;
  struct idoc_chunk *arena;
  size_t chunk_hint;
  const char *root; /* XML root name (IDOCTYP or CIMTYP) when read */
} idoc_set;

idoc_set *idoc_set_new(void);
void idoc_set_destroy(idoc_set **self_p);
/* Empties the set for the next document but keeps its memory (arrays and
 * the largest arena chunk): a reader of many documents touches no fresh
 * pages after the first. Everything read from the set before is gone. */
void idoc_set_reset(idoc_set *set);
/* Bytes the set holds (arrays and arena, used or not). */
size_t idoc_set_footprint(const idoc_set *set);
/* Reserves room for segs segments, values values and `bytes` of strings
 * (decoders size it from the input). 0 or -1. */
int idoc_set_reserve(idoc_set *set, size_t segs, size_t values,
                     size_t bytes);
/* Copies a string into the set's arena (NUL-terminated). */
const char *idoc_set_strdup(idoc_set *set, const char *s, size_t len);

/* Building. Each returns an index or -1 on allocation failure. */
int idoc_set_add_doc(idoc_set *set, const struct idoc_type *type);
/* Adds a segment at the end of doc (document order), under parent (-1 for
 * top level). `def` may be NULL (then type is copied). */
int idoc_set_add_seg(idoc_set *set, int doc, int parent, const char *type,
                     const struct idoc_segdef *def);
/* Sets a field (appends; a second call with the same name replaces). The
 * value is copied. Empty values are not stored. 0 or -1. */
int idoc_seg_set(idoc_set *set, int seg, const char *name, const char *val,
                 size_t len);
/* Appends without looking for an existing value of that name (decoders).
 * `name` must outlive the set (a definition's name or an arena copy). */
int idoc_seg_append(idoc_set *set, int seg, const char *name, const char *val,
                    size_t len);
/* The same with a value already in the set's arena (NUL-terminated).
 * Inline: the XML and flat decoders call it once per field. */
int idoc_set_grow_values(idoc_set *set);
static inline int idoc_seg_append_owned(idoc_set *set, int seg,
                                        const char *name, const char *copy,
                                        size_t len) {
  if (set->nvalues == set->values_cap && idoc_set_grow_values(set) < 0)
    return -1;
  int idx = (int)set->nvalues++;
  struct idoc_value *v = &set->values[idx];
  v->name = name;
  v->v.p = copy;
  v->v.len = (uint32_t)len;
  v->v.next = -1;
  struct idoc_segment *s = &set->segs[seg];
  if (s->last_value >= 0) set->values[s->last_value].v.next = idx;
  else s->first_value = idx;
  s->last_value = idx;
  return 0;
}
int idoc_seg_setf(idoc_set *set, int seg, const char *name, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));
int idoc_doc_set_dc(idoc_set *set, int doc, int field, const char *val);

/* Orders every sibling list by definition order (stable), so a mapping
 * may add segments in any order. Segments without a definition go last. */
void idoc_set_sort(idoc_set *set);

/* Reading. */
const struct idoc_str *idoc_seg_get(const idoc_set *set, int seg,
                                    const char *name);
/* Value as a NUL-terminated string ("" when absent). */
const char *idoc_seg_str(const idoc_set *set, int seg, const char *name);
const char *idoc_doc_dc(const idoc_set *set, int doc, int field);
/* First child of seg (-1: top level of doc) of `type` after `after`
 * (-1: from the start); -1 if none. */
int idoc_find_child(const idoc_set *set, int doc, int seg, const char *type,
                    int after);

/* Counts characters of a UTF-8 string (invalid bytes count as one). */
size_t idoc_utf8_chars(const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* Codecs                                                              */

enum idoc_codepage { IDOC_CP_UTF8 = 0, IDOC_CP_LATIN1 = 1 };

struct idoc_flat_opts {
  int codepage; /* enum idoc_codepage */
  int crlf;     /* encode: line ends CRLF */
  int strict_levels; /* decode: HLEVEL/PSGNUM mismatch is an error */
};

/* Decodes a flat file (one or more IDocs) into set, using reg for the
 * segment layouts. 0, or -1 with err naming origin:line, DOCNUM, SEGNUM and
 * segment/field. */
int idoc_flat_decode(const idoc_registry *reg, const char *data, size_t len,
                     const char *origin, const struct idoc_flat_opts *opts,
                     idoc_set *set, struct idoc_err *err);
/* Appends the flat form of every IDoc in set to a malloc'd buffer grown in
 * *out / *out_len / *out_cap. Needs definitions for every segment. */
int idoc_flat_encode(const idoc_set *set, const struct idoc_flat_opts *opts,
                     char **out, size_t *out_len, size_t *out_cap,
                     struct idoc_err *err);

/* libxml2 options of the IDoc-XML reader: no network, no DTD loading, no
 * entity expansion beyond the predefined ones; whitespace between
 * elements is dropped by the parser (a field holding only blanks keeps
 * them, and values are right-trimmed anyway); line numbers past 65535 are
 * kept (errors name the real line of a big file). The benchmark's bare
 * reader pass uses the same options. */
#define IDOC_XML_PARSE_OPTIONS                                               \
  (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |               \
   XML_PARSE_COMPACT | XML_PARSE_HUGE | XML_PARSE_NOBLANKS |                 \
   XML_PARSE_BIG_LINES)

int idoc_xml_decode(const idoc_registry *reg, const char *data, size_t len,
                    const char *origin, idoc_set *set, struct idoc_err *err);
/* Writes one XML document holding every IDoc of the set (root = CIMTYP or
 * IDOCTYP of the first). Output is malloc'd, caller frees. */
int idoc_xml_encode(const idoc_set *set, char **out, size_t *out_len,
                    struct idoc_err *err);

/* Validates every IDoc of the set against its definitions: mandatory
 * segments and fields, lengths, occurrences, types of NUMC fields.
 * Segments read from XML or built without a definition get theirs here
 * (looked up under their parent). 0 or -1 with err set. */
int idoc_validate(idoc_set *set, const char *origin,
                  struct idoc_err *err);

/* Growable byte buffer used by the encoders. */
struct idoc_buf {
  char *p;
  size_t len, cap;
};
int idoc_buf_put(struct idoc_buf *b, const void *data, size_t len);
int idoc_buf_fill(struct idoc_buf *b, char c, size_t n);

#endif
