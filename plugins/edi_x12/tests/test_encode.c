/* test_encode.c - encode -> decode round trips with configurable
 * delimiters; counts and control numbers of what we write. */
#include "x12_test_util.h"

#include <json-c/json.h>

#include "x12_encode.h"

static struct x12_encode_options opts(long n) {
  struct x12_encode_options o = {"ZZ", "DRAYTEST", "ZZ", "PARTNER", "00401",
                                 "004010", 'T', 0, n, n + 1, n + 2,
                                 "20240514", "0832"};
  return o;
}

/* decode(doc) must give exactly one message; returns its body (owned). */
static char *decode_one(const char *doc, const char *type) {
  struct capture c;
  struct x12_decode_report rep;
  memset(&c, 0, sizeof(c));
  int r = test_decode(doc, strlen(doc), 0, &c, &rep);
  if (r != 0) fail_msg("decode failed: %s\n%s", rep.first_error, doc);
  assert_int_equal(c.n, 1);
  assert_string_equal(c.types[0], type);
  char *body = strdup(c.bodies[0]);
  capture_free(&c);
  return body;
}

static char *encode(const char *type, const char *body,
                    const struct x12_delimiters *d, long n) {
  struct x12_writer w;
  struct x12_encode_options o = opts(n);
  char err[256];
  x12w_init(&w, d, "\n");
  if (x12_encode(type, body, strlen(body), &o, &w, err, sizeof(err)) < 0)
    fail_msg("encode %s: %s", type, err);
  return w.data; /* owned by caller */
}

/* Same canonical content, ignoring where it came from. */
static void assert_same_business_content(const char *a, const char *b) {
  json_object *ja = json_tokener_parse(a), *jb = json_tokener_parse(b);
  /* where it came from changes with the control numbers: not content */
  json_object_object_del(ja, "external_refs");
  json_object_object_del(jb, "external_refs");
  json_object *t = NULL;
  if (json_object_object_get_ex(ja, "x12_at7", &t)) { /* milestone ids */
    json_object_object_del(ja, "id");
    json_object_object_del(jb, "id");
  }
  if (!json_object_equal(ja, jb))
    fail_msg("round trip changed the body:\n%s\n%s",
             json_object_to_json_string(ja), json_object_to_json_string(jb));
  json_object_put(ja);
  json_object_put(jb);
}

static void round_trip(const char *gs01, const char *st01, const char *body,
                       const char *type) {
  struct x12_delimiters d;
  x12_default_delimiters(&d);
  char *doc = test_doc("000000009", gs01, "004010", st01, body);
  char *first = decode_one(doc, type);
  char *x12 = encode(type, first, &d, 500);
  char *second = decode_one(x12, type);
  assert_same_business_content(first, second);
  free(doc);
  free(first);
  free(x12);
  free(second);
}

static void test_850_round_trips(void **s) {
  (void)s;
  round_trip("PO", "850",
             "BEG*00*SA*PO77*R1*20240514~\nCUR*BY*USD~\nREF*DP*038~\nDTM*002*20240520~\n"
             "TD5**2*ABCD**ROUTING TEXT~\nN1*ST*XYZ RETAIL*9*0003947268292~\nN3*1 MAIN ST~\n"
             "N4*SOLON*OH*44139*US~\nPO1*1*120*EA*9.25*TE*CB*065322-117*VP*AB3542~\n"
             "PID*F****SMALL WIDGET~\nPO1*2*3*CA*13.5**UP*040123456789~\nCTT*2~\nAMT*1*1150.5~\n",
             "dray.order.created.v1");
}

static void test_810_round_trips(void **s) {
  (void)s;
  round_trip("IN", "810",
             "BIG*20240514*INV9*20240501*PO77~\nCUR*SE*USD~\nREF*BM*BOL1~\n"
             "N1*BT*BUYSNACKS*9*1223334444~\nN3*PO BOX 1~\nN4*TEMPLE*TX*76503~\n"
             "IT1*1*16*CA*12.34**VP*CHIPS1~\nPID*F****CRUNCHY CHIPS~\n"
             "IT1*2*2*EA*5**UP*040123456789~\nTDS*20744~\nCTT*2~\n",
             "dray.invoice.received.v1");
}

static void test_204_round_trips(void **s) {
  (void)s;
  round_trip("SM", "204",
             "B2**ABCD**SHIP42**CC~\nB2A*00~\nL11*PO998*PO~\nG62*64*20240513*Y*1600*UT~\n"
             "N1*SH*ACME~\nS5*1*LD*20000*L*10*PC~\nL11*R1*RE~\nG62*69*20240514*Y*0800*UT~\n"
             "N1*SF*ACME DOCK*93*D1~\nN3*1 MAIN ST~\nN4*DALLAS*TX*75201*US~\nOID*R1*PO998~\n"
             "S5*2*UL~\nG62*70*20240515~\nN1*ST*GLOBEX~\nL3*20000*G***150000~\n",
             "dray.shipment.tendered.v1");
}

static void test_990_round_trips(void **s) {
  (void)s;
  round_trip("GF", "990", "B1*ABCD*SHIP42*20240514*A~\nN9*CN*PRO1~\nK1*OK~\n",
             "dray.shipment.tender_response.v1");
}

