/* test_map.c - canonical bodies of each mapped transaction set, built from
 * documents written here. */
#include "x12_test_util.h"

#include <json-c/json.h>

#include "x12_json.h"

/* Value at a dotted path with [n] indexes, e.g. "stops[1].type". */
static json_object *at(json_object *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *tok = strtok(buf, "."); tok && o; tok = strtok(NULL, ".")) {
    char *br = strchr(tok, '[');
    int idx = -1;
    if (br) {
      idx = atoi(br + 1);
      *br = '\0';
    }
    if (*tok && !json_object_object_get_ex(o, tok, &o)) return NULL;
    if (idx >= 0) o = json_object_array_get_idx(o, (size_t)idx);
  }
  return o;
}

static const char *s_at(json_object *o, const char *path) {
  json_object *v = at(o, path);
  if (!v) fail_msg("missing %s in %s", path, json_object_to_json_string(o));
  return json_object_get_string(v);
}

static long long i_at(json_object *o, const char *path) {
  json_object *v = at(o, path);
  if (!v) fail_msg("missing %s in %s", path, json_object_to_json_string(o));
  return json_object_get_int64(v);
}

static void decode_ok(const char *gs01, const char *st01, const char *body,
                      struct capture *c) {
  char *doc = test_doc("000000007", gs01, "004010", st01, body);
  struct x12_decode_report rep;
  memset(c, 0, sizeof(*c));
  int r = test_decode(doc, strlen(doc), 0, c, &rep);
  if (r != 0) fail_msg("decode failed: %s", rep.first_error);
  free(doc);
}

static void test_214_gives_one_milestone_per_at7_with_resolved_times(void **s) {
  (void)s;
  struct capture c;
  decode_ok("QM", "214",
            "B10*PRO123*SHIP42*ABCD~\nL11*PO998*PO~\n"
            "LX*1~\nAT7*X3*NS***20240514*0815*ET~\nMS1*CHICAGO*IL*US~\nMS2*ABCD*TRL9~\n"
            "LX*2~\nAT7*D1*NS***20240515*1730*LT~\n"
            "LX*3~\nAT7*Q9*NS***20240515*1800~\n"
            "LX*4~\nAT7***AB*NA*20240516*0900*UT~\n",
            &c);
  assert_int_equal(c.n, 4);
  json_object *m1 = json_tokener_parse(c.bodies[0]);
  json_object *m2 = json_tokener_parse(c.bodies[1]);
  json_object *m3 = json_tokener_parse(c.bodies[2]);
  json_object *m4 = json_tokener_parse(c.bodies[3]);
  assert_string_equal(c.types[0], "dray.shipment.milestone.v1");
  assert_string_equal(s_at(m1, "status"), "arrived_pickup");
  assert_string_equal(s_at(m1, "raw.system"), "x12.214");
  assert_string_equal(s_at(m1, "x12_at7.time_code"), "ET");
  assert_string_equal(s_at(m1, "tz_offset"), "-04:00");
  assert_string_equal(s_at(m1, "raw.code"), "X3");
  assert_string_equal(s_at(m1, "raw.description"), "Arrived at Pick-up Location");
  /* ET in May is daylight time */
  assert_string_equal(s_at(m1, "occurred_at"), "2024-05-14T08:15:00-04:00");
  assert_string_equal(s_at(m1, "location.city"), "CHICAGO");
  assert_string_equal(s_at(m1, "equipment_number"), "TRL9");
  assert_int_equal(i_at(m1, "stop_sequence"), 1);
  assert_string_equal(s_at(m1, "shipment_id"), "SHIP42");
  /* LT: the partner's local_time_zone (America/Chicago, CDT) */
  assert_string_equal(s_at(m2, "status"), "delivered");
  assert_string_equal(s_at(m2, "occurred_at"), "2024-05-15T17:30:00-05:00");
  /* unknown code: status unknown, raw kept, counted */
  assert_string_equal(s_at(m3, "status"), "unknown");
  assert_string_equal(s_at(m3, "raw.code"), "Q9");
  assert_int_equal(c.counters, 1);
  /* appointment (AT703) */
  assert_string_equal(s_at(m4, "status"), "appointment_set");
  assert_string_equal(s_at(m4, "occurred_at"), "2024-05-16T09:00:00+00:00");
  assert_string_equal(s_at(m4, "appointment.from"), "2024-05-16T09:00:00+00:00");
  /* headers */
  assert_string_equal(c.subjects[0], "shipment/SHIP42");
  assert_string_equal(c.idem[0], "x12:SENDER:214:000000007-77-0001/1");
  assert_string_equal(c.idem[1], "x12:SENDER:214:000000007-77-0001/2");
  json_object_put(m1); json_object_put(m2); json_object_put(m3); json_object_put(m4);
  capture_free(&c);
}

