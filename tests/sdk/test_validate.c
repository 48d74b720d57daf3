/* test_validate.c - the canonical message validator (dray-sdk/validate.h)
 * against documents built here, and the golden events in events/.
 *
 * JSON in this file is written with single quotes for readability; q()
 * turns them into double quotes (no test string contains an apostrophe).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray-sdk/mock_host.h"
#include "dray-sdk/validate.h"
#include <dray/host.h>

static char err[512];

/* Converts single-quoted test JSON to JSON; the result is static and
 * valid until the next call. */
static const char *q(const char *s) {
  static char buf[8192];
  size_t n = strlen(s);
  assert_true(n < sizeof buf);
  for (size_t i = 0; i <= n; i++)
    buf[i] = s[i] == '\'' ? '"' : s[i];
  return buf;
}

static int body(const char *type, const char *sq_json) {
  const char *json = q(sq_json);
  err[0] = '\0';
  return dray_validate_body(type, json, strlen(json), err, sizeof err);
}

static int event_json(const char *json) {
  err[0] = '\0';
  return dray_validate_event(json, strlen(json), err, sizeof err);
}

static int event(const char *sq_json) { return event_json(q(sq_json)); }

static int body_obj(const char *type, json_object *obj) {
  const char *json = json_object_to_json_string_ext(obj,
                                                    JSON_C_TO_STRING_PLAIN);
  err[0] = '\0';
  return dray_validate_body(type, json, strlen(json), err, sizeof err);
}

/* The smallest valid body of each object, and a type that carries it. */
static const struct {
  const char *object;
  const char *type;
  const char *minimal;
} objects[] = {
    {"order", "dray.order.created.v1",
     "{'id':'01JD8Q3V7K4N2M5P6R8S9T0VWY','order_no':'4500012345'}"},
    {"shipment", "dray.shipment.created.v1", "{'id':'SHP-1'}"},
    {"stop", "dray.stop.updated.v1", "{'id':'SHP-1/1'}"},
    {"milestone", "dray.shipment.milestone.v1",
     "{'id':'M1','shipment_id':'SHP-1','status':'delivered',"
     "'raw':{'system':'carrier:ups','code':'D'},"
     "'occurred_at':'2026-03-02T14:05:00Z'}"},
    {"position", "dray.position.reported.v1",
     "{'device_id':'356938035643809','fix_time':'2026-03-02T14:05:00Z',"
     "'lat':32.7767,'lon':-96.897}"},
    {"vehicle_event", "dray.vehicle_event.reported.v1",
     "{'id':'E1','type':'ignition_on','occurred_at':'2026-03-02T14:05:00Z'}"},
    {"charge", "dray.charge.rated.v1",
     "{'id':'C1','code':'fuel','amount_minor':5564,'currency':'USD'}"},
    {"invoice", "dray.invoice.finalized.v1",
     "{'id':'I1','type':'invoice','status':'draft','currency':'EUR'}"},
    {"erp_posting", "dray.erp_posting.created.v1",
     "{'id':'P1','invoice_id':'I1','target':'sap','external_key':'I1',"
     "'status':'pending'}"},
    {"ack", "dray.ack.received.v1",
     "{'ref_event_id':'01JD8Q3V7K4N2M5P6R8S9T0VWX','status':'accepted'}"},
};
#define N_OBJECTS (sizeof objects / sizeof objects[0])

static json_object *parse_sq(const char *sq_json) {
  json_object *obj = json_tokener_parse(q(sq_json));
  assert_non_null(obj);
  return obj;
}

/* ---- type table ------------------------------------------------------ */

static void test_every_canonical_type_maps_to_its_object_schema(void **s) {
  (void)s;
  static const char *const table[][2] = {
      {"dray.order.created.v1", "order"},
      {"dray.order.changed.v1", "order"},
      {"dray.order.cancelled.v1", "order"},
      {"dray.order.acknowledged.v1", "order"},
      {"dray.shipment.created.v1", "shipment"},
      {"dray.shipment.changed.v1", "shipment"},
      {"dray.shipment.tendered.v1", "shipment"},
      {"dray.shipment.tender_response.v1", "shipment"},
      {"dray.shipment.status.v1", "shipment"},
      {"dray.shipment.milestone.v1", "milestone"},
      {"dray.stop.updated.v1", "stop"},
      {"dray.position.reported.v1", "position"},
      {"dray.vehicle_event.reported.v1", "vehicle_event"},
      {"dray.charge.rated.v1", "charge"},
      {"dray.invoice.finalized.v1", "invoice"},
      {"dray.invoice.received.v1", "invoice"},
      {"dray.invoice.credit_note.v1", "invoice"},
      {"dray.erp_posting.created.v1", "erp_posting"},
      {"dray.erp_posting.status.v1", "erp_posting"},
      {"dray.ack.received.v1", "ack"},
      {"dray.ack.sent.v1", "ack"},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    const char *schema = dray_validate_schema_for_type(table[i][0]);
    assert_non_null(schema);
    assert_string_equal(schema, table[i][1]);
  }
}

