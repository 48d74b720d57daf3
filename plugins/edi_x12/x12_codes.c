/* x12_codes.c - see x12_codes.h. Tables follow the AT7 table of
 * DOMAIN-CARRIER-FLEET-BILLING.md §2.6 and the X12 004010 code lists. */
#include "x12_codes.h"

#include <string.h>

static const struct x12_code at7_status[] = {
    {"XB", "pending", "Shipment Acknowledged"},
    {"X3", "arrived_pickup", "Arrived at Pick-up Location"},
    {"X8", "arrived_pickup", "Arrived at Pick-up Location Loading Dock"},
    {"L1", "loading_started", "Loading"},
    {"CP", "loaded", "Completed Loading at Pick-up Location"},
    {"AF", "departed_pickup", "Carrier Departed Pick-up Location with Shipment"},
    {"X6", "in_transit", "En Route to Delivery Location"},
    {"X4", "in_transit", "Arrived at Terminal Location"},
    {"P1", "in_transit", "Departed Terminal Location"},
    {"X2", "eta_updated", "Estimated Date and/or Time of Arrival at Consignee's Location"},
    {"AG", "eta_updated", "Estimated Delivery"},
    {"X1", "arrived_delivery", "Arrived at Delivery Location"},
    {"X5", "arrived_delivery", "Arrived at Delivery Location Loading Dock"},
    {"S1", "arrived_delivery", "Trailer Spotted at Consignee's Location"},
    {"D1", "delivered", "Completed Unloading at Delivery Location"},
    {"CD", "departed_delivery", "Carrier Departed Delivery Location"},
    {"AH", "delivery_failed", "Attempted Delivery"},
    {"A7", "delivery_failed", "Refused by Consignee"},
    {"A9", "on_hold", "Shipment Damaged"},
    {"A3", "return_to_sender", "Shipment Returned to Shipper"},
    {"SD", "delivery_delayed", "Shipment Delayed"},
    {"CA", "cancelled", "Shipment Cancelled"},
    {"AI", "in_transit", "Shipment has been Reconsigned"},
    {"I1", "in_transit", "In-Gate"},
    {"OA", "in_transit", "Out-Gate"},
};

static const struct x12_code at7_appointment[] = {
    {"AA", "appointment_set", "Pick-up Appointment Date and/or Time"},
    {"AB", "appointment_set", "Delivery Appointment Date and/or Time"},
};

static const struct x12_code at7_reason[] = {
    {"NS", "normal", "Normal Status"},
    {"A1", "consignee_not_available", "Missed Delivery"},
    {"A2", "carrier_address_not_found", "Incorrect Address"},
    {"AG", "consignee_not_available", "Consignee Related"},
    {"AH", "carrier_not_enough_time", "Driver Related"},
    {"AI", "carrier_mechanical_delay", "Mechanical Breakdown"},
    {"AO", "weather_delay", "Weather or Natural Disaster Related"},
    {"B1", "consignee_business_closed", "Consignee Closed"},
    {"BS", "consignee_refused", "Refused by Customer"},
    {"AJ", "carrier_capacity_exceeded", "Other Carrier Related"},
    {"AM", "consignee_not_available", "Shipper Related"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct x12_code *find(const struct x12_code *t, size_t n,
                                   const char *code) {
  if (!code) return NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].code, code) == 0) return &t[i];
  return NULL;
}

const struct x12_code *x12_at7_status(const char *code) {
  return find(at7_status, N(at7_status), code);
}
const struct x12_code *x12_at7_appointment(const char *code) {
  return find(at7_appointment, N(at7_appointment), code);
}
const struct x12_code *x12_at7_reason(const char *code) {
  return find(at7_reason, N(at7_reason), code);
}

static const struct x12_code roles[] = {
    {"ST", "ship_to", NULL},    {"BT", "bill_to", NULL},
    {"BY", "buyer", NULL},      {"SF", "ship_from", NULL},
    {"SH", "shipper", NULL},    {"CN", "consignee", NULL},
    {"VN", "vendor", NULL},     {"SU", "supplier", NULL},
    {"RE", "remit_to", NULL},   {"SE", "seller", NULL},
    {"PR", "payer", NULL},      {"OB", "buyer", NULL},
    {"CA", "carrier", NULL},    {"SO", "sold_to", NULL},
    {"II", "seller", NULL},     {"FW", "forwarder", NULL},
    {"N1", "notify", NULL},     {"PF", "buyer", NULL},
};

