/* x12_encode.h - canonical message bodies -> X12 interchanges.
 *
 * Supported: dray.invoice.finalized.v1 and dray.invoice.received.v1 -> 810,
 * dray.shipment.tendered.v1 -> 204, dray.shipment.tender_response.v1 ->
 * 990, dray.order.created.v1 -> 850, dray.shipment.milestone.v1 -> 214.
 * Each call writes one complete interchange (ISA/GS/ST..SE/GE/IEA) with the
 * caller's control numbers and delimiters; counts (SE01, GE01, IEA01) are
 * computed. Thread-safe (no shared state).
 */
#ifndef X12_ENCODE_H
#define X12_ENCODE_H

#include "x12_writer.h"

struct x12_encode_options {
  const char *sender_qual, *sender_id;     /* ISA05/06, GS02 */
  const char *receiver_qual, *receiver_id; /* ISA07/08, GS03 */
  const char *isa_version;                 /* "00401" */
  const char *gs_version;                  /* "004010" */
  char usage;                              /* 'P' or 'T' */
  int ack_requested;                       /* ISA14 */
  long isa13, gs06, st02;                  /* control numbers */
  const char *date8, *time4;               /* CCYYMMDD, HHMM */
};

/* X12 set id that encodes canonical `type`, or NULL if unsupported. */
const char *x12_encode_set_for_type(const char *type);

/* Encodes body (JSON text of canonical `type`) into w. Returns 0, or -1
 * with a message naming the JSON path in err. */
int x12_encode(const char *type, const char *body, size_t len,
               const struct x12_encode_options *o, struct x12_writer *w,
               char *err, size_t err_size);

#endif