static void test_unknown_and_foreign_types_have_no_schema(void **s) {
  (void)s;
  assert_null(dray_validate_schema_for_type("dray.order.created.v2"));
  assert_null(dray_validate_schema_for_type("dray.order"));
  assert_null(dray_validate_schema_for_type("com.acme.order.created.v1"));
  assert_null(dray_validate_schema_for_type(""));
  assert_null(dray_validate_schema_for_type(NULL));
}

/* ---- valid documents --------------------------------------------------- */

static void test_minimal_body_of_every_object_is_valid(void **s) {
  (void)s;
  for (size_t i = 0; i < N_OBJECTS; i++) {
    if (body(objects[i].type, objects[i].minimal) != 0)
      fail_msg("%s: %s", objects[i].object, err);
  }
}

static void test_minimal_body_of_every_object_is_valid_inside_an_event(
    void **s) {
  (void)s;
  for (size_t i = 0; i < N_OBJECTS; i++) {
    char json[2048];
    snprintf(json, sizeof json,
             "{\"specversion\":\"1.0\",\"id\":\"01JD8Q3V7K4N2M5P6R8S9T0VWZ\","
             "\"source\":\"dray://test/unit\",\"type\":\"%s\","
             "\"time\":\"2026-03-02T08:05:00-06:00\",\"data\":%s}",
             objects[i].type, q(objects[i].minimal));
    if (event_json(json) != 0)
      fail_msg("%s: %s", objects[i].object, err);
  }
}

static void test_every_object_accepts_external_refs_and_checks_them(
    void **s) {
  (void)s;
  for (size_t i = 0; i < N_OBJECTS; i++) {
    json_object *obj = parse_sq(objects[i].minimal);
    json_object_object_add(obj, "external_refs",
                           parse_sq("[{'system':'sap:PRD/100','type':'VBELN',"
                                    "'value':'0080012345'}]"));
    if (body_obj(objects[i].type, obj) != 0)
      fail_msg("%s: %s", objects[i].object, err);
    json_object_object_add(obj, "external_refs",
                           parse_sq("[{'type':'VBELN','value':'1'}]"));
    assert_int_equal(body_obj(objects[i].type, obj), -1);
    assert_string_equal(err,
                        "$.data.external_refs[0].system: required property "
                        "missing");
    json_object_put(obj);
  }
}

static void test_realistic_order_with_lines_parties_and_prices_is_valid(
    void **s) {
  (void)s;
  assert_int_equal(
      body("dray.order.created.v1",
           "{'id':'O1','order_no':'4500012345','purpose':'original',"
           "'currency':'USD','po_date':'2026-03-01',"
           "'incoterm':{'code':'FOB','place':'Origin'},"
           "'parties':[{'role':'ship_to','gln':'0614141000012',"
           "'address':{'city':'Long Beach','country':'US'}}],"
           "'lines':[{'line_no':1,'qty':2,'uom':'EA'},"
           "{'line_no':'000020','qty':1.5,'uom':'KG',"
           "'unit_price_minor':523,'price_per':10,'currency':'USD',"
           "'item_ids':{'gtin':'04012345678901','customer':'C-77'}}]}"),
      0);
}

static void test_rfc3339_date_times_with_offsets_fractions_and_leap_day_pass(
    void **s) {
  (void)s;
  static const char *const good[] = {
      "2026-03-02T14:05:00Z",          "2026-03-02T08:05:00-06:00",
      "2024-02-29T23:59:59.123456+14:00", "2026-12-31t00:00:00z",
      "2016-12-31T23:59:60Z",          "2000-02-29T00:00:00+05:30",
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char json[256];
    snprintf(json, sizeof json,
             "{'device_id':'D1','fix_time':'%s','lat':0,'lon':0}", good[i]);
    if (body("dray.position.reported.v1", json) != 0)
      fail_msg("%s rejected: %s", good[i], err);
  }
}

/* ---- errors, each with its JSON path ---------------------------------- */

static void test_missing_required_field_is_named_by_path(void **s) {
  (void)s;
  /* Drop each required field of each object in turn. */
  for (size_t i = 0; i < N_OBJECTS; i++) {
    json_object *obj = parse_sq(objects[i].minimal);
    char fields[16][32];
    size_t n = 0;
    json_object_object_foreach(obj, key, val) {
      (void)val;
      snprintf(fields[n++], sizeof fields[0], "%s", key);
    }
    json_object_put(obj);
    for (size_t f = 0; f < n; f++) {
      obj = parse_sq(objects[i].minimal);
      json_object_object_del(obj, fields[f]);
      assert_int_equal(body_obj(objects[i].type, obj), -1);
      char want[128];
      snprintf(want, sizeof want, "$.data.%s: required property missing",
               fields[f]);
      assert_string_equal(err, want);
      json_object_put(obj);
    }
  }
}

static void test_wrong_type_in_a_nested_array_names_index_and_types(
    void **s) {
  (void)s;
  assert_int_equal(body("dray.order.changed.v1",
                        "{'id':'O1','order_no':'1','lines':["
                        "{'line_no':1,'qty':1},{'line_no':2,'qty':2},"
                        "{'line_no':3,'qty':'12'}]}"),
                   -1);
  assert_string_equal(err,
                      "$.data.lines[2].qty: expected number, got string");
}