const char *x12_party_role(const char *code) {
  const struct x12_code *c = find(roles, N(roles), code);
  return c ? c->canonical : NULL;
}

const char *x12_party_code(const char *role) {
  for (size_t i = 0; role && i < N(roles); i++)
    if (strcmp(roles[i].canonical, role) == 0) return roles[i].code;
  return NULL;
}

static const struct x12_code purposes[] = {
    {"00", "original", NULL},     {"01", "cancellation", NULL},
    {"04", "change", NULL},       {"05", "replace", NULL},
    {"06", "confirmation", NULL}, {"07", "duplicate", NULL},
    {"14", "advance_notification", NULL},
};

const char *x12_purpose(const char *code) {
  const struct x12_code *c = find(purposes, N(purposes), code);
  return c ? c->canonical : NULL;
}

const char *x12_purpose_code(const char *purpose) {
  for (size_t i = 0; purpose && i < N(purposes); i++)
    if (strcmp(purposes[i].canonical, purpose) == 0) return purposes[i].code;
  return NULL;
}

static const struct x12_code charges[] = {
    {"400", NULL, "Freight"},         {"405", NULL, "Fuel Surcharge"},
    {"FUE", NULL, "Fuel Charge"},     {"DSC", NULL, "Discount"},
    {"DET", NULL, "Detention"},       {"LFT", NULL, "Lift Gate"},
    {"RES", NULL, "Residential Delivery"}, {"INS", NULL, "Insurance"},
    {"HAZ", NULL, "Hazardous Material"},   {"SOC", NULL, "Stop-off Charge"},
    {"TAX", NULL, "Tax"},             {"GST", NULL, "Goods and Services Tax"},
    {"MIN", NULL, "Minimum Charge"},
};

const char *x12_charge_text(const char *code) {
  const struct x12_code *c = find(charges, N(charges), code);
  return c ? c->text : NULL;
}

static const struct x12_code line_ack[] = {
    {"IA", "accepted", NULL},    {"IB", "backordered", NULL},
    {"IC", "changed", NULL},     {"ID", "deleted", NULL},
    {"IR", "rejected", NULL},    {"IQ", "changed", NULL},
    {"IP", "changed", NULL},     {"IS", "substituted", NULL},
    {"AC", "accepted", NULL},    {"R2", "rejected", NULL},
};

const char *x12_line_ack_status(const char *code) {
  const struct x12_code *c = find(line_ack, N(line_ack), code);
  return c ? c->canonical : "unknown";
}

static const struct x12_code order_ack[] = {
    {"AC", "accepted_with_changes", NULL}, {"AD", "accepted", NULL},
    {"AE", "accepted_with_exceptions", NULL}, {"AK", "accepted", NULL},
    {"AP", "accepted", NULL},             {"RD", "rejected", NULL},
    {"RJ", "rejected", NULL},             {"RF", "rejected", NULL},
};

const char *x12_order_ack_type(const char *code) {
  const struct x12_code *c = find(order_ack, N(order_ack), code);
  return c ? c->canonical : "unknown";
}

static const struct {
  const char *code;
  int minutes;
  int dst;
} tcodes[] = {
    {"UT", 0, 0},     {"GM", 0, 0},     {"Z", 0, 0},
    {"ET", -300, 1},  {"ES", -300, 0},  {"ED", -240, 0},
    {"CT", -360, 1},  {"CS", -360, 0},  {"CD", -300, 0},
    {"MT", -420, 1},  {"MS", -420, 0},  {"MD", -360, 0},
    {"PT", -480, 1},  {"PS", -480, 0},  {"PD", -420, 0},
    {"AT", -240, 1},  {"AS", -240, 0},  {"AD", -180, 0},
    {"HT", -600, 0},  {"HS", -600, 0},
    {"NT", -210, 1},  {"NS", -210, 0},  {"ND", -150, 0},
};

int x12_time_code_offset(const char *code, int *minutes, int *dst_rule) {
  for (size_t i = 0; code && i < N(tcodes); i++)
    if (strcmp(tcodes[i].code, code) == 0) {
      *minutes = tcodes[i].minutes;
      *dst_rule = tcodes[i].dst;
      return 0;
    }
  return -1;
}
