/* x12_codes.h - code tables between X12 code lists and the canonical
 * vocabulary (data, not logic): AT7 statuses and reasons, party roles,
 * purposes, charge codes, X12 time codes. Lookups are linear over small
 * static tables; all thread-safe. */
#ifndef X12_CODES_H
#define X12_CODES_H

#include <stddef.h>

struct x12_code {
  const char *code;
  const char *canonical;
  const char *text;
};

/* AT701 shipment status -> canonical milestone status (NULL if unknown). */
const struct x12_code *x12_at7_status(const char *code);
/* AT703 appointment status (AA/AB ...) -> canonical. */
const struct x12_code *x12_at7_appointment(const char *code);
/* AT702/AT704 reason -> canonical reason. */
const struct x12_code *x12_at7_reason(const char *code);
/* N101 entity code -> canonical party role ("ship_to", ...). */
const char *x12_party_role(const char *code);
/* Inverse: canonical role -> N101 (NULL if none). */
const char *x12_party_code(const char *role);
/* BEG01/BSN01/B2A01 purpose -> canonical ("original", ...). */
const char *x12_purpose(const char *code);
const char *x12_purpose_code(const char *purpose);
/* L108 / SAC02-style special charge code -> description. */
const char *x12_charge_text(const char *code);
/* ACK01 line status and BAK02 acknowledgment type -> canonical. */
const char *x12_line_ack_status(const char *code);
const char *x12_order_ack_type(const char *code);
/* X12 time code (AT707, G6205 ...) -> fixed UTC offset in minutes, with
 * *dst_rule set when the code is a generic US zone (ET, CT, MT, PT) whose
 * offset depends on daylight saving time. Returns 0, or -1 when unknown
 * or local (LT). */
int x12_time_code_offset(const char *code, int *minutes, int *dst_rule);

#endif