static void test_wrong_type_object_where_string_expected(void **s) {
  (void)s;
  assert_int_equal(
      body("dray.shipment.created.v1", "{'id':'S1','pro_number':{'a':1}}"),
      -1);
  assert_string_equal(err, "$.data.pro_number: expected string, got object");
}

static void test_body_that_is_not_an_object_is_rejected(void **s) {
  (void)s;
  assert_int_equal(body("dray.charge.rated.v1", "[1,2]"), -1);
  assert_string_equal(err, "$.data: expected object, got array");
}

static void test_milestone_status_outside_the_enum_is_rejected(void **s) {
  (void)s;
  assert_int_equal(
      body("dray.shipment.milestone.v1",
           "{'id':'M1','shipment_id':'S1','status':'deliverd',"
           "'raw':{'system':'x12.214','code':'D1'},"
           "'occurred_at':'2026-03-02T14:05:00Z'}"),
      -1);
  assert_non_null(strstr(err, "$.data.status: \"deliverd\" is not one of: "
                              "\"pending\", \"picked_up\""));
}

static void test_milestone_accepts_every_truckload_stop_status(void **s) {
  (void)s;
  static const char *const statuses[] = {
      "arrived_pickup",   "loading_started",   "loaded",
      "departed_pickup",  "arrived_delivery",  "unloading_started",
      "unloaded",         "departed_delivery", "eta_updated",
      "appointment_set",  "unknown",           "return_to_sender"};
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
    char json[512];
    snprintf(json, sizeof json,
             "{'id':'M1','shipment_id':'S1','status':'%s',"
             "'raw':{'system':'x12.214','code':'X1'},"
             "'occurred_at':'2026-03-02T14:05:00Z'}",
             statuses[i]);
    if (body("dray.shipment.milestone.v1", json) != 0)
      fail_msg("%s: %s", statuses[i], err);
  }
}

static void test_milestone_reason_outside_the_enum_is_rejected(void **s) {
  (void)s;
  assert_int_equal(
      body("dray.shipment.milestone.v1",
           "{'id':'M1','shipment_id':'S1','status':'delivery_failed',"
           "'reason':'refused','raw':{'system':'x12.214','code':'A7'},"
           "'occurred_at':'2026-03-02T14:05:00Z'}"),
      -1);
  assert_non_null(strstr(err, "$.data.reason: \"refused\" is not one of"));
}

static void test_milestone_without_raw_code_is_rejected(void **s) {
  (void)s;
  assert_int_equal(
      body("dray.shipment.milestone.v1",
           "{'id':'M1','shipment_id':'S1','status':'unknown',"
           "'occurred_at':'2026-03-02T14:05:00Z'}"),
      -1);
  assert_string_equal(err, "$.data.raw: required property missing");
}

static void test_bad_currency_codes_are_rejected(void **s) {
  (void)s;
  static const char *const bad[] = {"usd", "US", "EURO", "", "U$D"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char json[256];
    snprintf(json, sizeof json,
             "{'id':'C1','code':'fuel','amount_minor':100,'currency':'%s'}",
             bad[i]);
    assert_int_equal(body("dray.charge.rated.v1", json), -1);
    char want[128];
    snprintf(want, sizeof want,
             "$.data.currency: \"%s\" does not match ^[A-Z]{3}$", bad[i]);
    assert_string_equal(err, want);
  }
}

static void test_float_money_is_rejected_even_without_a_fraction(void **s) {
  (void)s;
  assert_int_equal(body("dray.invoice.finalized.v1",
                        "{'id':'I1','type':'invoice','status':'draft',"
                        "'currency':'USD','lines':[{'amount_minor':1000},"
                        "{'amount_minor':12.5}]}"),
                   -1);
  assert_string_equal(err, "$.data.lines[1].amount_minor: expected integer, "
                           "got number 12.5");
  assert_int_equal(body("dray.charge.rated.v1",
                        "{'id':'C1','code':'base','amount_minor':1250.0,"
                        "'currency':'USD'}"),
                   -1);
  assert_string_equal(err, "$.data.amount_minor: expected integer, got "
                           "number 1250.0");
  assert_int_equal(body("dray.charge.rated.v1",
                        "{'id':'C1','code':'base','amount_minor':'1250',"
                        "'currency':'USD'}"),
                   -1);
  assert_string_equal(err,
                      "$.data.amount_minor: expected integer, got string");
}

static void test_money_object_needs_both_amount_and_currency(void **s) {
  (void)s;
  assert_int_equal(body("dray.erp_posting.status.v1",
                        "{'id':'P1','invoice_id':'I1','target':'sap',"
                        "'external_key':'I1','status':'sent',"
                        "'amount':{'amount_minor':248147}}"),
                   -1);
  assert_string_equal(err, "$.data.amount.currency: required property "
                           "missing");
}

