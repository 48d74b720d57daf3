/* x12_sets.h - data-driven definitions of the X12 segments and transaction
 * sets this plugin validates (004010 base; 005010 acks).
 *
 * The definitions are written as compact text tables in x12_sets.c (one
 * line per segment: element reference, requirement, type, min/max length,
 * optional code list) and compiled once, on first use, into the structs
 * below. Thread-safe after x12_sets_load() (pthread_once).
 */
#ifndef X12_SETS_H
#define X12_SETS_H

#include <stddef.h>
#include <stdint.h>

enum x12_el_type {
  X12_T_AN = 1, /* string */
  X12_T_ID,     /* identifier (code) */
  X12_T_N0,     /* integer */
  X12_T_N1,
  X12_T_N2,     /* implied 2 decimals: "5165" = 51.65 */
  X12_T_R,      /* decimal with explicit point */
  X12_T_DT,     /* date CCYYMMDD (or YYMMDD when max is 6) */
  X12_T_TM,     /* time HHMM[SS[d..]] */
  X12_T_COMP    /* composite: components not checked individually */
};

struct x12_element_def {
  uint16_t ref;   /* data element reference number (AK402/IK402) */
  uint8_t mandatory;
  uint8_t type;   /* enum x12_el_type */
  uint16_t min;
  uint16_t max;
  uint8_t repeat; /* nonzero: repetitions allowed */
  uint16_t ncodes;
  const char *const *codes; /* the code list we map, sorted; NULL: any */
  /* The same list as x12_code_key() values, for the validator's fast
   * path; NULL when there is no list or a code is longer than 3 bytes. */
  const uint32_t *code_keys;
};

struct x12_segment_def {
  char id[4];
  uint8_t count; /* defined elements */
  uint8_t complete; /* elements past count are an error (723 code 3) */
  uint8_t last_mandatory; /* position of the last mandatory element, 0: none */
  struct x12_element_def *el; /* el[0] is element 01 */
};

/* A code of 1 to 3 bytes as one integer (length in the low byte, then the
 * bytes), so a code list is searched with integer compares; 0 for an
 * empty or longer code, which no key list holds. */
static inline uint32_t x12_code_key(const char *p, size_t len) {
  uint32_t k = (uint32_t)len;
  if (len == 0 || len > 3) return 0;
  for (size_t i = 0; i < len; i++)
    k |= (uint32_t)(unsigned char)p[i] << (8 * (i + 1));
  return k;
}

/* Segment tags as small integers: [A-Z][A-Z0-9][A-Z0-9]? -> 1..X12_TAG_KEYS-1;
 * 0 for anything else. Used for O(1) lookups on the hot path. */
#define X12_TAG_KEYS (26 * 37 * 37)
static inline uint32_t x12_tag_key(const char *t, size_t len) {
  uint32_t k[3] = {0, 0, 0};
  if (len < 2 || len > 3 || t[0] < 'A' || t[0] > 'Z') return 0;
  for (size_t i = 1; i < len; i++) {
    char c = t[i];
    if (c >= 'A' && c <= 'Z')
      k[i] = (uint32_t)(c - 'A' + 11);
    else if (c >= '0' && c <= '9')
      k[i] = (uint32_t)(c - '0' + 1);
    else
      return 0;
  }
  return (uint32_t)(t[0] - 'A') * 37 * 37 + k[1] * 37 + k[2];
}

/* The same key at compile time, for tags in switch statements. */
#define X12_KC(c) ((c) >= 'A' ? (c) - 'A' + 11 : (c) >= '0' ? (c) - '0' + 1 : 0)
#define X12_KEY(a, b, c) (((a) - 'A') * 37 * 37 + X12_KC(b) * 37 + X12_KC(c))

struct x12_set_def {
  char id[4];        /* ST01 */
  char gs01[3];      /* functional identifier the set belongs to */
  const char *name;
  uint16_t nsegments;
  char (*segments)[4];  /* segment ids allowed in the set (besides ST/SE) */
  uint16_t nmandatory;
  char (*mandatory)[4]; /* segment ids that must appear */
  uint8_t *allowed;     /* bitmap over x12_tag_key */
  uint32_t *mandatory_keys;
};

/* Compiles the tables once; returns 0 or -1 (out of memory). */
int x12_sets_load(void);
/* The compiled dictionary (x12_sets.c), for the inline lookup below. */
extern struct x12_segment_def x12_segment_defs[];
extern uint8_t x12_segment_index[X12_TAG_KEYS]; /* index + 1, 0: none */

/* Segment definition by tag key (x12_tag_key), or NULL. Inline: the
 * validator asks once per segment. */
static inline const struct x12_segment_def *x12_segment_def_by_key(
    uint32_t key) {
  if (!key || key >= X12_TAG_KEYS) return NULL;
  uint8_t i = x12_segment_index[key];
  return i ? &x12_segment_defs[i - 1] : NULL;
}
/* Segment definition by tag, or NULL when the tag is unknown. */
const struct x12_segment_def *x12_segment_def_find(const char *tag,
                                                   size_t len);
/* Transaction set definition by ST01, or NULL (set not supported for
 * element validation; the envelope is still checked). */
const struct x12_set_def *x12_set_def_find(const char *st01, size_t len);
/* Nonzero if the set allows segment `tag`. */
int x12_set_allows(const struct x12_set_def *set, const char *tag,
                   size_t len);
/* Nonzero if code (len bytes) is in the element's code list (or the list
 * is empty). */
int x12_element_code_ok(const struct x12_element_def *def, const char *code,
                        size_t len);

#endif
