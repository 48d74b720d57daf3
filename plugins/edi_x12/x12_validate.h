/* x12_validate.h - envelope and element validation of X12 interchanges.
 *
 * A push validator: feed it the tokenizer's segments in order; it checks
 * ISA/IEA, GS/GE and ST/SE structure, counts and control numbers, the
 * uniqueness rules (ISA13 per partner over time through a caller hook,
 * GS06 within the interchange, ST02 within the group) and, for the
 * transaction sets defined in x12_sets.c, every element (mandatory, length,
 * characters, dates, times, code lists, N2 digits). It records the outcome
 * in the shapes the acknowledgments need (TA1 note code; AK9/AK905 per
 * group; AK5/AK502, AK3/AK304 and AK4/AK403 per set) and calls back:
 *   on_set         when a set closes (SE or a premature end), with the
 *                  set's segments when collection is on (for mapping);
 *   on_interchange when an interchange closes (IEA or the end of input).
 * Memory stays bounded per interchange: results keep control numbers and
 * errors, never the segments (the set buffer is reused).
 */
#ifndef X12_VALIDATE_H
#define X12_VALIDATE_H

#include "x12_sets.h"
#include "x12_tokenizer.h"

/* One element error (AK4 / IK4). */
struct x12_element_error {
  uint16_t element;   /* position in the segment (1-based) */
  uint16_t component; /* 0 or 1-based component */
  uint16_t ref;       /* data element reference number, 0 if none */
  uint8_t code;       /* 723 code: 1..13 */
  char bad[32];       /* copy of the bad value (truncated) */
  struct x12_pos pos;
};

/* One segment error (AK3 / IK3) with its element errors. */
struct x12_segment_error {
  char id[4];
  uint32_t position; /* in the set, ST = 1 */
  uint8_t code;      /* 720 code; 8 when only element errors */
  struct x12_pos pos;
  uint16_t nelements;
  struct x12_element_error elements[6];
  char message[160]; /* human text naming the fault */
};

struct x12_set_result {
  char st01[4];
  char st02[10];
  char st03[36];
  char status;      /* AK501: 'A' or 'R' */
  uint8_t codes[5]; /* AK502..AK506 (718) */
  uint8_t ncodes;
  uint32_t segments; /* counted, ST..SE inclusive */
  struct x12_pos pos;
  const struct x12_set_def *def; /* NULL: set not supported for elements */
  struct x12_segment_error *errors; /* owned; NULL when none */
  uint16_t nerrors;
  uint16_t cap_errors;
  uint32_t dropped_errors; /* beyond the cap: counted only */
};

struct x12_group_result {
  char gs01[3];
  char gs02[16];
  char gs03[16];
  char gs04[9];
  char gs05[9];
  char gs06[10];
  char gs08[13];
  char status;      /* AK901: A, P, R */
  uint8_t codes[5]; /* AK905..AK909 (716) */
  uint8_t ncodes;
  uint32_t included; /* GE01 */
  uint32_t received;
  uint32_t accepted;
  struct x12_pos pos;
  struct x12_set_result *sets; /* owned */
  uint32_t nsets;
  uint32_t cap_sets;
  int closed; /* GE seen */
};

struct x12_interchange_result {
  char isa01[3], isa02[11], isa03[3], isa04[11];
  char isa05[3], isa06[16], isa07[3], isa08[16];
  char isa09[7], isa10[5], isa11[2], isa12[6], isa13[10];
  char isa14[2], isa15[2];
  struct x12_delimiters delims;
  char ta1_code[4];  /* TA105: "000" when fine */
  char ta1_status;   /* TA104: A, E, R */
  struct x12_pos pos;
  struct x12_pos error_pos;
  char message[256]; /* first interchange-level error, "" if none */
  struct x12_group_result *groups; /* owned */
  uint32_t ngroups;
  uint32_t cap_groups;
  int has_ta1;       /* a TA1 segment was received in it */
  int ta1_count;
  struct { char isa13[10]; char date[7]; char time[5]; char status; char code[4]; } ta1s[4];
  int closed; /* IEA seen */
  uint32_t warnings;
};

/* The segments of one set, collected for mapping (spans into the input or
 * into copies owned by the buffer). */