static void test_210_charges_are_n2_minor_units_and_totals_checked(void **s) {
  (void)s;
  struct capture c;
  decode_ok("IM", "210",
            "B3**INV77*SHIP42*PP**20240520*46200**20240518*035*ABCD~\nC3*USD~\n"
            "N9*BM*BOL5~\nN1*BT*ACME~\nLX*1~\nL5*1*WIDGETS~\n"
            "L1*1*4.5*PH*45000****400~\nL1*2***1200****405~\nL3*40000*G***46200~\n",
            &c);
  assert_int_equal(c.n, 1);
  json_object *b = json_tokener_parse(c.bodies[0]);
  assert_string_equal(c.types[0], "dray.invoice.received.v1");
  assert_string_equal(s_at(b, "number"), "INV77");
  assert_string_equal(s_at(b, "status"), "received");
  assert_int_equal(i_at(b, "totals.payable_minor"), 46200);
  assert_int_equal(i_at(b, "totals.net_minor"), 46200);
  assert_string_equal(s_at(b, "currency"), "USD");
  assert_int_equal(i_at(b, "lines[0].amount_minor"), 45000);
  assert_string_equal(s_at(b, "lines[0].charge_code"), "base");
  assert_string_equal(s_at(b, "lines[0].rate"), "4.5");
  assert_string_equal(s_at(b, "lines[0].description"), "Freight");
  assert_string_equal(s_at(b, "lines[1].charge_code"), "fuel");
  assert_true(json_object_get_boolean(at(b, "totals_consistent")));
  assert_string_equal(s_at(b, "shipment_refs[0].bol_number"), "BOL5");
  assert_string_equal(s_at(b, "delivered_at"), "2024-05-18T00:00:00-05:00");
  assert_string_equal(s_at(b, "weight.unit"), "lb");
  json_object_put(b);
  capture_free(&c);
  /* a total that does not add up is flagged, not hidden */
  decode_ok("IM", "210",
            "B3**INV78*SHIP42*PP**20240520*99999****ABCD~\nLX*1~\nL1*1***45000****400~\nL3*40000*G***46200~\n",
            &c);
  b = json_tokener_parse(c.bodies[0]);
  assert_false(json_object_get_boolean(at(b, "totals_consistent")));
  json_object_put(b);
  capture_free(&c);
}

static void test_204_gives_a_shipment_with_stops(void **s) {
  (void)s;
  struct capture c;
  decode_ok("SM", "204",
            "B2**ABCD**SHIP42**PP~\nB2A*00~\nL11*PO998*PO~\nG62*64*20240513*1*1600*CT~\n"
            "N1*SH*ACME~\nS5*1*LD*20000*L*10*PC~\nG62*69*20240514*1*0800*LT~\n"
            "N1*SF*ACME DOCK*93*D1~\nN3*1 MAIN ST~\nN4*DALLAS*TX*75201*US~\nOID*R1*PO998~\n"
            "S5*2*UL~\nG62*70*20240515*1*1400*ET~\nN1*ST*GLOBEX~\nL3*20000*G***150000~\n",
            &c);
  json_object *b = json_tokener_parse(c.bodies[0]);
  assert_string_equal(c.types[0], "dray.shipment.tendered.v1");
  assert_string_equal(s_at(b, "id"), "SHIP42");
  assert_string_equal(s_at(b, "carrier.scac"), "ABCD");
  assert_string_equal(s_at(b, "payment_method"), "prepaid");
  assert_string_equal(s_at(b, "purpose"), "original");
  assert_string_equal(s_at(b, "tender.respond_by"), "2024-05-13T16:00:00-05:00");
  assert_string_equal(s_at(b, "tender.response"), "pending");
  assert_string_equal(s_at(b, "stops[0].type"), "pickup");
  assert_int_equal(i_at(b, "stops[0].sequence"), 1);
  assert_string_equal(s_at(b, "stops[0].appointment.from"), "2024-05-14T08:00:00-05:00");
  assert_string_equal(s_at(b, "stops[0].location.address.city"), "DALLAS");
  assert_string_equal(s_at(b, "stops[0].orders[0].po_number"), "PO998");
  assert_string_equal(s_at(b, "stops[1].type"), "delivery");
  assert_string_equal(s_at(b, "stops[1].appointment.from"), "2024-05-15T14:00:00-04:00");
  assert_int_equal(i_at(b, "tender.rate.amount_minor"), 150000);
  json_object_put(b);
  capture_free(&c);
}

