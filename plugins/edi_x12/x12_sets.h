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
};

struct x12_segment_def {
  char id[4];
  uint8_t count; /* defined elements */
  uint8_t complete; /* elements past count are an error (723 code 3) */
  struct x12_element_def *el; /* el[0] is element 01 */
};

struct x12_set_def {
  char id[4];        /* ST01 */
  char gs01[3];      /* functional identifier the set belongs to */
  const char *name;
  uint16_t nsegments;
  char (*segments)[4];  /* segment ids allowed in the set (besides ST/SE) */
  uint16_t nmandatory;
  char (*mandatory)[4]; /* segment ids that must appear */
};

/* Compiles the tables once; returns 0 or -1 (out of memory). */
int x12_sets_load(void);
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