static void test_bad_date_times_are_rejected(void **s) {
  (void)s;
  static const char *const bad[] = {
      "2026-03-02T14:05:00",      /* no offset */
      "2026-03-02 14:05:00Z",     /* space */
      "2026-13-02T14:05:00Z",     /* month */
      "2026-02-29T14:05:00Z",     /* not a leap year */
      "1900-02-29T14:05:00Z",     /* century rule */
      "2026-03-02T24:00:00Z",     /* hour */
      "2026-03-02T14:05:00+0600", /* offset without colon */
      "2026-03-02T14:05:00.Z",    /* empty fraction */
      "2026-03-02",               /* a date is not a date-time */
      "20260302T140500Z",         /* basic format */
      "2026-03-02T14:05:00Zjunk",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char json[256];
    snprintf(json, sizeof json,
             "{'id':'E1','type':'moving','occurred_at':'%s'}", bad[i]);
    assert_int_equal(body("dray.vehicle_event.reported.v1", json), -1);
    char want[160];
    snprintf(want, sizeof want,
             "$.data.occurred_at: \"%s\" is not an RFC 3339 date-time "
             "(e.g. 2026-03-02T14:05:00Z)", bad[i]);
    assert_string_equal(err, want);
  }
}

static void test_bad_date_is_rejected(void **s) {
  (void)s;
  assert_int_equal(body("dray.invoice.finalized.v1",
                        "{'id':'I1','type':'invoice','status':'draft',"
                        "'currency':'USD','due_date':'2026-04-31'}"),
                   -1);
  assert_string_equal(err, "$.data.due_date: \"2026-04-31\" is not an RFC "
                           "3339 date (e.g. 2026-03-02)");
}

static void test_finalized_invoice_needs_number_and_credit_note_preceding(
    void **s) {
  (void)s;
  assert_int_equal(body("dray.invoice.finalized.v1",
                        "{'id':'I1','type':'invoice','status':'finalized',"
                        "'currency':'USD','issue_date':'2026-03-07',"
                        "'totals':{'net_minor':1,'payable_minor':1}}"),
                   -1);
  assert_string_equal(err, "$.data.number: required property missing");
  assert_int_equal(body("dray.invoice.credit_note.v1",
                        "{'id':'I2','type':'credit_note','status':'draft',"
                        "'currency':'USD'}"),
                   -1);
  assert_string_equal(err, "$.data.preceding: required property missing");
}

static void test_number_bounds_are_enforced(void **s) {
  (void)s;
  assert_int_equal(body("dray.position.reported.v1",
                        "{'device_id':'D1','fix_time':'2026-03-02T14:05:00Z',"
                        "'lat':91,'lon':0}"),
                   -1);
  assert_string_equal(err, "$.data.lat: 91 is above the maximum 90");
  assert_int_equal(body("dray.position.reported.v1",
                        "{'device_id':'D1','fix_time':'2026-03-02T14:05:00Z',"
                        "'lat':0,'lon':0,'speed_mps':-0.5}"),
                   -1);
  assert_string_equal(err, "$.data.speed_mps: -0.5 is below the minimum 0");
}

static void test_awkward_keys_are_quoted_in_the_path(void **s) {
  (void)s;
  assert_int_equal(body("dray.order.created.v1",
                        "{'id':'O1','order_no':'1','lines':[{'line_no':1,"
                        "'item_ids':{'buyer part':7}}]}"),
                   -1);
  assert_string_equal(err, "$.data.lines[0].item_ids[\"buyer part\"]: "
                           "expected string, got integer 7");
}

static void test_geofence_circle_needs_a_radius(void **s) {
  (void)s;
  assert_int_equal(body("dray.stop.updated.v1",
                        "{'id':'S1/1','location':{'geofence':"
                        "{'type':'circle'}}}"),
                   -1);
  assert_string_equal(err, "$.data.location.geofence.radius_m: required "
                           "property missing");
  assert_int_equal(body("dray.stop.updated.v1",
                        "{'id':'S1/1','location':{'geofence':"
                        "{'type':'polygon','wkt':'POLYGON((0 0,1 0,1 1,0 0))'"
                        "}}}"),
                   0);
}


/* Code fields: each pattern accepts its real examples and rejects near
 * misses (the simple class matcher and regexec paths both run here). */