static void test_990_gives_the_tender_response(void **s) {
  (void)s;
  struct capture c;
  decode_ok("GF", "990", "B1*ABCD*SHIP42*20240514*D~\nK1*NO CAPACITY~\n", &c);
  json_object *b = json_tokener_parse(c.bodies[0]);
  assert_string_equal(c.types[0], "dray.shipment.tender_response.v1");
  assert_string_equal(s_at(b, "tender.response"), "declined");
  assert_string_equal(s_at(b, "tender.decline_reason"), "NO CAPACITY");
  assert_string_equal(s_at(b, "notes[0]"), "NO CAPACITY");
  json_object_put(b);
  capture_free(&c);
}

static void test_856_keeps_the_shipment_order_pack_item_hierarchy(void **s) {
  (void)s;
  struct capture c;
  decode_ok("SH", "856",
            "BSN*00*ASN1*20240514*0832*0001~\nHL*1**S~\nTD1*CTN25*2****G*120.5*LB~\n"
            "TD5*B*2*ABCD*M*ABC FREIGHT~\nREF*BM*BOL1~\nDTM*011*20240514*0900~\n"
            "HL*2*1*O~\nPRF*PO77***20240501~\nHL*3*2*P~\nMAN*GM*00123456789012345678~\n"
            "HL*4*3*I~\nLIN*1*BP*MAT-1*UP*040123456789~\nSN1**24*EA~\nPID*F****PUMP~\n"
            "HL*5*3*I~\nLIN*2*BP*MAT-2~\nSN1**6*EA~\nCTT*5~\n",
            &c);
  json_object *b = json_tokener_parse(c.bodies[0]);
  assert_string_equal(c.types[0], "dray.shipment.created.v1");
  assert_string_equal(s_at(b, "asn_no"), "ASN1");
  assert_string_equal(s_at(b, "carrier.scac"), "ABCD");
  assert_string_equal(s_at(b, "bol_number"), "BOL1");
  assert_string_equal(s_at(b, "weight.value"), "120.5");
  assert_string_equal(s_at(b, "weight.unit"), "lb");
  assert_string_equal(s_at(b, "ship_date"), "2024-05-14T09:00:00-05:00");
  assert_string_equal(s_at(b, "order_refs[0].po_number"), "PO77");
  assert_string_equal(s_at(b, "packages[0].sscc"), "123456789012345678");
  assert_int_equal(json_object_array_length(at(b, "packages[0].lines")), 2);
  assert_string_equal(s_at(b, "packages[0].lines[0].order_ref.po_number"), "PO77");
  assert_string_equal(s_at(b, "packages[0].lines[0].item_ids.upc"), "040123456789");
  assert_string_equal(s_at(b, "packages[0].lines[0].item_ids.buyer"), "MAT-1");
  assert_int_equal(i_at(b, "packages[0].lines[1].qty"), 6);
  assert_string_equal(c.subjects[0], "shipment/ASN1");
  json_object_put(b);
  capture_free(&c);
}

static void test_850_prices_are_integer_minor_units_with_price_per(void **s) {
  (void)s;
  struct capture c;
  decode_ok("PO", "850",
            "BEG*00*SA*PO77**20240514~\nCUR*BY*EUR~\nPO1*1*10*EA*9.25**VP*A1~\n"
            "PO1*2*1*EA*3.535**VP*A2~\nCTT*2~\nAMT*1*96.04~\n",
            &c);
  json_object *b = json_tokener_parse(c.bodies[0]);
  assert_string_equal(s_at(b, "currency"), "EUR");
  assert_int_equal(i_at(b, "lines[0].unit_price_minor"), 925);
  assert_null(at(b, "lines[0].price_per"));
  assert_int_equal(i_at(b, "lines[0].amount_minor"), 9250);
  /* 3.535 is 3535 minor units per 10 */
  assert_int_equal(i_at(b, "lines[1].unit_price_minor"), 3535);
  assert_int_equal(i_at(b, "lines[1].price_per"), 10);
  assert_int_equal(i_at(b, "lines[1].amount_minor"), 354);
  assert_int_equal(i_at(b, "totals.amount_minor"), 9604);
  assert_string_equal(s_at(b, "order_no"), "PO77");
  assert_string_equal(s_at(b, "order_date"), "2024-05-14");
  json_object_put(b);
  capture_free(&c);
}

static void test_time_resolution_follows_us_daylight_saving_rules(void **s) {
  (void)s;
  char out[40];
  assert_int_equal(x12_resolve_time("20240310", "0159", "ET", "UTC", out, sizeof(out)), 0);
  assert_string_equal(out, "2024-03-10T01:59:00-05:00");
  assert_int_equal(x12_resolve_time("20240310", "0300", "ET", "UTC", out, sizeof(out)), 0);
  assert_string_equal(out, "2024-03-10T03:00:00-04:00");
  assert_int_equal(x12_resolve_time("20241103", "0300", "PT", "UTC", out, sizeof(out)), 0);
  assert_string_equal(out, "2024-11-03T03:00:00-08:00");
  assert_int_equal(x12_resolve_time("20240101", "1200", "LT", "+05:30", out, sizeof(out)), 0);
  assert_string_equal(out, "2024-01-01T12:00:00+05:30");
  assert_int_equal(x12_resolve_time("20241301", "1200", "UT", "UTC", out, sizeof(out)), -1);
}

