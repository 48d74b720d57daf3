/* x12_ack.h - acknowledgments generated from validation results: TA1
 * (interchange), 997 (004010) and 999 (005010X231).
 *
 * Codes per error class (see x12_validate.c for where each is raised):
 *   TA105 (I18): 001 IEA02!=ISA13, 004-027 ISA field and delimiter faults,
 *                021 IEA01 count, 023 premature end, 024 bad content
 *                (stray segment, bad GS, missing GE), 025 duplicate ISA13.
 *   AK905/716:   3 GE missing, 4 GE02!=GS06, 5 GE01 count, 6 GS06 syntax,
 *                19 GS06 not unique in the interchange.
 *   AK502/718:   2 SE missing (with 3), 3 SE02!=ST02, 4 SE01 count,
 *                5 segments in error, 6 bad ST01, 7 bad ST02, 23 ST02 not
 *                unique in the group.
 *   AK304/720:   1 unrecognized segment, 2 unexpected in this set,
 *                3 mandatory segment missing, 8 element errors.
 *   AK403/723:   1 mandatory, 4 short, 5 long, 6 bad character, 7 code,
 *                8 date, 9 time, 12 repetitions and 13 components (5010).
 * An interchange rejected at the TA1 level gets a TA1 only; functional
 * acknowledgment groups (GS01 FA) are never acknowledged.
 */
#ifndef X12_ACK_H
#define X12_ACK_H

#include "x12_validate.h"
#include "x12_writer.h"

enum x12_ack_kind {
  X12_ACK_NONE = 0,
  X12_ACK_997 = 1,
  X12_ACK_999 = 2,
  X12_ACK_AUTO = 3 /* 999 for 005010 groups, 997 otherwise */
};

struct x12_ack_options {
  int kind;       /* enum x12_ack_kind */
  int ta1;        /* nonzero: TA1 when ISA14=1 or the interchange failed */
  const char *our_qual, *our_id; /* NULL: the inbound ISA07/ISA08 */
  long isa13;     /* control numbers of the ack interchange and group */
  long gs06;
  const char *date8; /* CCYYMMDD of the ack */
  const char *time4; /* HHMM */
};

/* Writes the acknowledgment interchange for ic into w. Returns 1 when an
 * interchange was written, 0 when nothing needs acknowledging, -1 when out
 * of memory. Thread-safe (no shared state). */
int x12_ack_build(const struct x12_interchange_result *ic,
                  const struct x12_ack_options *o, struct x12_writer *w);

#endif