static void test_code_patterns_accept_real_codes_and_reject_near_misses(
    void **s) {
  (void)s;
  static const struct {
    const char *type, *head, *field, *value;
    int ok;
  } cases[] = {
#define SH "dray.shipment.created.v1", "'id':'S1',"
#define MI "dray.shipment.milestone.v1", "'id':'M1','shipment_id':'S1',"   \
           "'status':'unknown','raw':{'system':'x','code':'y'},"            \
           "'occurred_at':'2026-03-02T14:05:00Z',"
#define CH "dray.charge.rated.v1", "'id':'C1','code':'base',"              \
           "'amount_minor':1,'currency':'USD',"
      {SH, "bol_number", "any thing", 1},
      {SH, "asn_no", "ASN-1", 1},
      {MI, "tz_offset", "-06:00", 1},
      {MI, "tz_offset", "Z", 1},
      {MI, "tz_offset", "+14:00", 1},
      {MI, "tz_offset", "+15:00", 0},
      {MI, "tz_offset", "-0600", 0},
      {MI, "tz_offset", "Z ", 0},
      {CH, "x12_code", "FSC", 1},
      {CH, "x12_code", "A520", 1},
      {CH, "x12_code", "F", 0},
      {CH, "x12_code", "fsc", 0},
      {CH, "x12_code", "FUELS", 0},
  };
#undef SH
#undef MI
#undef CH
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char json[1024];
    snprintf(json, sizeof json, "{%s'%s':'%s'}", cases[i].head,
             cases[i].field, cases[i].value);
    int rc = body(cases[i].type, json);
    if (rc != (cases[i].ok ? 0 : -1))
      fail_msg("%s %s=%s: rc %d (%s)", cases[i].type, cases[i].field,
               cases[i].value, rc, err);
  }
  /* Decimal rates, GTINs, SSCCs and UN numbers. */
  static const struct {
    const char *json;
    int ok;
  } more[] = {
      {"{'id':'C','code':'fuel','amount_minor':1,'currency':'USD',"
       "'basis':{'rate':'0.523'}}", 1},
      {"{'id':'C','code':'fuel','amount_minor':1,'currency':'USD',"
       "'basis':{'rate':'-12'}}", 1},
      {"{'id':'C','code':'fuel','amount_minor':1,'currency':'USD',"
       "'basis':{'rate':'1,5'}}", 0},
      {"{'id':'C','code':'fuel','amount_minor':1,'currency':'USD',"
       "'basis':{'rate':'.5'}}", 0},
      {"{'id':'C','code':'fuel','amount_minor':1,'currency':'USD',"
       "'basis':{'rate':'5.'}}", 0},
  };
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
    int rc = body("dray.charge.rated.v1", more[i].json);
    if (rc != (more[i].ok ? 0 : -1))
      fail_msg("%s: rc %d (%s)", more[i].json, rc, err);
  }
  static const struct {
    const char *json;
    int ok;
  } ids[] = {
      {"{'id':'S','packages':[{'id':'P','sscc':'003401234567890126'}]}", 1},
      {"{'id':'S','packages':[{'id':'P','sscc':'00340123456789012'}]}", 0},
      {"{'id':'S','packages':[{'id':'P','sscc':'0034012345678901260'}]}", 0},
      {"{'id':'S','lines':[{'item_ids':{'gtin':'04012345678901'}}]}", 1},
      {"{'id':'S','lines':[{'item_ids':{'gtin':'4012345'}}]}", 0},
      {"{'id':'S','lines':[{'item_ids':{'gtin':'0401234567890X'}}]}", 0},
      {"{'id':'S','carrier':{'scac':'ODFL'}}", 1},
      {"{'id':'S','incoterm':{'code':'FCA','place':'Hamburg'}}", 1},
      {"{'id':'S','incoterm':{'code':'fca'}}", 0},
      {"{'id':'S','incoterm':'FCA'}", 0},
      {"{'id':'S','carrier':{'scac':'ODFLX'}}", 0},
  };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    int rc = body("dray.shipment.changed.v1", ids[i].json);
    if (rc != (ids[i].ok ? 0 : -1))
      fail_msg("%s: rc %d (%s)", ids[i].json, rc, err);
  }
  static const struct {
    const char *json;
    int ok;
  } un[] = {
      {"{'id':'O','order_no':'1','lines':[{'line_no':1,'hazmat':"
       "{'un':'UN1270'}}]}", 1},
      {"{'id':'O','order_no':'1','lines':[{'line_no':1,'hazmat':"
       "{'un':'1270'}}]}", 1},
      {"{'id':'O','order_no':'1','lines':[{'line_no':1,'hazmat':"
       "{'un':'UX1270'}}]}", 0},
  };
  for (size_t i = 0; i < sizeof un / sizeof un[0]; i++) {
    int rc = body("dray.order.changed.v1", un[i].json);
    if (rc != (un[i].ok ? 0 : -1))
      fail_msg("%s: rc %d (%s)", un[i].json, rc, err);
  }
}

static void test_datacontenttype_must_be_json(void **s) {
  (void)s;
  static const struct {
    const char *value;
    int ok;
  } cases[] = {{"application/json", 1},
               {"application/cloudevents+json", 1},
               {"application/json; charset=utf-8", 1},
               {"application/xml", 0},
               {"text/json", 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char json[512];
    snprintf(json, sizeof json,
             "{'specversion':'1.0','id':'1','source':'s','type':'t',"
             "'datacontenttype':'%s'}", cases[i].value);
    int rc = event(json);
    if (rc != (cases[i].ok ? 0 : -1))
      fail_msg("%s: rc %d (%s)", cases[i].value, rc, err);
  }
}

/* ---- envelope ---------------------------------------------------------- */

#define ENV_HEAD                                                               \
  "'specversion':'1.0','id':'01JD8Q3V7K4N2M5P6R8S9T0VWX',"                     \
  "'source':'dray://dallas-dc/ups'"

static void test_event_with_extensions_and_foreign_type_is_valid(void **s) {
  (void)s;
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.thing.v1',"
                         "'partitionkey':'SHP-1','sequence':'00000000000000000042',"
                         "'traceparent':'00-4bf92f3577b34da6a3ce929d0e0e4736-"
                         "00f067aa0ba902b7-01','tenant':'acme-eu',"
                         "'priority':3,'replayed':true,"
                         "'data':{'anything':[1,2.5]}}"),
                   0);
}