struct x12_set_segments {
  struct x12_span *spans;
  uint32_t nspans, cap_spans;
  struct x12_seg_ref {
    uint32_t first; /* index into spans; spans[first] is the tag */
    uint32_t count;
    struct x12_pos pos;
  } *segs;
  uint32_t nsegs, cap_segs;
  char **copies; /* wrapped segments copied out of the scratch */
  uint32_t ncopies, cap_copies;
  struct x12_delimiters delims;
};

struct x12_validator_ops {
  /* Duplicate check of ISA13 for the sender over time. Returns 1 when
   * this (qualifier, sender, ISA13) was seen before (then it is NOT
   * recorded again), 0 when new (and records it), -1 on error. NULL: only
   * duplicates within one input are found. */
  int (*isa_seen)(void *ctx, const char *qualifier, const char *sender,
                  const char *isa13);
  /* A set closed. segs is NULL unless collection is on. */
  void (*on_set)(void *ctx, const struct x12_interchange_result *ic,
                 const struct x12_group_result *group,
                 const struct x12_set_result *set,
                 const struct x12_set_segments *segs);
  /* An interchange closed; the result is freed after the call. */
  void (*on_interchange)(void *ctx, struct x12_interchange_result *ic);
};

enum x12_validator_flags {
  X12_VAL_COLLECT = 1u << 0,  /* keep each set's segments for on_set */
  X12_VAL_NO_ELEMENTS = 1u << 1, /* envelope only */
  X12_VAL_GENERIC = 1u << 2 /* always the generic element walk, never the
                               fast path (tests compare the two) */
};

struct x12_validator {
  struct x12_validator_ops ops;
  void *ctx;
  unsigned flags;
  int state; /* where we are in the envelope */
  struct x12_interchange_result *ic; /* open interchange or NULL */
  struct x12_group_result *group;    /* open group (in ic->groups) */
  struct x12_set_result *set;        /* open set (in group->sets) */
  struct x12_set_segments segs;
  uint32_t hl_expect; /* next HL01 */
  uint32_t mandatory_seen; /* bit i: set def's mandatory[i] seen */
  /* ST02s of the open group: open addressing, set index + 1 (0 empty) */
  uint32_t *st02_slots;
  uint32_t st02_cap, st02_used;
  /* ISA13s seen in this input, for duplicates when isa_seen is NULL */
  char (*seen)[48];
  uint32_t nseen, cap_seen;
  uint32_t interchanges; /* closed so far */
  int oom;
};

void x12_validator_init(struct x12_validator *v,
                        const struct x12_validator_ops *ops, void *ctx,
                        unsigned flags);
/* Frees everything the validator owns (an open interchange included). */
void x12_validator_release(struct x12_validator *v);
/* Feeds one segment; d: the tokenizer's current delimiters. Returns 0, or
 * -1 on out of memory. Faults in the input are recorded, never returned. */
int x12_validator_segment(struct x12_validator *v,
                          const struct x12_segment *seg,
                          const struct x12_delimiters *d);
/* The tokenizer failed: records the syntax error on the open interchange
 * (or a fresh one) with its TA1 code and closes it. */
void x12_validator_syntax_error(struct x12_validator *v,
                                const struct x12_tokenizer *t);
/* End of input: closes whatever is open (premature end: TA1 023, AK905 3,
 * AK502 2). */
void x12_validator_finish(struct x12_validator *v);

/* Nonzero if p (n bytes) is a valid CCYYMMDD/YYMMDD date, or HHMM[SS[d..]]
 * time. */
int x12_valid_date(const char *p, uint32_t n);
int x12_valid_time(const char *p, uint32_t n);

/* Frees a result's owned arrays (not the struct itself). */
void x12_interchange_result_clear(struct x12_interchange_result *ic);

/* Nonzero if the interchange, group or set was accepted. */
int x12_interchange_ok(const struct x12_interchange_result *ic);

/* Text of a 723 / 720 / 718 / 716 code, for messages. */
const char *x12_element_error_text(int code);
const char *x12_segment_error_text(int code);
const char *x12_set_error_text(int code);
const char *x12_group_error_text(int code);
const char *x12_ta1_text(const char *code);

#endif