static char *write_json(const xj *v) {
  struct xj_out b = {0};
  xj_write(&b, v);
  assert_int_equal(b.oom, 0);
  return b.d;
}

/* The bodies' JSON tree: members in insertion order, a key set twice keeps
 * its first position with the last value, strings escaped, numbers written
 * as given, a node shared by two parents written twice. */
static void test_json_tree_keeps_order_replaces_in_place_and_escapes(void **s) {
  (void)s;
  xj_mark_t m = xj_mark();
  xj *o = xj_object();
  xj_set(o, "b", xj_string("first"));
  xj_set(o, "a", xj_int(-9223372036854775807LL - 1));
  xj_set(o, "b", xj_string("second")); /* replaced, stays first */
  char key[8] = "dyn";
  xj_set_copy(o, key, xj_number("0.50"));
  strcpy(key, "xxx"); /* the tree copied the key */
  xj *addr = xj_object();
  xj_set(addr, "city", xj_string("q\"u\\o\nt\te\r\x01/\xc3\xa9"));
  xj *arr = xj_array();
  for (int i = 0; i < 9; i++) xj_push(arr, xj_int(i));
  xj_push(arr, xj_bool(1));
  xj_push(arr, xj_bool(0));
  xj_push(arr, NULL);
  xj_set(o, "list", arr);
  xj_set(o, "from", addr);
  xj_set(o, "to", addr);
  assert_int_equal(xj_len(arr), 12);
  assert_true(xj_get(o, "dyn", NULL));
  assert_false(xj_get(o, "xxx", NULL));
  xj *v = NULL;
  assert_true(xj_get(o, "b", &v));
  assert_string_equal(xj_str(v), "second");
  assert_string_equal(xj_str(xj_at(arr, 0)), ""); /* not a string */
  char *text = write_json(o);
  assert_string_equal(
      text,
      "{\"b\":\"second\",\"a\":-9223372036854775808,\"dyn\":0.50,"
      "\"list\":[0,1,2,3,4,5,6,7,8,true,false,null],"
      "\"from\":{\"city\":\"q\\\"u\\\\o\\nt\\te\\r\\u0001/\xc3\xa9\"},"
      "\"to\":{\"city\":\"q\\\"u\\\\o\\nt\\te\\r\\u0001/\xc3\xa9\"}}");
  /* json-c reads it back */
  json_object *back = json_tokener_parse(text);
  assert_non_null(back);
  json_object_put(back);
  free(text);
  assert_int_equal(xj_failed(), 0);
  xj_reset(m);
}

/* A set whose tree outgrows the first arena chunk, and a nested mark: the
 * inner reset drops only what was built after it. */
static void test_json_arena_grows_and_resets_to_a_mark(void **s) {
  (void)s;
  xj_mark_t outer = xj_mark();
  xj *a = xj_array();
  char big[3000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  for (int i = 0; i < 200; i++) xj_push(a, xj_string(big)); /* ~600 KB */
  xj_mark_t inner = xj_mark();
  xj *o = xj_object();
  for (int i = 0; i < 100; i++) xj_set(o, "k", xj_string(big));
  xj_reset(inner);
  assert_int_equal(xj_len(a), 200);
  assert_int_equal(strlen(xj_str(xj_at(a, 199))), sizeof(big) - 1);
  xj_push(a, xj_string("last")); /* the arena is usable after the reset */
  assert_string_equal(xj_str(xj_at(a, 200)), "last");
  xj_reset(outer);
  xj_thread_release();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_214_gives_one_milestone_per_at7_with_resolved_times),
      cmocka_unit_test(test_210_charges_are_n2_minor_units_and_totals_checked),
      cmocka_unit_test(test_204_gives_a_shipment_with_stops),
      cmocka_unit_test(test_990_gives_the_tender_response),
      cmocka_unit_test(test_856_keeps_the_shipment_order_pack_item_hierarchy),
      cmocka_unit_test(test_850_prices_are_integer_minor_units_with_price_per),
      cmocka_unit_test(test_time_resolution_follows_us_daylight_saving_rules),
      cmocka_unit_test(test_json_tree_keeps_order_replaces_in_place_and_escapes),
      cmocka_unit_test(test_json_arena_grows_and_resets_to_a_mark),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