static void test_bad_envelope_attribute_names_are_rejected(void **s) {
  (void)s;
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x',"
                         "'correlationId':'ORD-1'}"),
                   -1);
  assert_string_equal(err, "$.correlationId: property name does not match "
                           "^[a-z0-9]{1,20}$");
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x',"
                         "'idempotency_key':'k'}"),
                   -1);
  assert_string_equal(err, "$.idempotency_key: property name does not match "
                           "^[a-z0-9]{1,20}$");
  /* 21 characters: one too many; 20 is fine. */
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x',"
                         "'abcdefghijklmnopqrstu':'v'}"),
                   -1);
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x',"
                         "'abcdefghijklmnopqrst':'v'}"),
                   0);
}

static void test_envelope_required_attributes_and_specversion(void **s) {
  (void)s;
  assert_int_equal(event("{'specversion':'1.0','source':'s','type':'t'}"), -1);
  assert_string_equal(err, "$.id: required property missing");
  assert_int_equal(event("{'specversion':'0.3','id':'1','source':'s',"
                         "'type':'t'}"),
                   -1);
  assert_string_equal(err, "$.specversion: must be \"1.0\", got \"0.3\"");
  assert_int_equal(event("{'specversion':'1.0','id':'','source':'s',"
                         "'type':'t'}"),
                   -1);
  assert_string_equal(err, "$.id: must not be empty");
}

static void test_envelope_attribute_values_are_typed(void **s) {
  (void)s;
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x',"
                         "'time':'yesterday'}"),
                   -1);
  assert_string_equal(err, "$.time: \"yesterday\" is not an RFC 3339 "
                           "date-time (e.g. 2026-03-02T14:05:00Z)");
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x',"
                         "'tenant':{'id':1}}"),
                   -1);
  assert_string_equal(err, "$.tenant: expected string or integer or boolean, "
                           "got object");
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x','data':[1]}"),
                   -1);
  assert_string_equal(err, "$.data: expected object, got array");
  assert_int_equal(event("{" ENV_HEAD ",'type':'com.acme.x',"
                         "'traceparent':'00-xyz'}"),
                   -1);
  assert_non_null(strstr(err, "$.traceparent: \"00-xyz\" does not match"));
}

static void test_unknown_dray_type_is_rejected_in_event_and_body(void **s) {
  (void)s;
  assert_int_equal(event("{" ENV_HEAD ",'type':'dray.shipment.milestone.v9',"
                         "'data':{}}"),
                   -1);
  assert_string_equal(err, "$.type: unknown canonical type "
                           "\"dray.shipment.milestone.v9\" (dray.* types are "
                           "listed in docs/schemas/types.json)");
  assert_int_equal(body("dray.shipment.teleported.v1", "{}"), -1);
  assert_non_null(strstr(err, "unknown canonical type "
                              "\"dray.shipment.teleported.v1\""));
}

static void test_foreign_type_body_is_accepted_unchecked(void **s) {
  (void)s;
  assert_int_equal(body("com.acme.order.created.v1", "not json at all"), 0);
}

static void test_canonical_event_without_data_is_rejected(void **s) {
  (void)s;
  assert_int_equal(event("{" ENV_HEAD ",'type':'dray.charge.rated.v1'}"), -1);
  assert_non_null(strstr(err, "$.data: required property missing"));
}

static void test_body_error_inside_event_has_full_path(void **s) {
  (void)s;
  assert_int_equal(event("{" ENV_HEAD ",'type':'dray.charge.rated.v1',"
                         "'data':{'id':'C1','code':'fuel',"
                         "'amount_minor':100,'currency':'EUR',"
                         "'basis':{'qty':'ten'}}}"),
                   -1);
  assert_string_equal(err, "$.data.basis.qty: expected number, got string");
}

/* ---- malformed input --------------------------------------------------- */

static void test_invalid_json_reports_line_and_column(void **s) {
  (void)s;
  const char *json = "{\"specversion\":\"1.0\",\n  \"id\": x}";
  assert_int_equal(dray_validate_event(json, strlen(json), err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "$: invalid JSON at line 2, column"));
  assert_int_equal(body("dray.charge.rated.v1", "{'id':"), -1);
  assert_non_null(strstr(err, "$.data: invalid JSON at line 1"));
  assert_non_null(strstr(err, "unexpected end of input"));
}

static void test_trailing_data_after_json_is_rejected(void **s) {
  (void)s;
  assert_int_equal(body("dray.stop.updated.v1", "{'id':'S'} {'id':'T'}"), -1);
  assert_non_null(strstr(err, "unexpected data after the JSON value"));
  assert_int_equal(body("dray.stop.updated.v1", "{'id':'S'}\n  \n"), 0);
}

static void test_empty_input_and_null_arguments_do_not_crash(void **s) {
  (void)s;
  assert_int_equal(dray_validate_event("", 0, err, sizeof err), -1);
  assert_string_equal(err, "$: empty input");
  assert_int_equal(dray_validate_event(NULL, 5, err, sizeof err), -1);
  assert_int_equal(dray_validate_body(NULL, "{}", 2, err, sizeof err), -1);
  /* No error buffer at all, or a tiny one: still a clean -1. */
  assert_int_equal(dray_validate_event("{}", 2, NULL, 0), -1);
  char tiny[8];
  memset(tiny, 'x', sizeof tiny);
  assert_int_equal(dray_validate_event("{}", 2, tiny, sizeof tiny), -1);
  assert_int_equal(tiny[sizeof tiny - 1], '\0');
  assert_string_equal(tiny, "$.specv");
}

