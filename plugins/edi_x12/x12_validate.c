/* x12_validate.c - see x12_validate.h. */
#include "x12_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_NONE = 0, S_ISA, S_GROUP, S_SET };

#define MAX_SET_ERRORS 64

void x12_validator_init(struct x12_validator *v,
                        const struct x12_validator_ops *ops, void *ctx,
                        unsigned flags) {
  memset(v, 0, sizeof(*v));
  if (ops) v->ops = *ops;
  v->ctx = ctx;
  v->flags = flags;
  x12_sets_load();
}

void x12_interchange_result_clear(struct x12_interchange_result *ic) {
  for (uint32_t g = 0; g < ic->ngroups; g++) {
    for (uint32_t s = 0; s < ic->groups[g].nsets; s++)
      free(ic->groups[g].sets[s].errors);
    free(ic->groups[g].sets);
  }
  free(ic->groups);
  ic->groups = NULL;
  ic->ngroups = ic->cap_groups = 0;
}

static void segs_reset(struct x12_set_segments *b) {
  for (uint32_t i = 0; i < b->ncopies; i++) free(b->copies[i]);
  b->ncopies = 0;
  b->nspans = 0;
  b->nsegs = 0;
}

void x12_validator_release(struct x12_validator *v) {
  if (v->ic) {
    x12_interchange_result_clear(v->ic);
    free(v->ic);
    v->ic = NULL;
  }
  segs_reset(&v->segs);
  free(v->segs.spans);
  free(v->segs.segs);
  free(v->segs.copies);
  free(v->seen);
  free(v->st02_slots);
  v->st02_slots = NULL;
  memset(&v->segs, 0, sizeof(v->segs));
  v->seen = NULL;
}

int x12_interchange_ok(const struct x12_interchange_result *ic) {
  return ic->ta1_status != 'R';
}

/* ------------------------------------------------------------------ */
/* code texts                                                           */

const char *x12_element_error_text(int code) {
  switch (code) {
  case 1: return "mandatory data element missing";
  case 2: return "conditional required data element missing";
  case 3: return "too many data elements";
  case 4: return "data element too short";
  case 5: return "data element too long";
  case 6: return "invalid character in data element";
  case 7: return "invalid code value";
  case 8: return "invalid date";
  case 9: return "invalid time";
  case 10: return "exclusion condition violated";
  case 12: return "too many repetitions";
  case 13: return "too many components";
  default: return "data element error";
  }
}

const char *x12_segment_error_text(int code) {
  switch (code) {
  case 1: return "unrecognized segment ID";
  case 2: return "unexpected segment";
  case 3: return "mandatory segment missing";
  case 4: return "loop occurs over maximum times";
  case 5: return "segment exceeds maximum use";
  case 6: return "segment not in defined transaction set";
  case 7: return "segment not in proper sequence";
  case 8: return "segment has data element errors";
  default: return "segment error";
  }
}

const char *x12_set_error_text(int code) {
  switch (code) {
  case 1: return "transaction set not supported";
  case 2: return "transaction set trailer (SE) missing";
  case 3: return "ST02 and SE02 control numbers do not match";
  case 4: return "SE01 segment count is wrong";
  case 5: return "one or more segments in error";
  case 6: return "missing or invalid transaction set identifier";
  case 7: return "missing or invalid transaction set control number";
  case 23: return "ST02 control number not unique within the group";
  default: return "transaction set error";
  }
}

const char *x12_group_error_text(int code) {
  switch (code) {
  case 1: return "functional group not supported";
  case 2: return "functional group version not supported";
  case 3: return "functional group trailer (GE) missing";
  case 4: return "GS06 and GE02 control numbers do not match";
  case 5: return "GE01 transaction set count is wrong";
  case 6: return "GS06 control number violates syntax";
  case 19: return "GS06 control number not unique within the interchange";
  default: return "functional group error";
  }
}