static void test_214_round_trips_keeping_the_offset(void **s) {
  (void)s;
  round_trip("QM", "214",
             "B10*PRO123*SHIP42*ABCD~\nLX*1~\nAT7*X1*NS***20240514*0815*ED~\n"
             "MS1*CHICAGO*IL*US~\nMS2*ABCD*TRL9~\n",
             "dray.shipment.milestone.v1");
}

static void test_encoder_uses_configured_delimiters_and_counts(void **s) {
  (void)s;
  struct x12_delimiters d;
  memset(&d, 0, sizeof(d));
  d.element = '|';
  d.component = ':';
  d.repetition = '^';
  d.terminator[0] = '\n';
  d.terminator_len = 1;
  const char *body =
      "{\"id\":\"S1\",\"tender\":{\"response\":\"accepted\",\"responded_at\":"
      "\"2024-05-14T10:00:00Z\"},\"carrier\":{\"scac\":\"ABCD\"},\"notes\":[\"has|pipe\"]}";
  struct x12_writer w;
  struct x12_encode_options o = opts(41);
  char err[128];
  x12w_init(&w, &d, "");
  assert_int_equal(x12_encode("dray.shipment.tender_response.v1", body, strlen(body),
                              &o, &w, err, sizeof(err)), 0);
  assert_int_equal(w.data[3], '|');
  assert_int_equal(w.data[104], ':');
  assert_int_equal(w.data[105], '\n');
  assert_non_null(strstr(w.data, "|000000041|0|T|:\n"));
  assert_non_null(strstr(w.data, "\nGS|GF|DRAYTEST|PARTNER|20240514|0832|42|X|004010\n"));
  assert_non_null(strstr(w.data, "\nST|990|0043\n"));
  assert_non_null(strstr(w.data, "\nK1|has pipe\n")); /* delimiter in data */
  assert_non_null(strstr(w.data, "\nSE|4|0043\n"));
  assert_non_null(strstr(w.data, "\nGE|1|42\nIEA|1|000000041\n"));
  /* and it decodes */
  char *again = decode_one(w.data, "dray.shipment.tender_response.v1");
  assert_non_null(strstr(again, "\"response\":\"accepted\""));
  assert_non_null(strstr(again, "\"notes\":[\"has pipe\"]"));
  free(again);
  x12w_release(&w);
}

static void test_canonical_invoice_without_totals_sums_its_lines(void **s) {
  (void)s;
  const char *body =
      "{\"id\":\"INV-1\",\"issue_date\":\"2024-05-14\",\"currency\":\"USD\","
      "\"bill_to\":{\"id\":\"C1\",\"name\":\"GLOBEX\"},\"shipment_ids\":[\"SHIP42\"],"
      "\"lines\":[{\"description\":\"Linehaul\",\"qty\":1,\"unit_price_minor\":120000,"
      "\"amount_minor\":120000},{\"description\":\"Fuel\",\"qty\":1,"
      "\"unit_price_minor\":15050,\"amount_minor\":15050}]}";
  struct x12_delimiters d;
  x12_default_delimiters(&d);
  char *x12 = encode("dray.invoice.finalized.v1", body, &d, 7);
  assert_non_null(strstr(x12, "\nTDS*135050~"));
  assert_non_null(strstr(x12, "\nIT1*1*1*EA*1200~"));
  assert_non_null(strstr(x12, "\nIT1*2*1*EA*150.5~"));
  assert_non_null(strstr(x12, "\nN1*BT*GLOBEX*92*C1~"));
  char *back = decode_one(x12, "dray.invoice.received.v1");
  assert_non_null(strstr(back, "\"payable_minor\":135050"));
  assert_non_null(strstr(back, "{\"type\":\"shipment\",\"value\":\"SHIP42\",\"qualifier_raw\":\"SI\"}"));
  free(back);
  free(x12);
}

static void test_encode_error_names_the_json_path(void **s) {
  (void)s;
  struct x12_writer w;
  struct x12_delimiters d;
  struct x12_encode_options o = opts(1);
  char err[128];
  x12_default_delimiters(&d);
  x12w_init(&w, &d, "");
  assert_int_equal(x12_encode("dray.shipment.tendered.v1", "{\"id\":\"S\"}", 10,
                              &o, &w, err, sizeof(err)), -1);
  assert_string_equal(err, "$.data.stops: a 204 needs at least one stop (S5)");
  x12w_release(&w);
  x12w_init(&w, &d, "");
  assert_int_equal(x12_encode("dray.order.created.v1", "[1]", 3, &o, &w, err, sizeof(err)), -1);
  assert_string_equal(err, "$.data: not a JSON object");
  x12w_release(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_850_round_trips),
      cmocka_unit_test(test_810_round_trips),
      cmocka_unit_test(test_204_round_trips),
      cmocka_unit_test(test_990_round_trips),
      cmocka_unit_test(test_214_round_trips_keeping_the_offset),
      cmocka_unit_test(test_encoder_uses_configured_delimiters_and_counts),
      cmocka_unit_test(test_canonical_invoice_without_totals_sums_its_lines),
      cmocka_unit_test(test_encode_error_names_the_json_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