static void test_deeply_nested_input_is_rejected_cleanly(void **s) {
  (void)s;
  char json[4096];
  size_t n = 0;
  n += (size_t)snprintf(json, sizeof json,
                        "{'id':'P1','device_id':'D','fix_time':"
                        "'2026-03-02T14:05:00Z','lat':0,'lon':0,'attributes':");
  for (int i = 0; i < 500; i++)
    json[n++] = '[';
  for (int i = 0; i < 500; i++)
    json[n++] = ']';
  json[n++] = '}';
  json[n] = '\0';
  assert_int_equal(body("dray.position.reported.v1", json), -1);
  assert_non_null(strstr(err, "invalid JSON"));
}


/* ---- messages built by the SDK ---------------------------------------- */

/* What the host's own message implementation serializes must satisfy the
 * envelope schema: the same check the runtime applies to every message. */
static void test_message_serialized_by_the_host_is_a_valid_event(void **s) {
  (void)s;
  dray_mock_host *mh = dray_mock_host_new("swift_edi");
  assert_non_null(mh);
  const struct dray_host *host = dray_mock_host_table(mh);
  dray_instance *inst = dray_mock_host_instance(mh);
  const char *milestone = q("{'id':'M1','shipment_id':'SHP-1',"
                            "'status':'arrived_delivery','raw':"
                            "{'system':'x12.214','code':'X1'},"
                            "'occurred_at':'2026-03-06T20:58:00Z',"
                            "'tz_offset':'-07:00'}");
  dray_msg *msg = host->msg_new(inst, "dray.shipment.milestone.v1", milestone,
                                strlen(milestone));
  assert_non_null(msg);
  assert_int_equal(host->msg_set_header(msg, "partitionkey", "SHP-1"), 0);
  assert_int_equal(host->msg_set_header(msg, "correlationid", "PO-1"), 0);
  assert_int_equal(host->msg_set_header(msg, "sequence",
                                        "00000000000000000042"), 0);
  dray_buf *buf = dray_mock_buf_new();
  assert_non_null(buf);
  assert_int_equal(host->msg_serialize(msg, buf), 0);
  size_t len = 0;
  const char *json = dray_mock_buf_data(buf, &len);
  if (dray_validate_event(json, len, err, sizeof err) != 0)
    fail_msg("%.*s: %s", (int)len, json, err);

  /* The same message with a bad body is refused with the body's path. */
  const char *bad = q("{'id':'M1','shipment_id':'SHP-1','status':'arrived',"
                      "'raw':{'system':'x12.214','code':'X1'},"
                      "'occurred_at':'2026-03-06T20:58:00Z'}");
  assert_int_equal(host->msg_set_body(msg, bad, strlen(bad)), 0);
  dray_mock_buf_reset(buf);
  assert_int_equal(host->msg_serialize(msg, buf), 0);
  json = dray_mock_buf_data(buf, &len);
  assert_int_equal(dray_validate_event(json, len, err, sizeof err), -1);
  assert_non_null(strstr(err, "$.data.status: \"arrived\" is not one of"));
  dray_mock_buf_destroy(&buf);
  host->msg_free(&msg);
  dray_mock_host_destroy(&mh);
}

/* ---- golden events ----------------------------------------------------- */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) {
      buf = malloc((size_t)size + 1);
      if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
        buf[size] = '\0';
        *len = (size_t)size;
      } else {
        free(buf);
        buf = NULL;
      }
    }
  }
  fclose(f);
  return buf;
}

static void test_golden_events_are_valid_and_cover_every_object(void **s) {
  (void)s;
  const char *dir = getenv("DRAY_TEST_EVENTS_DIR");
  assert_non_null(dir);
  DIR *d = opendir(dir);
  assert_non_null(d);
  int seen[N_OBJECTS] = {0};
  size_t files = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    size_t nlen = strlen(de->d_name);
    if (nlen < 6 || strcmp(de->d_name + nlen - 5, ".json") != 0)
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    size_t len = 0;
    char *json = read_file(path, &len);
    assert_non_null(json);
    if (dray_validate_event(json, len, err, sizeof err) != 0)
      fail_msg("%s: %s", de->d_name, err);
    json_object *ev = json_tokener_parse(json);
    assert_non_null(ev);
    const char *schema = dray_validate_schema_for_type(
        json_object_get_string(json_object_object_get(ev, "type")));
    assert_non_null(schema);
    for (size_t i = 0; i < N_OBJECTS; i++)
      if (strcmp(schema, objects[i].object) == 0)
        seen[i] = 1;
    /* The body alone validates the same way. */
    const char *data = json_object_to_json_string_ext(
        json_object_object_get(ev, "data"), JSON_C_TO_STRING_PLAIN);
    if (dray_validate_body(
            json_object_get_string(json_object_object_get(ev, "type")), data,
            strlen(data), err, sizeof err) != 0)
      fail_msg("%s body: %s", de->d_name, err);
    json_object_put(ev);
    free(json);
    files++;
  }
  closedir(d);
  assert_true(files >= N_OBJECTS);
  for (size_t i = 0; i < N_OBJECTS; i++)
    if (!seen[i])
      fail_msg("no golden event for %s", objects[i].object);
}