const char *x12_ta1_text(const char *code) {
  static const struct { const char *code, *text; } t[] = {
      {"000", "no error"},
      {"001", "ISA13 and IEA02 control numbers do not match"},
      {"004", "invalid segment terminator"},
      {"005", "invalid interchange sender ID qualifier"},
      {"006", "invalid interchange sender ID"},
      {"007", "invalid interchange receiver ID qualifier"},
      {"008", "invalid interchange receiver ID"},
      {"010", "invalid authorization information qualifier"},
      {"012", "invalid security information qualifier"},
      {"014", "invalid interchange date"},
      {"015", "invalid interchange time"},
      {"017", "invalid interchange control version number"},
      {"018", "invalid interchange control number"},
      {"019", "invalid acknowledgment requested value"},
      {"020", "invalid test indicator value"},
      {"021", "invalid number of included groups"},
      {"022", "invalid control structure"},
      {"023", "improper (premature) end-of-file"},
      {"024", "invalid interchange content"},
      {"025", "duplicate interchange control number"},
      {"026", "invalid data element separator"},
      {"027", "invalid component element separator"},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
    if (strcmp(t[i].code, code) == 0) return t[i].text;
  return "interchange error";
}

/* ------------------------------------------------------------------ */
/* recording faults                                                     */

static void ic_fail(struct x12_validator *v, const char *code,
                    const struct x12_pos *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ic_fail(struct x12_validator *v, const char *code,
                    const struct x12_pos *pos, const char *fmt, ...) {
  struct x12_interchange_result *ic = v->ic;
  if (!ic || ic->ta1_status == 'R') return; /* keep the first */
  memcpy(ic->ta1_code, code, 4);
  ic->ta1_status = 'R';
  if (pos) ic->error_pos = *pos;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ic->message, sizeof(ic->message), fmt, ap);
  va_end(ap);
}

static void add_code(uint8_t *codes, uint8_t *n, uint8_t code) {
  for (uint8_t i = 0; i < *n; i++)
    if (codes[i] == code) return;
  if (*n < 5) codes[(*n)++] = code;
}

static struct x12_segment_error *seg_error(struct x12_validator *v,
                                           const struct x12_segment *seg,
                                           uint32_t position, uint8_t code) {
  struct x12_set_result *set = v->set;
  if (!set) return NULL;
  if (set->nerrors &&
      set->errors[set->nerrors - 1].position == position &&
      set->errors[set->nerrors - 1].pos.offset == seg->pos.offset) {
    struct x12_segment_error *e = &set->errors[set->nerrors - 1];
    if (code != 8) e->code = code;
    return e;
  }
  if (set->nerrors >= MAX_SET_ERRORS) {
    set->dropped_errors++;
    return NULL;
  }
  if (set->nerrors == set->cap_errors) {
    uint16_t cap = set->cap_errors ? (uint16_t)(set->cap_errors * 2) : 4;
    void *p = realloc(set->errors, cap * sizeof(*set->errors));
    if (!p) {
      v->oom = 1;
      return NULL;
    }
    set->errors = p;
    set->cap_errors = cap;
  }
  struct x12_segment_error *e = &set->errors[set->nerrors++];
  memset(e, 0, sizeof(*e));
  x12_span_copy(seg->el[0], e->id, sizeof(e->id));
  e->position = position;
  e->code = code;
  e->pos = seg->pos;
  snprintf(e->message, sizeof(e->message), "%s", x12_segment_error_text(code));
  return e;
}

static void element_error(struct x12_validator *v,
                          const struct x12_segment *seg, uint32_t position,
                          uint32_t index, uint16_t component, uint16_t ref,
                          uint8_t code) {
  struct x12_segment_error *e = seg_error(v, seg, position, 8);
  if (!e) return;
  if (e->nelements >= sizeof(e->elements) / sizeof(e->elements[0])) return;
  struct x12_element_error *el = &e->elements[e->nelements++];
  memset(el, 0, sizeof(*el));
  el->element = (uint16_t)index;
  el->component = component;
  el->ref = ref;
  el->code = code;
  if (index < seg->count) {
    x12_span_copy(seg->el[index], el->bad, sizeof(el->bad));
    el->pos = x12_element_pos(seg, index);
  } else {
    el->pos = seg->pos;
  }
  if (e->nelements == 1)
    snprintf(e->message, sizeof(e->message), "%s%02u: %s", e->id,
             (unsigned)index, x12_element_error_text(code));
}

/* ------------------------------------------------------------------ */
/* element checks                                                       */

static int is_digits(const char *p, uint32_t n) {
  if (!n) return 0;
  for (uint32_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9') return 0;
  return 1;
}

static int num2(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

int x12_valid_date(const char *p, uint32_t n) {
  int y, m, d;
  if (!is_digits(p, n)) return 0;
  if (n == 8) {
    y = num2(p) * 100 + num2(p + 2);
    m = num2(p + 4);
    d = num2(p + 6);
  } else if (n == 6) {
    y = 2000 + num2(p);
    m = num2(p + 2);
    d = num2(p + 4);
  } else {
    return 0;
  }
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return 0;
  return 1;
}

int x12_valid_time(const char *p, uint32_t n) {
  if (n < 4 || n > 8 || n == 5 || !is_digits(p, n)) return 0;
  if (num2(p) > 23 || num2(p + 2) > 59) return 0;
  if (n >= 6 && num2(p + 4) > 59) return 0;
  return 1;
}

/* Checks one non-empty simple value; returns 0 or a 723 code, and the
 * second fault (a length fault beside a character fault) in *also. */
static uint8_t check_value(const struct x12_element_def *def, const char *p,
                           uint32_t n, uint8_t *also, int has_control) {
  uint32_t digits = n;
  *also = 0;
  switch (def->type) {
  case X12_T_DT:
    return x12_valid_date(p, n) ? 0 : 8;
  case X12_T_TM:
    return x12_valid_time(p, n) ? 0 : 9;
  case X12_T_N0:
  case X12_T_N1:
  case X12_T_N2: {
    const char *q = p;
    if (n && *q == '-') {
      q++;
      digits--;
    }
    uint8_t len = digits < def->min ? 4 : digits > def->max ? 5 : 0;
    if (!is_digits(q, digits)) {
      *also = len;
      return 6;
    }
    return len;
  }
  case X12_T_R: {
    int dots = 0, bad = 0;
    for (uint32_t i = 0; i < n; i++) {
      if (p[i] == '.') {
        dots++;
        digits--;
      } else if (p[i] == '-' && i == 0) {
        digits--;
      } else if (p[i] < '0' || p[i] > '9') {
        bad = 1;
      }
    }
    uint8_t len = digits < def->min ? 4 : digits > def->max ? 5 : 0;
    if (bad || dots > 1 || digits == 0) {
      *also = len;
      return 6;
    }
    return len;
  }
  default: {
    for (uint32_t i = 0; has_control && i < n; i++)
      if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
        *also = n < def->min ? 4 : n > def->max ? 5 : 0;
        return 6;
      }
    uint8_t len = n < def->min ? 4 : n > def->max ? 5 : 0;
    if (def->type == X12_T_ID && !x12_element_code_ok(def, p, n)) {
      *also = len;
      return 7;
    }
    return len;
  }
  }
}

/* Nonzero if code (len bytes) is in the element's code list. */
static int code_listed(const struct x12_element_def *ed, const char *p,
                       uint32_t len) {
  if (!ed->code_keys) return x12_element_code_ok(ed, p, len);
  uint32_t key = x12_code_key(p, len);
  size_t lo = 0, hi = ed->ncodes;
  while (lo < hi) { /* sorted integers: a few compares, no strncmp */
    size_t mid = (lo + hi) / 2;
    if (ed->code_keys[mid] == key) return 1;
    if (ed->code_keys[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

/* The fast path of check_elements: nonzero when every element of seg is
 * certainly clean against def, for a segment whose bytes hold no
 * component or repetition separator and no control character
 * (seg->flags == 0). It checks the same rules as check_value, per element
 * type, without recording anything; any doubt returns 0 and the generic
 * walk below then finds and records the faults, so both paths report the
 * same errors (test_validate runs the bad inputs through both). */
static inline int elements_clean(const struct x12_segment *seg,
                          const struct x12_segment_def *def) {
  uint32_t n = seg->count - 1;
  if (n > def->count) {
    if (def->complete) return 0;
    n = def->count; /* elements past the definition are not checked */
  }
  if (n < def->last_mandatory) return 0; /* a mandatory one is absent */
  const struct x12_span *e = &seg->el[1];
  const struct x12_element_def *ed = def->el;
  for (uint32_t i = 0; i < n; i++, ed++) {
    const char *p = e[i].ptr;
    uint32_t len = e[i].len;
    if (!len) {
      if (ed->mandatory) return 0;
      continue;
    }
    switch (ed->type) {
    case X12_T_AN:
      if (len < ed->min || len > ed->max) return 0;
      break;
    case X12_T_ID:
      if (len < ed->min || len > ed->max) return 0;
      if (ed->codes && !code_listed(ed, p, len)) return 0;
      break;
    case X12_T_N0:
    case X12_T_N1:
    case X12_T_N2: {
      uint32_t digits = len;
      if (*p == '-') {
        p++;
        digits--;
      }
      if (digits < ed->min || digits > ed->max || !is_digits(p, digits))
        return 0;
      break;
    }
    case X12_T_R: {
      uint32_t digits = 0, dots = 0;
      for (uint32_t k = 0; k < len; k++) {
        char c = p[k];
        if (c >= '0' && c <= '9')
          digits++;
        else if (c == '.')
          dots++;
        else if (!(c == '-' && k == 0))
          return 0;
      }
      if (dots > 1 || digits == 0 || digits < ed->min || digits > ed->max)
        return 0;
      break;
    }
    case X12_T_DT:
      if (!x12_valid_date(p, len)) return 0;
      break;
    case X12_T_TM:
      if (!x12_valid_time(p, len)) return 0;
      break;
    default: /* composites: components are not checked */
      break;
    }
  }
  return 1;
}

/* Validates the elements of seg against its definition. position: in the
 * set (0 outside a set: faults then go to the interchange). Returns the
 * number of faults found. */
static int check_elements(struct x12_validator *v,
                          const struct x12_segment *seg,
                          const struct x12_segment_def *def, uint32_t position,
                          const struct x12_delimiters *d, int v5010) {
  if (!seg->flags && !(v->flags & X12_VAL_GENERIC) &&
      elements_clean(seg, def))
    return 0;
  int faults = 0;
  uint32_t n = seg->count - 1;
  uint32_t lim = def->count;
  if (def->complete && n > lim) {
    /* Elements past the definition: one fault on the first extra one. */
    faults++;
    if (position) element_error(v, seg, position, lim + 1, 0, 0, 3);
  }
  for (uint32_t i = 1; i <= lim; i++) {
    const struct x12_element_def *ed = &def->el[i - 1];
    uint8_t code = 0, also = 0;
    if (i > n || seg->el[i].len == 0) {
      if (ed->mandatory) code = 1;
    } else {
      struct x12_span e = seg->el[i];
      /* Repetitions are checked from 005010 on: partners on 4020-4060
       * often put punctuation in ISA11 and still use it as data. */
      /* the tokenizer's byte classes say whether a scan is needed */
      if (ed->type != X12_T_COMP && (seg->flags & X12_SEG_REPETITION) &&
          !ed->repeat && v5010 && memchr(e.ptr, d->repetition, e.len)) {
        code = v5010 ? 12 : 6;
      } else if (ed->type != X12_T_COMP &&
                 (seg->flags & X12_SEG_COMPONENT) &&
                 memchr(e.ptr, d->component, e.len)) {
        code = v5010 ? 13 : 6;
      } else if (ed->type != X12_T_COMP) {
        code = check_value(ed, e.ptr, e.len, &also,
                           (seg->flags & (X12_SEG_CONTROL | X12_SEG_NEWLINE)) != 0);
      }
    }
    if (code) {
      faults++;
      if (position)
        element_error(v, seg, position, i, 0, ed->ref, code);
      else {
        char tag[4];
        struct x12_pos p = x12_element_pos(seg, i);
        x12_span_copy(seg->el[0], tag, sizeof(tag));
        ic_fail(v, "024", &p, "%s%02u at line %u column %u: %s", tag,
                (unsigned)i, p.line, p.column, x12_element_error_text(code));
      }
      if (also && position)
        element_error(v, seg, position, i, 0, ed->ref, also);
    }
  }
  return faults;
}

/* ------------------------------------------------------------------ */
/* envelope                                                             */

static int v5010(const struct x12_validator *v) {
  return v->group && strncmp(v->group->gs08, "005", 3) >= 0;
}

static long span_num(struct x12_span s, int *ok) {
  long n = 0;
  *ok = s.len > 0 && s.len <= 12;
  for (uint32_t i = 0; i < s.len && *ok; i++) {
    if (s.ptr[i] < '0' || s.ptr[i] > '9')
      *ok = 0;
    else
      n = n * 10 + (s.ptr[i] - '0');
  }
  return n;
}

static void close_set(struct x12_validator *v) {
  struct x12_set_result *set = v->set;
  if (!set) return;
  if (set->nerrors && set->ncodes == 0) add_code(set->codes, &set->ncodes, 5);
  set->status = set->ncodes ? 'R' : 'A';
  v->group->received++;
  if (set->status == 'A') v->group->accepted++;
  if (v->ops.on_set)
    v->ops.on_set(v->ctx, v->ic, v->group, set,
                  (v->flags & X12_VAL_COLLECT) ? &v->segs : NULL);
  v->set = NULL;
  v->state = S_GROUP;
}

static void close_group(struct x12_validator *v) {
  struct x12_group_result *g = v->group;
  if (!g) return;
  if (g->ncodes)
    g->status = 'R';
  else if (g->received == 0 || g->accepted == g->received)
    g->status = 'A';
  else if (g->accepted == 0)
    g->status = 'R';
  else
    g->status = 'P';
  v->group = NULL;
  v->state = S_ISA;
}

static void close_interchange(struct x12_validator *v) {
  struct x12_interchange_result *ic = v->ic;
  if (!ic) return;
  v->ic = NULL;
  v->state = S_NONE;
  v->interchanges++;
  if (v->ops.on_interchange) v->ops.on_interchange(v->ctx, ic);
  x12_interchange_result_clear(ic);
  free(ic);
}

/* Premature end of whatever is open (a new ISA, an IEA, the end). */
static void close_open_set(struct x12_validator *v) {
  if (v->state == S_SET && v->set) {
    add_code(v->set->codes, &v->set->ncodes, 2);
    add_code(v->set->codes, &v->set->ncodes, 3);
    close_set(v);
  }
}

static void close_open_group(struct x12_validator *v,
                             const struct x12_pos *pos) {
  close_open_set(v);
  if (v->state == S_GROUP && v->group) {
    add_code(v->group->codes, &v->group->ncodes, 3);
    ic_fail(v, "024", pos, "functional group GS06=%s has no GE trailer",
            v->group->gs06);
    close_group(v);
  }
}

static int dup_isa(struct x12_validator *v, struct x12_interchange_result *ic) {
  if (v->ops.isa_seen) {
    int r = v->ops.isa_seen(v->ctx, ic->isa05, ic->isa06, ic->isa13);
    if (r != 0) return r == 1;
  }
  char key[48];
  snprintf(key, sizeof(key), "%s:%s:%s", ic->isa05, ic->isa06, ic->isa13);
  for (uint32_t i = 0; i < v->nseen; i++)
    if (strcmp(v->seen[i], key) == 0) return 1;
  if (v->nseen == v->cap_seen) {
    uint32_t cap = v->cap_seen ? v->cap_seen * 2 : 8;
    void *p = realloc(v->seen, cap * sizeof(*v->seen));
    if (!p) return 0;
    v->seen = p;
    v->cap_seen = cap;
  }
  memcpy(v->seen[v->nseen++], key, sizeof(key));
  return 0;
}

static int printable(struct x12_span s) {
  for (uint32_t i = 0; i < s.len; i++)
    if ((unsigned char)s.ptr[i] < 0x20 || s.ptr[i] == 0x7f) return 0;
  return 1;
}

static void on_isa(struct x12_validator *v, const struct x12_segment *seg,
                   const struct x12_delimiters *d) {
  if (v->ic) {
    close_open_group(v, &seg->pos);
    ic_fail(v, "023", &seg->pos,
            "interchange ISA13=%s has no IEA trailer before the next ISA",
            v->ic->isa13);
    close_interchange(v);
  }
  struct x12_interchange_result *ic = calloc(1, sizeof(*ic));
  if (!ic) {
    v->oom = 1;
    return;
  }
  v->ic = ic;
  v->state = S_ISA;
  ic->pos = seg->pos;
  ic->delims = *d;
  memcpy(ic->ta1_code, "000", 4);
  ic->ta1_status = 'A';
#define CP(field, i) x12_span_copy(seg->el[i], ic->field, sizeof(ic->field))
  CP(isa01, 1); CP(isa02, 2); CP(isa03, 3); CP(isa04, 4);
  CP(isa05, 5); CP(isa06, 6); CP(isa07, 7); CP(isa08, 8);
  CP(isa09, 9); CP(isa10, 10); CP(isa11, 11); CP(isa12, 12);
  CP(isa13, 13); CP(isa14, 14); CP(isa15, 15);
#undef CP
  struct x12_pos p;
#define ISA_FAIL(i, code, what)                                              \
  do {                                                                       \
    p = x12_element_pos(seg, i);                                             \
    ic_fail(v, code, &p, "ISA%02d at line %u column %u: %s", i, p.line,      \
            p.column, what);                                                 \
  } while (0)
  if (seg->el[1].len != 2 || seg->el[1].ptr[0] != '0' ||
      seg->el[1].ptr[1] < '0' || seg->el[1].ptr[1] > '6')
    ISA_FAIL(1, "010", "authorization qualifier must be 00 to 06");
  if (!x12_span_eq(seg->el[3], "00") && !x12_span_eq(seg->el[3], "01"))
    ISA_FAIL(3, "012", "security qualifier must be 00 or 01");
  if (strlen(ic->isa05) != 2) ISA_FAIL(5, "005", "invalid sender qualifier");
  if (!ic->isa06[0] || !printable(seg->el[6]))
    ISA_FAIL(6, "006", "empty interchange sender ID or control characters in it");
  if (strlen(ic->isa07) != 2)
    ISA_FAIL(7, "007", "invalid receiver qualifier");
  if (!ic->isa08[0] || !printable(seg->el[8]))
    ISA_FAIL(8, "008", "empty interchange receiver ID or control characters in it");
  if (seg->el[9].len != 6 || !x12_valid_date(seg->el[9].ptr, 6))
    ISA_FAIL(9, "014", "invalid interchange date (YYMMDD)");
  if (seg->el[10].len != 4 || !x12_valid_time(seg->el[10].ptr, 4))
    ISA_FAIL(10, "015", "invalid interchange time (HHMM)");
  if (seg->el[12].len != 5 || !is_digits(seg->el[12].ptr, 5))
    ISA_FAIL(12, "017", "invalid interchange control version number");
  if (seg->el[13].len != 9 || !is_digits(seg->el[13].ptr, 9))
    ISA_FAIL(13, "018", "interchange control number must be 9 digits");
  if (!x12_span_eq(seg->el[14], "0") && !x12_span_eq(seg->el[14], "1"))
    ISA_FAIL(14, "019", "acknowledgment requested must be 0 or 1");
  if (!x12_span_eq(seg->el[15], "P") && !x12_span_eq(seg->el[15], "T") &&
      !x12_span_eq(seg->el[15], "I"))
    ISA_FAIL(15, "020", "usage indicator must be P, T or I");
#undef ISA_FAIL
  if (ic->ta1_status != 'R' && dup_isa(v, ic)) {
    p = x12_element_pos(seg, 13);
    ic_fail(v, "025", &p,
            "ISA13=%s at line %u: duplicate interchange control number from "
            "sender %s:%s",
            ic->isa13, p.line, ic->isa05, ic->isa06);
  }
}

static void on_iea(struct x12_validator *v, const struct x12_segment *seg) {
  struct x12_interchange_result *ic = v->ic;
  int ok;
  close_open_group(v, &seg->pos);
  long n = span_num(seg->el[1], &ok);
  struct x12_pos p = x12_element_pos(seg, 1);
  if (seg->count < 3) {
    ic_fail(v, "024", &seg->pos, "IEA at line %u: missing elements",
            seg->pos.line);
  } else if (!ok) {
    ic_fail(v, "021", &p, "IEA01 at line %u: not a number", p.line);
  } else if ((uint32_t)n != ic->ngroups) {
    if (ic->ngroups == 0 && ic->has_ta1 && n == ic->ta1_count)
      ic->warnings++; /* TA1-only interchange counting its TA1s */
    else
      ic_fail(v, "021", &p,
              "IEA01=%ld at line %u column %u but the interchange has %u "
              "functional groups",
              n, p.line, p.column, ic->ngroups);
  }
  if (seg->count >= 3) {
    char iea02[16];
    x12_span_copy(seg->el[2], iea02, sizeof(iea02));
    long a = span_num(seg->el[2], &ok);
    int ok2;
    struct x12_span s13 = {ic->isa13, (uint32_t)strlen(ic->isa13)};
    long b = span_num(s13, &ok2);
    if (!ok || !ok2 || a != b) {
      p = x12_element_pos(seg, 2);
      ic_fail(v, "001", &p,
              "IEA02=%s at line %u column %u does not match ISA13=%s", iea02,
              p.line, p.column, ic->isa13);
    }
  }
  ic->closed = 1;
  close_interchange(v);
}

static void on_gs(struct x12_validator *v, const struct x12_segment *seg,
                  const struct x12_delimiters *d) {
  struct x12_interchange_result *ic = v->ic;
  close_open_group(v, &seg->pos);
  if (ic->ngroups == ic->cap_groups) {
    uint32_t cap = ic->cap_groups ? ic->cap_groups * 2 : 2;
    void *p = realloc(ic->groups, cap * sizeof(*ic->groups));
    if (!p) {
      v->oom = 1;
      return;
    }
    ic->groups = p;
    ic->cap_groups = cap;
  }
  struct x12_group_result *g = &ic->groups[ic->ngroups++];
  memset(g, 0, sizeof(*g));
  g->pos = seg->pos;
#define CP(field, i) x12_span_copy(seg->el[i < seg->count ? i : 0], g->field, sizeof(g->field))
  CP(gs01, 1); CP(gs02, 2); CP(gs03, 3); CP(gs04, 4); CP(gs05, 5);
  CP(gs06, 6); CP(gs08, 8);
#undef CP
  if (seg->count < 9) memset(g->gs08, 0, sizeof(g->gs08));
  v->group = g;
  v->state = S_GROUP;
  if (v->st02_slots) memset(v->st02_slots, 0, v->st02_cap * sizeof(uint32_t));
  v->st02_used = 0;
  if (!(v->flags & X12_VAL_NO_ELEMENTS)) {
    const struct x12_segment_def *def = x12_segment_def_find("GS", 2);
    /* GS04 is YYMMDD before version 004010: the DT check takes both. */
    if (def) check_elements(v, seg, def, 0, d, 0);
  }
  if (seg->count > 6 && !is_digits(seg->el[6].ptr, seg->el[6].len))
    add_code(g->codes, &g->ncodes, 6);
  for (uint32_t i = 0; i + 1 < ic->ngroups; i++)
    if (strcmp(ic->groups[i].gs06, g->gs06) == 0) {
      add_code(g->codes, &g->ncodes, 19);
      break;
    }
}

static void on_ge(struct x12_validator *v, const struct x12_segment *seg) {
  struct x12_group_result *g = v->group;
  int ok;
  close_open_set(v);
  long n = span_num(seg->el[1 < seg->count ? 1 : 0], &ok);
  g->included = ok ? (uint32_t)n : 0;
  if (seg->count < 2 || !ok || (uint32_t)n != g->nsets)
    add_code(g->codes, &g->ncodes, 5);
  char ge02[16] = "";
  if (seg->count > 2) x12_span_copy(seg->el[2], ge02, sizeof(ge02));
  long a = span_num(seg->count > 2 ? seg->el[2] : seg->el[0], &ok);
  int ok2;
  struct x12_span s6 = {g->gs06, (uint32_t)strlen(g->gs06)};
  long b = span_num(s6, &ok2);
  if (!ok || !ok2 || a != b) add_code(g->codes, &g->ncodes, 4);
  g->closed = 1;
  close_group(v);
}

static int collect(struct x12_validator *v, const struct x12_segment *seg) {
  struct x12_set_segments *b = &v->segs;
  if (b->nspans + seg->count > b->cap_spans) {
    uint32_t cap = b->cap_spans ? b->cap_spans : 1024;
    while (cap < b->nspans + seg->count) cap *= 2;
    void *p = realloc(b->spans, cap * sizeof(*b->spans));
    if (!p) return -1;
    b->spans = p;
    b->cap_spans = cap;
  }
  if (b->nsegs == b->cap_segs) {
    uint32_t cap = b->cap_segs ? b->cap_segs * 2 : 128;
    void *p = realloc(b->segs, cap * sizeof(*b->segs));
    if (!p) return -1;
    b->segs = p;
    b->cap_segs = cap;
  }
  struct x12_seg_ref *r = &b->segs[b->nsegs++];
  r->first = b->nspans;
  r->count = seg->count;
  r->pos = seg->pos;
  memcpy(b->spans + b->nspans, seg->el, seg->count * sizeof(*seg->el));
  if (seg->copied) {
    /* The spans point into the tokenizer's scratch: copy the bytes. */
    if (b->ncopies == b->cap_copies) {
      uint32_t cap = b->cap_copies ? b->cap_copies * 2 : 8;
      void *p = realloc(b->copies, cap * sizeof(*b->copies));
      if (!p) return -1;
      b->copies = p;
      b->cap_copies = cap;
    }
    char *copy = malloc(seg->raw.len + 1);
    if (!copy) return -1;
    memcpy(copy, seg->raw.ptr, seg->raw.len);
    b->copies[b->ncopies++] = copy;
    for (uint32_t i = 0; i < seg->count; i++)
      b->spans[b->nspans + i].ptr = copy + (seg->el[i].ptr - seg->raw.ptr);
  }
  b->nspans += seg->count;
  return 0;
}

static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  /* FNV's low bits cluster for sequential numbers ("0001", "0002"...) and
   * the table is indexed by them: mix the high bits in (murmur3 fmix32) */
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* Records set `index` of the open group under its ST02; returns 1 when
 * that ST02 was already used in the group (ST02 must be unique there). */
static int st02_seen(struct x12_validator *v, uint32_t index) {
  struct x12_group_result *g = v->group;
  if (v->st02_used * 2 >= v->st02_cap) {
    uint32_t cap = v->st02_cap ? v->st02_cap * 2 : 64;
    uint32_t *slots = calloc(cap, sizeof(*slots));
    if (!slots) {
      v->oom = 1;
      return 0;
    }
    for (uint32_t i = 0; i < v->st02_cap; i++)
      if (v->st02_slots[i]) {
        uint32_t h = hash_str(g->sets[v->st02_slots[i] - 1].st02) & (cap - 1);
        while (slots[h]) h = (h + 1) & (cap - 1);
        slots[h] = v->st02_slots[i];
      }
    free(v->st02_slots);
    v->st02_slots = slots;
    v->st02_cap = cap;
  }
  const char *st02 = g->sets[index].st02;
  uint32_t h = hash_str(st02) & (v->st02_cap - 1);
  while (v->st02_slots[h]) {
    if (strcmp(g->sets[v->st02_slots[h] - 1].st02, st02) == 0) return 1;
    h = (h + 1) & (v->st02_cap - 1);
  }
  v->st02_slots[h] = index + 1;
  v->st02_used++;
  return 0;
}

static void on_st(struct x12_validator *v, const struct x12_segment *seg,
                  const struct x12_delimiters *d) {
  struct x12_group_result *g = v->group;
  close_open_set(v);
  if (g->nsets == g->cap_sets) {
    uint32_t cap = g->cap_sets ? g->cap_sets * 2 : 4;
    void *p = realloc(g->sets, cap * sizeof(*g->sets));
    if (!p) {
      v->oom = 1;
      return;
    }
    g->sets = p;
    g->cap_sets = cap;
  }
  struct x12_set_result *s = &g->sets[g->nsets++];
  memset(s, 0, sizeof(*s));
  s->pos = seg->pos;
  s->segments = 1;
  if (seg->count > 1) x12_span_copy(seg->el[1], s->st01, sizeof(s->st01));
  if (seg->count > 2) x12_span_copy(seg->el[2], s->st02, sizeof(s->st02));
  if (seg->count > 3) x12_span_copy(seg->el[3], s->st03, sizeof(s->st03));
  v->set = s;
  v->state = S_SET;
  v->hl_expect = 1;
  if (seg->count < 2 || seg->el[1].len != 3 ||
      !is_digits(seg->el[1].ptr, 3))
    add_code(s->codes, &s->ncodes, 6);
  if (seg->count < 3 || seg->el[2].len < 4 || seg->el[2].len > 9)
    add_code(s->codes, &s->ncodes, 7);
  if (st02_seen(v, g->nsets - 1)) add_code(s->codes, &s->ncodes, 23);
  s->def = x12_set_def_find(s->st01, strlen(s->st01));
  if (v->flags & X12_VAL_COLLECT) {
    segs_reset(&v->segs);
    v->segs.delims = *d;
    if (collect(v, seg) < 0) v->oom = 1;
  }
}

static void on_se(struct x12_validator *v, const struct x12_segment *seg) {
  struct x12_set_result *s = v->set;
  int ok;
  s->segments++;
  if ((v->flags & X12_VAL_COLLECT) && collect(v, seg) < 0) v->oom = 1;
  long n = span_num(seg->count > 1 ? seg->el[1] : seg->el[0], &ok);
  if (seg->count < 2 || !ok || (uint32_t)n != s->segments)
    add_code(s->codes, &s->ncodes, 4);
  char se02[12] = "";
  if (seg->count > 2) x12_span_copy(seg->el[2], se02, sizeof(se02));
  if (strcmp(se02, s->st02) != 0) add_code(s->codes, &s->ncodes, 3);
  close_set(v);
}

/* A segment inside ST..SE. */
static void on_body(struct x12_validator *v, const struct x12_segment *seg,
                    const struct x12_delimiters *d, uint32_t key) {
  struct x12_set_result *s = v->set;
  uint32_t position = ++s->segments;
  struct x12_span tag = seg->el[0];
  if ((v->flags & X12_VAL_COLLECT) && collect(v, seg) < 0) v->oom = 1;
  if (!key) { /* x12_tag_key is 0 for a malformed tag */
    struct x12_segment_error *e = seg_error(v, seg, position, 1);
    if (e)
      snprintf(e->message, sizeof(e->message),
               "unrecognized segment ID \"%.*s\"", (int)(tag.len > 8 ? 8 : tag.len),
               tag.ptr);
    return;
  }
  if (seg->count == 1) {
    struct x12_segment_error *e = seg_error(v, seg, position, 8);
    if (e) snprintf(e->message, sizeof(e->message), "segment has no elements");
  }
  /* HL01 must count up by one in every set that uses HL. */
  if (tag.len == 2 && tag.ptr[0] == 'H' && tag.ptr[1] == 'L' &&
      seg->count > 1) { /* cheap test first: HL is frequent */
    int ok;
    long n = span_num(seg->el[1], &ok);
    if (!ok || (uint32_t)n != v->hl_expect) {
      element_error(v, seg, position, 1, 0, 628, 7);
      if (s->nerrors)
        snprintf(s->errors[s->nerrors - 1].message,
                 sizeof(s->errors[s->nerrors - 1].message),
                 "HL01=%.*s but %u expected (HL IDs must increase by one)",
                 (int)(seg->el[1].len > 12 ? 12 : seg->el[1].len),
                 seg->el[1].ptr, v->hl_expect);
    }
    v->hl_expect = (ok ? (uint32_t)n : v->hl_expect) + 1;
  }
  if (!s->def || (v->flags & X12_VAL_NO_ELEMENTS)) return;
  const struct x12_segment_def *def = x12_segment_def_by_key(key);
  if (!def) {
    seg_error(v, seg, position, 1);
    return;
  }
  if (!((s->def->allowed[key / 8] >> (key % 8)) & 1)) {
    seg_error(v, seg, position, 2);
    return;
  }
  for (uint16_t i = 0; i < s->def->nmandatory && i < 32; i++)
    if (s->def->mandatory_keys[i] == key) v->mandatory_seen |= 1u << i;
  /* the clean common case without the call (check_elements repeats the
   * same test for its other callers) */
  if (!seg->flags && !(v->flags & X12_VAL_GENERIC) && elements_clean(seg, def))
    return;
  /* v5010 only matters for separators inside elements (seg->flags) */
  check_elements(v, seg, def, position, d, seg->flags ? v5010(v) : 0);
}

static void stray(struct x12_validator *v, const struct x12_segment *seg,
                  const char *what) {
  char tag[8];
  x12_span_copy(seg->el[0], tag, sizeof(tag));
  for (char *c = tag; *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
  ic_fail(v, "024", &seg->pos, "segment \"%s\" at line %u column %u: %s", tag,
          seg->pos.line, seg->pos.column, what);
}

int x12_validator_segment(struct x12_validator *v,
                          const struct x12_segment *seg,
                          const struct x12_delimiters *d) {
  struct x12_span tag = seg->el[0];
  if (seg->trailing_empty && v->ic) v->ic->warnings++;
  if (seg->is_isa) {
    on_isa(v, seg, d);
    return v->oom ? -1 : 0;
  }
  if (!v->ic) {
    /* Data after an IEA and before the next ISA: report it on a fresh,
     * empty interchange so it is never silently dropped. */
    struct x12_interchange_result *ic = calloc(1, sizeof(*ic));
    if (!ic) return -1;
    v->ic = ic;
    ic->pos = seg->pos;
    ic->delims = *d;
    memcpy(ic->ta1_code, "000", 4);
    ic->ta1_status = 'A';
    stray(v, seg, "data outside an interchange (no ISA)");
    close_interchange(v);
    return 0;
  }
  uint32_t key = x12_tag_key(tag.ptr, tag.len);
  if (v->state == S_SET && key != X12_KEY('S', 'E', 0) &&
      key != X12_KEY('S', 'T', 0) && key != X12_KEY('G', 'E', 0) &&
      key != X12_KEY('G', 'S', 0) && key != X12_KEY('I', 'E', 'A')) {
    on_body(v, seg, d, key); /* the hot path */
    return v->oom ? -1 : 0;
  }
  switch (key) {
  case X12_KEY('I', 'E', 'A'):
    on_iea(v, seg);
    break;
  case X12_KEY('G', 'S', 0):
    on_gs(v, seg, d);
    break;
  case X12_KEY('G', 'E', 0):
    if (v->state == S_GROUP || v->state == S_SET)
      on_ge(v, seg);
    else
      stray(v, seg, "GE without GS");
    break;
  case X12_KEY('S', 'T', 0):
    if (v->state == S_GROUP || v->state == S_SET) {
      v->mandatory_seen = 0;
      on_st(v, seg, d);
    } else {
      stray(v, seg, "ST outside a functional group");
    }
    break;
  case X12_KEY('S', 'E', 0):
    if (v->state == S_SET) {
      const struct x12_set_def *def = v->set->def;
      if (def && !(v->flags & X12_VAL_NO_ELEMENTS))
        for (uint16_t i = 0; i < def->nmandatory && i < 32; i++)
          if (!(v->mandatory_seen & (1u << i))) {
            struct x12_segment_error *e =
                seg_error(v, seg, v->set->segments + 1, 3);
            if (e) {
              memcpy(e->id, def->mandatory[i], 4);
              snprintf(e->message, sizeof(e->message),
                       "mandatory segment %s missing in %s set ST02=%s",
                       def->mandatory[i], def->id, v->set->st02);
            }
          }
      on_se(v, seg);
    } else {
      stray(v, seg, "SE without ST");
    }
    break;
  case X12_KEY('T', 'A', '1'):
    if (v->state != S_ISA) {
      stray(v, seg, "TA1 after a functional group");
      break;
    }
    {
      struct x12_interchange_result *ic = v->ic;
      if (ic->ta1_count < 4) {
        int k = ic->ta1_count;
        x12_span_copy(seg->el[1 < seg->count ? 1 : 0], ic->ta1s[k].isa13, 10);
        if (seg->count > 5) {
          x12_span_copy(seg->el[2], ic->ta1s[k].date, 7);
          x12_span_copy(seg->el[3], ic->ta1s[k].time, 5);
          ic->ta1s[k].status = seg->el[4].len ? seg->el[4].ptr[0] : '?';
          x12_span_copy(seg->el[5], ic->ta1s[k].code, 4);
        }
      }
      ic->ta1_count++;
      ic->has_ta1 = 1;
      const struct x12_segment_def *def = x12_segment_def_find("TA1", 3);
      if (def && !(v->flags & X12_VAL_NO_ELEMENTS))
        check_elements(v, seg, def, 0, d, 0);
    }
    break;
  case X12_KEY('I', 'S', 'B'):
  case X12_KEY('I', 'S', 'E'):
    if (v->state != S_ISA) stray(v, seg, "unexpected after a functional group");
    /* optional interchange service segments: accepted */
    break;
  default:
    if (seg->count == 1)
      stray(v, seg, "segment has no elements, outside a transaction set");
    else
      stray(v, seg, "unexpected outside a transaction set");
  }
  return v->oom ? -1 : 0;
}

void x12_validator_syntax_error(struct x12_validator *v,
                                const struct x12_tokenizer *t) {
  if (!v->ic) {
    struct x12_interchange_result *ic = calloc(1, sizeof(*ic));
    if (!ic) {
      v->oom = 1;
      return;
    }
    v->ic = ic;
    ic->pos = t->error_pos;
    memcpy(ic->ta1_code, "000", 4);
    ic->ta1_status = 'A';
  }
  close_open_group(v, &t->error_pos);
  ic_fail(v, x12_tok_error_ta1(t->error), &t->error_pos,
          "line %u column %u (byte %llu): %s", t->error_pos.line,
          t->error_pos.column, (unsigned long long)t->error_pos.offset,
          t->message);
  close_interchange(v);
}

void x12_validator_finish(struct x12_validator *v) {
  if (!v->ic) return;
  struct x12_pos end = v->ic->pos;
  close_open_group(v, &end);
  ic_fail(v, "023", &end,
          "interchange ISA13=%s (line %u) ends without IEA (premature end "
          "of input)",
          v->ic->isa13, v->ic->pos.line);
  close_interchange(v);
}