/* ---- threads ----------------------------------------------------------- */

struct thread_result {
  int ok, bad;
  char err[256];
};

static void *validate_from_thread(void *arg) {
  struct thread_result *r = arg;
  static const char good[] =
      "{\"id\":\"C1\",\"code\":\"fuel\",\"amount_minor\":1,"
      "\"currency\":\"USD\"}";
  static const char bad[] =
      "{\"id\":\"C1\",\"code\":\"fuel\",\"amount_minor\":1,"
      "\"currency\":\"usd\"}";
  for (int i = 0; i < 200; i++) {
    if (dray_validate_body("dray.charge.rated.v1", good, sizeof good - 1,
                           r->err, sizeof r->err) == 0)
      r->ok++;
    if (dray_validate_body("dray.charge.rated.v1", bad, sizeof bad - 1,
                           r->err, sizeof r->err) == -1)
      r->bad++;
  }
  return NULL;
}

/* Run first in its own process state? cmocka runs tests in order in one
 * process, so this test is listed first: the threads race to the lazy
 * schema compile. */
static void test_concurrent_first_use_from_many_threads_agrees(void **s) {
  (void)s;
  pthread_t th[8];
  struct thread_result res[8];
  memset(res, 0, sizeof res);
  for (int i = 0; i < 8; i++)
    assert_int_equal(pthread_create(&th[i], NULL, validate_from_thread,
                                    &res[i]), 0);
  for (int i = 0; i < 8; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(res[i].ok, 200);
    assert_int_equal(res[i].bad, 200);
    assert_string_equal(res[i].err,
                        "$.data.currency: \"usd\" does not match ^[A-Z]{3}$");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_concurrent_first_use_from_many_threads_agrees),
      cmocka_unit_test(test_every_canonical_type_maps_to_its_object_schema),
      cmocka_unit_test(test_unknown_and_foreign_types_have_no_schema),
      cmocka_unit_test(test_minimal_body_of_every_object_is_valid),
      cmocka_unit_test(
          test_minimal_body_of_every_object_is_valid_inside_an_event),
      cmocka_unit_test(test_every_object_accepts_external_refs_and_checks_them),
      cmocka_unit_test(
          test_realistic_order_with_lines_parties_and_prices_is_valid),
      cmocka_unit_test(
          test_rfc3339_date_times_with_offsets_fractions_and_leap_day_pass),
      cmocka_unit_test(test_missing_required_field_is_named_by_path),
      cmocka_unit_test(test_wrong_type_in_a_nested_array_names_index_and_types),
      cmocka_unit_test(test_wrong_type_object_where_string_expected),
      cmocka_unit_test(test_body_that_is_not_an_object_is_rejected),
      cmocka_unit_test(test_milestone_status_outside_the_enum_is_rejected),
      cmocka_unit_test(test_milestone_accepts_every_truckload_stop_status),
      cmocka_unit_test(test_milestone_reason_outside_the_enum_is_rejected),
      cmocka_unit_test(test_milestone_without_raw_code_is_rejected),
      cmocka_unit_test(test_bad_currency_codes_are_rejected),
      cmocka_unit_test(test_float_money_is_rejected_even_without_a_fraction),
      cmocka_unit_test(test_money_object_needs_both_amount_and_currency),
      cmocka_unit_test(test_bad_date_times_are_rejected),
      cmocka_unit_test(test_bad_date_is_rejected),
      cmocka_unit_test(
          test_finalized_invoice_needs_number_and_credit_note_preceding),
      cmocka_unit_test(test_number_bounds_are_enforced),
      cmocka_unit_test(test_awkward_keys_are_quoted_in_the_path),
      cmocka_unit_test(test_geofence_circle_needs_a_radius),
      cmocka_unit_test(
          test_code_patterns_accept_real_codes_and_reject_near_misses),
      cmocka_unit_test(test_datacontenttype_must_be_json),
      cmocka_unit_test(test_event_with_extensions_and_foreign_type_is_valid),
      cmocka_unit_test(test_bad_envelope_attribute_names_are_rejected),
      cmocka_unit_test(test_envelope_required_attributes_and_specversion),
      cmocka_unit_test(test_envelope_attribute_values_are_typed),
      cmocka_unit_test(test_unknown_dray_type_is_rejected_in_event_and_body),
      cmocka_unit_test(test_foreign_type_body_is_accepted_unchecked),
      cmocka_unit_test(test_canonical_event_without_data_is_rejected),
      cmocka_unit_test(test_body_error_inside_event_has_full_path),
      cmocka_unit_test(test_invalid_json_reports_line_and_column),
      cmocka_unit_test(test_trailing_data_after_json_is_rejected),
      cmocka_unit_test(test_empty_input_and_null_arguments_do_not_crash),
      cmocka_unit_test(test_deeply_nested_input_is_rejected_cleanly),
      cmocka_unit_test(test_message_serialized_by_the_host_is_a_valid_event),
      cmocka_unit_test(test_golden_events_are_valid_and_cover_every_object),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
