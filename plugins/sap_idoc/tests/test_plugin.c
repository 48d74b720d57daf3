/* test_plugin.c - the sap_idoc plugin through the SDK's mock host: decode
 * and encode callbacks with their canonical mappings (checked against the
 * canonical schemas when the validator is built), the file port, the HTTP
 * XML port inbound, and the outbound port against tools/sap_sim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dray-sdk/mock_host.h>
#ifdef HAVE_DRAY_VALIDATE
#include <dray-sdk/validate.h>
#endif

#include "test_util.h"

const struct dray_plugin *sap_idoc_descriptor(void);

struct fx {
  dray_mock_host *mh;
  const struct dray_host *h;
  const struct dray_plugin *p;
  void *state;
  char tmp[256];
};

static void fx_new(struct fx *f, const char *const *config) {
  memset(f, 0, sizeof *f);
  snprintf(f->tmp, sizeof f->tmp, "/tmp/sap_idoc_test_XXXXXX");
  assert_non_null(mkdtemp(f->tmp));
  f->mh = dray_mock_host_new("sap");
  f->h = dray_mock_host_table(f->mh);
  f->p = sap_idoc_descriptor();
  for (size_t i = 0; config && config[i]; i += 2) {
    char v[512];
    /* "@" expands to the test's temporary directory */
    if (config[i + 1][0] == '@')
      snprintf(v, sizeof v, "%s%s", f->tmp, config[i + 1] + 1);
    else
      snprintf(v, sizeof v, "%s", config[i + 1]);
    assert_int_equal(dray_mock_host_set_config(f->mh, config[i], v), 0);
  }
  int rc = dray_mock_host_create(f->mh, f->p, &f->state);
  if (rc) fprintf(stderr, "create: %s\n", dray_mock_host_last_error(f->mh));
  assert_int_equal(rc, 0);
}

static void fx_free(struct fx *f) {
  if (f->state) {
    if (f->p->stop) f->p->stop(f->state);
    f->p->destroy(f->state);
  }
  dray_mock_host_destroy(&f->mh);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->tmp);
  if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", f->tmp);
}

/* Body of a message as parsed JSON (caller puts it). */
static json_object *body_of(struct fx *f, const dray_msg *m) {
  size_t len;
  const char *b = f->h->msg_body(m, &len);
  json_object *o = json_tokener_parse(b);
  assert_non_null(o);
#ifdef HAVE_DRAY_VALIDATE
  char err[512];
  int rc = dray_validate_body(f->h->msg_type(m), b, len, err, sizeof err);
  if (rc) fprintf(stderr, "schema: %s\n%s\n", err, b);
  assert_int_equal(rc, 0);
#endif
  return o;
}

/* "lines.0.item_ids.vendor" */
static json_object *jp(json_object *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *tok = strtok(buf, "."); tok && o; tok = strtok(NULL, ".")) {
    if (json_object_is_type(o, json_type_array))
      o = json_object_array_get_idx(o, (size_t)atoi(tok));
    else if (!json_object_object_get_ex(o, tok, &o))
      return NULL;
  }
  return o;
}

static const char *js(json_object *o, const char *path) {
  json_object *v = jp(o, path);
  return v ? json_object_get_string(v) : "(absent)";
}

static idoc_registry *shipped(void) {
  idoc_registry *reg = idoc_registry_new();
  struct idoc_err err = {""};
  assert_int_equal(idoc_registry_load_shipped(reg, &err), 0);
  return reg;
}

/* ORDERS05 as SAP writes it, built from the definitions. */
static void orders_flat(struct tflat *fl, const char *docnum, int bad) {
  idoc_registry *reg = shipped();
  const struct idoc_type *t = idoc_registry_find(reg, "ORDERS05");
  struct trec r;
  tr_dc40(fl, "ORDERS05", NULL, "ORDERS", docnum, "\n");
  if (!bad) {
    tr_dd40(&r, "E2EDK01005", docnum, "000001", "000000", "01");
    tr_field(&r, t, "E1EDK01", "CURCY", "USD");
    tr_field(&r, t, "E1EDK01", "BSART", "NB");
    tr_field(&r, t, "E1EDK01", "BELNR", "4500000017");
    tr_emit(&r, fl, -1, "\n");
  }
  tr_dd40(&r, "E2EDKA1003", docnum, "000002", "000000", "02");
  tr_field(&r, t, "E1EDKA1", "PARVW", "WE");
  tr_field(&r, t, "E1EDKA1", "PARTN", "0000100235");
  tr_field(&r, t, "E1EDKA1", "NAME1", "Globex DC West");
  tr_field(&r, t, "E1EDKA1", "LAND1", "US");
  tr_emit(&r, fl, -1, "\n");
  tr_dd40(&r, "E2EDK02", docnum, "000003", "000000", "02");
  tr_field(&r, t, "E1EDK02", "QUALF", "001");
  tr_field(&r, t, "E1EDK02", "BELNR", "PO-77");
  tr_field(&r, t, "E1EDK02", "DATUM", "20240301");
  tr_emit(&r, fl, -1, "\n");
  tr_dd40(&r, "E2EDP01011", docnum, "000004", "000000", "02");
  tr_field(&r, t, "E1EDP01", "POSEX", "000010");
  tr_field(&r, t, "E1EDP01", "MENGE", "12.000");
  tr_field(&r, t, "E1EDP01", "MENEE", "EA");
  tr_field(&r, t, "E1EDP01", "VPREI", "18.40");
  tr_field(&r, t, "E1EDP01", "NETWR", "220.80");
  tr_emit(&r, fl, -1, "\n");
  tr_dd40(&r, "E2EDP19003", docnum, "000005", "000004", "03");
  tr_field(&r, t, "E1EDP19", "QUALF", "003");
  tr_field(&r, t, "E1EDP19", "IDTNR", "04012345678901");
  tr_field(&r, t, "E1EDP19", "KTEXT", "Seal kit SK-14");
  tr_emit(&r, fl, -1, "\n");
  idoc_registry_destroy(&reg);
}

static void test_decode_orders05_gives_an_order_with_sap_idempotency_key(void **st) {
  (void)st;
  struct fx f;
  fx_new(&f, NULL);
  struct tflat fl = {0};
  orders_flat(&fl, "0000000000004711", 0);
  dray_batch *out = dray_mock_batch_new();
  assert_int_equal(f.p->decode(f.state, fl.p, fl.len, "o.idoc", out), DRAY_OK);
  assert_int_equal(dray_mock_batch_count(out), 1);
  const dray_msg *m = dray_mock_batch_get(out, 0);
  assert_string_equal(f.h->msg_type(m), "dray.order.created.v1");
  assert_string_equal(f.h->msg_header(m, "idempotencykey"),
                      "sap:PRDCLNT100:ORDERS05:0000000000004711");
  assert_string_equal(f.h->msg_header(m, "partitionkey"), "PO-77");
  json_object *b = body_of(&f, m);
  assert_string_equal(js(b, "order_no"), "PO-77");
  assert_string_equal(js(b, "erp_ref"), "4500000017");
  assert_string_equal(js(b, "po_date"), "2024-03-01");
  assert_string_equal(js(b, "parties.0.role"), "ship_to");
  assert_string_equal(js(b, "lines.0.line_no"), "000010");
  assert_int_equal(json_object_get_int64(jp(b, "lines.0.unit_price_minor")), 1840);
  assert_int_equal(json_object_get_int64(jp(b, "lines.0.amount_minor")), 22080);
  assert_true(json_object_get_double(jp(b, "lines.0.qty")) == 12.0);
  assert_string_equal(js(b, "lines.0.item_ids.gtin"), "04012345678901");
  json_object_put(b);
  dray_mock_batch_destroy(&out);
  /* a bad IDoc is refused with an error naming it */
  fl.len = 0;
  orders_flat(&fl, "0000000000004712", 1);
  out = dray_mock_batch_new();
  assert_int_equal(f.p->decode(f.state, fl.p, fl.len, "bad.idoc", out),
                   DRAY_REJECT);
  assert_int_equal(dray_mock_batch_count(out), 0);
  assert_non_null(strstr(dray_mock_host_last_error(f.mh), "0000000000004712"));
  assert_non_null(strstr(dray_mock_host_last_error(f.mh), "E1EDK01"));
  dray_mock_batch_destroy(&out);
  free(fl.p);
  fx_free(&f);
}

static const char *delvry_xml =
    "<?xml version=\"1.0\"?>\n<DELVRY07><IDOC BEGIN=\"1\">"
    "<EDI_DC40 SEGMENT=\"1\"><TABNAM>EDI_DC40</TABNAM><MANDT>100</MANDT>"
    "<DOCNUM>0000000000000815</DOCNUM><IDOCTYP>DELVRY07</IDOCTYP>"
    "<MESTYP>DESADV</MESTYP><SNDPRN>PRDCLNT100</SNDPRN></EDI_DC40>\n"
    "<E1EDL20 SEGMENT=\"1\"><VBELN>0080012345</VBELN><INCO1>FCA</INCO1>"
    "<BTGEW>120.5</BTGEW><GEWEI>KGM</GEWEI><ANZPK>2</ANZPK>"
    "<BOLNR>BOL-9</BOLNR><LIFEX>ASN-1</LIFEX>\n"
    "<E1ADRM1 SEGMENT=\"1\"><PARTNER_Q>SP</PARTNER_Q><PARTNER_ID>CARR1</PARTNER_ID>"
    "<NAME1>Fast Freight</NAME1></E1ADRM1>\n"
    "<E1ADRM1 SEGMENT=\"1\"><PARTNER_Q>WE</PARTNER_Q><PARTNER_ID>100235</PARTNER_ID>"
    "<NAME1>Globex DC</NAME1><CITY1>Long Beach</CITY1><COUNTRY1>US</COUNTRY1></E1ADRM1>\n"
    "<E1EDT13 SEGMENT=\"1\"><QUALF>006</QUALF><NTANF>20240515</NTANF>"
    "<NTANZ>100000</NTANZ></E1EDT13>\n"
    "<E1EDL24 SEGMENT=\"1\"><POSNR>000010</POSNR><MATNR>MAT-1</MATNR>"
    "<ARKTX>Pump</ARKTX><LFIMG>5</LFIMG><VRKME>EA</VRKME><VGBEL>0000004711</VGBEL>"
    "<VGPOS>000010</VGPOS></E1EDL24>\n"
    "<E1EDL37 SEGMENT=\"1\"><EXIDV>00340123450000000017</EXIDV><VHILM>PAL</VHILM>"
    "<E1EDL44 SEGMENT=\"1\"><VELIN>1</VELIN><POSNR>000010</POSNR><VEMNG>5</VEMNG>"
    "<VEMEH>EA</VEMEH><MATNR>MAT-1</MATNR></E1EDL44></E1EDL37>\n"
    "</E1EDL20></IDOC></DELVRY07>\n";

static void test_decode_delvry07_gives_a_shipment_with_handling_units(void **st) {
  (void)st;
  struct fx f;
  fx_new(&f, NULL);
  dray_batch *out = dray_mock_batch_new();
  dray_status s = f.p->decode(f.state, delvry_xml, strlen(delvry_xml), "d.xml", out);
  if (s) fprintf(stderr, "%s\n", dray_mock_host_last_error(f.mh));
  assert_int_equal(s, DRAY_OK);
  const dray_msg *m = dray_mock_batch_get(out, 0);
  assert_string_equal(f.h->msg_type(m), "dray.shipment.created.v1");
  json_object *b = body_of(&f, m);
  assert_string_equal(js(b, "delivery_no"), "0080012345");
  assert_string_equal(js(b, "asn_no"), "ASN-1");
  assert_string_equal(js(b, "carrier.code"), "CARR1");
  assert_string_equal(js(b, "weight.unit"), "kg");
  assert_string_equal(js(b, "ship_date"), "2024-05-15T10:00:00Z");
  assert_string_equal(js(b, "packages.0.sscc"), "340123450000000017");
  assert_string_equal(js(b, "packages.0.lines.0.item_ids.material"), "MAT-1");
  assert_string_equal(js(b, "lines.0.order_ref.order_no"), "0000004711");
  assert_string_equal(js(b, "order_refs.0.order_no"), "0000004711");
  json_object_put(b);
  dray_mock_batch_destroy(&out);
  fx_free(&f);
}

static const char *shpmnt_xml =
    "<SHPMNT05><IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><DOCNUM>0000000000000900"
    "</DOCNUM><IDOCTYP>SHPMNT05</IDOCTYP><MESTYP>SHPMNT</MESTYP>"
    "<SNDPRN>PRDCLNT100</SNDPRN></EDI_DC40>"
    "<E1EDT20 SEGMENT=\"1\"><TKNUM>0000012345</TKNUM><VSART>01</VSART>"
    "<EXTI1>TRUCK-7</EXTI1><TDLNR>CARR1</TDLNR>"
    "<E1EDK33 SEGMENT=\"1\"><TSNUM>0001</TSNUM><TSRFO>0001</TSRFO>"
    "<VSTEL>1000</VSTEL><KNOTZ>HUB-1</KNOTZ><DTABF>20240516</DTABF>"
    "<UZABF>080000</UZABF><DTANK>20240516</DTANK><UZANK>120000</UZANK></E1EDK33>"
    "<E1EDK33 SEGMENT=\"1\"><TSNUM>0002</TSNUM><TSRFO>0002</TSRFO>"
    "<KNOTA>HUB-1</KNOTA><KUNNZ>100235</KUNNZ><DTABF>20240516</DTABF>"
    "<UZABF>130000</UZABF><DTANK>20240517</DTANK><UZANK>090000</UZANK>"
    "<E1ADRM6 SEGMENT=\"1\"><PARTNER_Q>DEP</PARTNER_Q><NAME1>Hub</NAME1></E1ADRM6>"
    "<E1ADRM6 SEGMENT=\"1\"><PARTNER_Q>DES</PARTNER_Q><NAME1>Globex DC</NAME1>"
    "<CITY1>Long Beach</CITY1></E1ADRM6></E1EDK33>"
    "<E1EDL20 SEGMENT=\"1\"><VBELN>0080012345</VBELN></E1EDL20>"
    "</E1EDT20></IDOC></SHPMNT05>";

static void test_decode_shpmnt05_turns_stages_into_ordered_stops(void **st) {
  (void)st;
  struct fx f;
  fx_new(&f, NULL);
  dray_batch *out = dray_mock_batch_new();
  dray_status s = f.p->decode(f.state, shpmnt_xml, strlen(shpmnt_xml), "s.xml", out);
  if (s) fprintf(stderr, "%s\n", dray_mock_host_last_error(f.mh));
  assert_int_equal(s, DRAY_OK);
  json_object *b = body_of(&f, dray_mock_batch_get(out, 0));
  json_object *stops = jp(b, "stops");
  assert_int_equal(json_object_array_length(stops), 3);
  assert_string_equal(js(b, "stops.0.type"), "pickup");
  assert_string_equal(js(b, "stops.0.location.id"), "shipping_point:1000");
  assert_string_equal(js(b, "stops.0.planned_departure"), "2024-05-16T08:00:00Z");
  assert_string_equal(js(b, "stops.1.location.id"), "point:HUB-1");
  assert_string_equal(js(b, "stops.1.planned_departure"), "2024-05-16T13:00:00Z");
  assert_string_equal(js(b, "stops.2.type"), "delivery");
  assert_string_equal(js(b, "stops.2.location.name"), "Globex DC");
  assert_string_equal(js(b, "mode"), "ftl");
  assert_string_equal(js(b, "external_refs.1.value"), "0000012345");
  json_object_put(b);
  dray_mock_batch_destroy(&out);
  fx_free(&f);
}

/* Decodes reuse the instance's sets (their memory kept between
 * documents): a document decoded after others, good or refused, must come
 * out exactly as on a fresh instance. */
static char *decode_body(struct fx *f, const char *doc, const char *origin,
                         dray_status want) {
  dray_batch *out = dray_mock_batch_new();
  dray_status s = f->p->decode(f->state, doc, strlen(doc), origin, out);
  assert_int_equal(s, want);
  char *body = NULL;
  if (want == DRAY_OK) {
    size_t len;
    const char *b = f->h->msg_body(dray_mock_batch_get(out, 0), &len);
    body = strndup(b, len);
  }
  dray_mock_batch_destroy(&out);
  return body;
}

static void test_a_document_decoded_after_others_carries_nothing_of_them(void **st) {
  (void)st;
  struct fx fresh, used;
  fx_new(&fresh, NULL);
  fx_new(&used, NULL);
  char *want = decode_body(&fresh, shpmnt_xml, "s.xml", DRAY_OK);
  free(decode_body(&used, delvry_xml, "d.xml", DRAY_OK));
  /* refused half-way, after some of its segments were decoded */
  char broken[2048];
  snprintf(broken, sizeof broken, "%.*s<E1EDK33 SEGMENT=\"1\"><NOPE>1</NOPE>",
           (int)(strstr(shpmnt_xml, "<E1EDL20") - shpmnt_xml), shpmnt_xml);
  assert_null(decode_body(&used, broken, "b.xml", DRAY_REJECT));
  for (int i = 0; i < 3; i++) {
    char *got = decode_body(&used, shpmnt_xml, "s.xml", DRAY_OK);
    assert_string_equal(got, want);
    free(got);
  }
  free(want);
  fx_free(&fresh);
  fx_free(&used);
}

static void test_decode_systat01_gives_one_ack_per_status_record(void **st) {
  (void)st;
  struct fx f;
  fx_new(&f, NULL);
  const char *x =
      "<SYSTAT01><IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\"><DOCNUM>0000000000000001"
      "</DOCNUM><IDOCTYP>SYSTAT01</IDOCTYP><MESTYP>STATUS</MESTYP><SNDPRN>PRD"
      "</SNDPRN></EDI_DC40><E1STATS SEGMENT=\"1\"><DOCNUM>0000000000123456</DOCNUM>"
      "<LOGDAT>20240516</LOGDAT><LOGTIM>101500</LOGTIM><STATUS>53</STATUS>"
      "<STATXT>Invoice posted</STATXT></E1STATS><E1STATS SEGMENT=\"1\"><DOCNUM>"
      "0000000000123457</DOCNUM><STATUS>51</STATUS><STATXT>Vendor blocked"
      "</STATXT></E1STATS></IDOC></SYSTAT01>";
  dray_batch *out = dray_mock_batch_new();
  assert_int_equal(f.p->decode(f.state, x, strlen(x), "st.xml", out), DRAY_OK);
  assert_int_equal(dray_mock_batch_count(out), 2);
  json_object *a = body_of(&f, dray_mock_batch_get(out, 0));
  assert_string_equal(js(a, "status"), "accepted");
  assert_string_equal(js(a, "status_raw.code"), "53");
  assert_string_equal(js(a, "idoc_number"), "0000000000123456");
  assert_string_equal(js(a, "received_at"), "2024-05-16T10:15:00Z");
  json_object *r = body_of(&f, dray_mock_batch_get(out, 1));
  assert_string_equal(js(r, "status"), "rejected");
  assert_string_equal(js(r, "error.message"), "Vendor blocked");
  json_object_put(a);
  json_object_put(r);
  dray_mock_batch_destroy(&out);
  fx_free(&f);
}

static dray_msg *canonical(struct fx *f, const char *type, const char *body) {
  dray_msg *m = f->h->msg_new(dray_mock_host_instance(f->mh), type, body,
                              strlen(body));
  assert_non_null(m);
  return m;
}

static const char *invoice_json =
    "{\"id\":\"inv-1\",\"number\":\"INV-2024-0042\",\"type\":\"invoice\","
    "\"status\":\"finalized\",\"currency\":\"USD\",\"issue_date\":\"2024-05-20\","
    "\"due_date\":\"2024-06-19\",\"parties\":[{\"role\":\"bill_to\",\"id\":\"100234\","
    "\"name\":\"Globex Distribution Inc.\",\"address\":{\"street\":[\"4500 Harbor Blvd\"],"
    "\"city\":\"Long Beach\",\"postal_code\":\"90802\",\"country\":\"US\"}}],"
    "\"order_refs\":[{\"po_number\":\"PO-77\"}],"
    "\"lines\":[{\"line_no\":\"1\",\"charge_code\":\"base\",\"description\":\"Linehaul\","
    "\"qty\":1,\"amount_minor\":120000},{\"line_no\":\"2\",\"charge_code\":\"fuel\","
    "\"description\":\"Fuel surcharge\",\"amount_minor\":3456}],"
    "\"totals\":{\"net_minor\":123456,\"tax_minor\":0,\"payable_minor\":123456}}";

static void test_encode_invoice_writes_invoic02_that_decodes_back(void **st) {
  (void)st;
  const char *cfg[] = {"format", "flat", NULL};
  struct fx f;
  fx_new(&f, cfg);
  dray_msg *m = canonical(&f, "dray.invoice.finalized.v1", invoice_json);
  dray_buf *buf = dray_mock_buf_new();
  dray_status s = f.p->encode(f.state, m, buf);
  if (s) fprintf(stderr, "%s\n", dray_mock_host_last_error(f.mh));
  assert_int_equal(s, DRAY_OK);
  size_t len;
  const char *flat = dray_mock_buf_data(buf, &len);
  /* every record is a full EDI_DC40 / EDI_DD40 line */
  assert_int_equal(strchr(flat, '\n') - flat, IDOC_DC40_LEN);
  assert_int_equal(strchr(strchr(flat, '\n') + 1, '\n') - strchr(flat, '\n') - 1,
                   IDOC_DD40_LEN);
  idoc_registry *reg = shipped();
  idoc_set *set = idoc_set_new();
  struct idoc_err err = {""};
  assert_int_equal(idoc_flat_decode(reg, flat, len, "inv", NULL, set, &err), 0);
  assert_int_equal(idoc_validate(set, "inv", &err), 0);
  assert_string_equal(idoc_doc_dc(set, 0, DC_IDOCTYP), "INVOIC02");
  assert_string_equal(idoc_doc_dc(set, 0, DC_MESTYP), "INVOIC");
  assert_string_equal(idoc_doc_dc(set, 0, DC_RCVPRN), "SAP");
  int k01 = idoc_find_child(set, 0, -1, "E1EDK01", -1);
  assert_string_equal(idoc_seg_str(set, k01, "BELNR"), "INV-2024-0042");
  assert_string_equal(idoc_seg_str(set, k01, "CURCY"), "USD");
  int ka1 = idoc_find_child(set, 0, -1, "E1EDKA1", -1);
  assert_string_equal(idoc_seg_str(set, ka1, "PARVW"), "RE");
  int s01 = -1, found = 0;
  while ((s01 = idoc_find_child(set, 0, -1, "E1EDS01", s01)) >= 0)
    if (!strcmp(idoc_seg_str(set, s01, "SUMID"), "011")) {
      assert_string_equal(idoc_seg_str(set, s01, "SUMME"), "1234.56");
      found = 1;
    }
  assert_true(found);
  int p01 = idoc_find_child(set, 0, -1, "E1EDP01", -1);
  p01 = idoc_find_child(set, 0, -1, "E1EDP01", p01);
  int p05 = idoc_find_child(set, 0, p01, "E1EDP05", -1);
  assert_string_equal(idoc_seg_str(set, p05, "KOTXT"), "Fuel surcharge");
  assert_string_equal(idoc_seg_str(set, p05, "BETRG"), "34.56");
  /* flat -> XML -> flat is identical */
  char *xml;
  size_t xlen;
  assert_int_equal(idoc_xml_encode(set, &xml, &xlen, &err), 0);
  idoc_set *set2 = idoc_set_new();
  assert_int_equal(idoc_xml_decode(reg, xml, xlen, "x", set2, &err), 0);
  char *flat2 = NULL;
  size_t flen2 = 0, fcap2 = 0;
  assert_int_equal(idoc_flat_encode(set2, NULL, &flat2, &flen2, &fcap2, &err), 0);
  assert_int_equal(flen2, len);
  assert_memory_equal(flat2, flat, len);
  free(flat2);
  free(xml);
  idoc_set_destroy(&set2);
  idoc_set_destroy(&set);
  idoc_registry_destroy(&reg);
  f.h->msg_free(&m);
  /* an invoice without a number cannot become an INVOIC02 */
  m = canonical(&f, "dray.invoice.finalized.v1",
                "{\"id\":\"x\",\"currency\":\"USD\",\"type\":\"invoice\"}");
  dray_mock_buf_reset(buf);
  assert_int_equal(f.p->encode(f.state, m, buf), DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(f.mh), "$.data.number"));
  f.h->msg_free(&m);
  dray_mock_buf_destroy(&buf);
  fx_free(&f);
}

static void test_milestones_become_shipment_status_only_when_sap_tracks_them(void **st) {
  (void)st;
  const char *cfg[] = {"format", "xml", NULL};
  struct fx f;
  fx_new(&f, cfg);
  const char *delivered =
      "{\"id\":\"m1\",\"shipment_id\":\"sap:PRDCLNT100:shipment:0000012345\","
      "\"status\":\"delivered\",\"raw\":{\"system\":\"x12.214\",\"code\":\"D1\"},"
      "\"occurred_at\":\"2024-05-17T09:12:00-07:00\"}";
  dray_msg *m = canonical(&f, "dray.shipment.milestone.v1", delivered);
  dray_buf *buf = dray_mock_buf_new();
  assert_int_equal(f.p->encode(f.state, m, buf), DRAY_OK);
  size_t len;
  const char *xml = dray_mock_buf_data(buf, &len);
  assert_non_null(strstr(xml, "<TKNUM>0000012345</TKNUM>"));
  assert_non_null(strstr(xml, "<QUALF>007</QUALF>"));
  assert_non_null(strstr(xml, "<ISDD>20240517</ISDD><ISDZ>091200</ISDZ>"));
  assert_non_null(strstr(xml, "<TZONE_BEG>-07:00</TZONE_BEG>"));
  /* round trip: the status IDoc read back is a shipment change carrying
   * the same moment */
  dray_batch *out = dray_mock_batch_new();
  assert_int_equal(f.p->decode(f.state, xml, len, "status.xml", out), DRAY_OK);
  const dray_msg *back = dray_mock_batch_get(out, 0);
  assert_string_equal(f.h->msg_type(back), "dray.shipment.changed.v1");
  json_object *b = body_of(&f, back);
  assert_string_equal(js(b, "delivered_at"), "2024-05-17T09:12:00-07:00");
  assert_string_equal(js(b, "purpose"), "change");
  json_object_put(b);
  dray_mock_batch_destroy(&out);
  f.h->msg_free(&m);
  const char *transit =
      "{\"id\":\"m2\",\"shipment_id\":\"sap:PRDCLNT100:shipment:0000012345\","
      "\"status\":\"in_transit\",\"raw\":{\"system\":\"x12.214\",\"code\":\"X6\"},"
      "\"occurred_at\":\"2024-05-17T08:00:00Z\"}";
  m = canonical(&f, "dray.shipment.milestone.v1", transit);
  dray_mock_buf_reset(buf);
  assert_int_equal(f.p->encode(f.state, m, buf), DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(f.mh), "not tracked"));
  f.h->msg_free(&m);
  dray_mock_buf_destroy(&buf);
  fx_free(&f);
}

static void test_acks_of_sap_idocs_go_back_as_systat01_and_aleaud01(void **st) {
  (void)st;
  const char *cfg[] = {"format", "xml", NULL};
  struct fx f;
  fx_new(&f, cfg);
  /* the order came from SAP IDoc 4711; the partner rejects it with a 997 */
  struct tflat fl = {0};
  orders_flat(&fl, "0000000000004711", 0);
  dray_batch *out = dray_mock_batch_new();
  assert_int_equal(f.p->decode(f.state, fl.p, fl.len, "o.idoc", out), DRAY_OK);
  const char *event_id = f.h->msg_header(dray_mock_batch_get(out, 0), "id");
  char ack[512];
  snprintf(ack, sizeof ack,
           "{\"ref_event_id\":\"%s\",\"kind\":\"functional\",\"protocol\":"
           "\"x12_997\",\"status\":\"rejected\",\"partner\":\"ACME\"}",
           event_id);
  dray_msg *m = canonical(&f, "dray.ack.received.v1", ack);
  dray_buf *buf = dray_mock_buf_new();
  dray_status s = f.p->encode(f.state, m, buf);
  if (s) fprintf(stderr, "%s\n", dray_mock_host_last_error(f.mh));
  assert_int_equal(s, DRAY_OK);
  size_t len;
  const char *xml = dray_mock_buf_data(buf, &len);
  assert_non_null(strstr(xml, "<SYSTAT01>"));
  assert_non_null(strstr(xml, "<DOCNUM>0000000000004711</DOCNUM>"));
  assert_non_null(strstr(xml, "<STATUS>17</STATUS>"));
  assert_non_null(strstr(xml, "<STATYP>E</STATYP>"));
  f.h->msg_free(&m);
  /* once the order is processed downstream, SAP gets an ALEAUD01 53 */
  snprintf(ack, sizeof ack,
           "{\"ref_event_id\":\"%s\",\"kind\":\"business\",\"protocol\":"
           "\"internal\",\"status\":\"accepted\"}", event_id);
  m = canonical(&f, "dray.ack.received.v1", ack);
  dray_mock_buf_reset(buf);
  assert_int_equal(f.p->encode(f.state, m, buf), DRAY_OK);
  xml = dray_mock_buf_data(buf, &len);
  assert_non_null(strstr(xml, "<ALEAUD01>"));
  assert_non_null(strstr(xml, "<E1ADHDR SEGMENT=\"1\"><MESTYP>ORDERS</MESTYP>"));
  assert_non_null(strstr(xml, "<DOCNUM>0000000000004711</DOCNUM><STATUS>53</STATUS>"));
  f.h->msg_free(&m);
  dray_mock_buf_destroy(&buf);
  dray_mock_batch_destroy(&out);
  free(fl.p);
  fx_free(&f);
}

static int count_files(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name), sl = strlen(suffix);
    if (e->d_name[0] != '.' && l >= sl && !strcmp(e->d_name + l - sl, suffix)) n++;
  }
  closedir(d);
  return n;
}

static void write_file(const char *path, const char *data, size_t len) {
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(data, 1, len, fp), len);
  fclose(fp);
}

static void test_file_port_moves_good_files_to_done_and_bad_to_failed(void **st) {
  (void)st;
  const char *cfg[] = {"inbound_dir", "@/in", "outbound_dir", "@/out", NULL};
  struct fx f;
  fx_new(&f, cfg);
  char path[512];
  struct tflat fl = {0};
  orders_flat(&fl, "0000000000000001", 0);
  snprintf(path, sizeof path, "%s/in/a_good.idoc", f.tmp);
  write_file(path, fl.p, fl.len);
  fl.len = 0;
  orders_flat(&fl, "0000000000000002", 1);
  snprintf(path, sizeof path, "%s/in/b_bad.idoc", f.tmp);
  write_file(path, fl.p, fl.len);
  int worked = 1;
  for (int i = 0; i < 5 && worked; i++)
    assert_int_equal(f.p->poll(f.state, &worked), DRAY_OK);
  assert_int_equal(dray_mock_host_emitted_count(f.mh), 1);
  snprintf(path, sizeof path, "%s/in/done", f.tmp);
  assert_int_equal(count_files(path, ".idoc"), 1);
  snprintf(path, sizeof path, "%s/in/failed", f.tmp);
  assert_int_equal(count_files(path, ".idoc"), 1);
  snprintf(path, sizeof path, "%s/in/failed/b_bad.idoc.error", f.tmp);
  size_t elen;
  char *why = read_whole(path, &elen);
  assert_non_null(why);
  assert_non_null(strstr(why, "0000000000000002"));
  assert_non_null(strstr(why, "mandatory segment E1EDK01"));
  free(why);
  /* outbound: an invoice lands as one complete file, no temp file left */
  dray_msg *m = canonical(&f, "dray.invoice.finalized.v1", invoice_json);
  assert_int_equal(f.p->process(f.state, m), DRAY_OK);
  f.h->msg_free(&m);
  snprintf(path, sizeof path, "%s/out", f.tmp);
  assert_int_equal(count_files(path, ".idoc"), 1);
  DIR *d = opendir(path);
  struct dirent *e;
  while ((e = readdir(d))) assert_true(strncmp(e->d_name, ".tmp-", 5) != 0);
  closedir(d);
  free(fl.p);
  fx_free(&f);
}

static void test_file_port_waits_for_files_still_being_written(void **st) {
  (void)st;
  const char *cfg[] = {"inbound_dir", "@/in", "stable_age_ms", "400", NULL};
  struct fx f;
  fx_new(&f, cfg);
  char path[512];
  struct tflat fl = {0};
  orders_flat(&fl, "0000000000000021", 0);
  snprintf(path, sizeof path, "%s/in/fresh.idoc", f.tmp);
  write_file(path, fl.p, fl.len);
  int worked;
  f.p->poll(f.state, &worked);
  assert_int_equal(worked, 0);
  assert_int_equal(dray_mock_host_emitted_count(f.mh), 0);
  usleep(500000);
  f.p->poll(f.state, &worked);
  assert_int_equal(dray_mock_host_emitted_count(f.mh), 1);
  free(fl.p);
  fx_free(&f);
}

static void test_file_port_resumes_after_backpressure_without_duplicates(void **st) {
  (void)st;
  const char *cfg[] = {"inbound_dir", "@/in", NULL};
  struct fx f;
  fx_new(&f, cfg);
  char path[512];
  struct tflat fl = {0};
  orders_flat(&fl, "0000000000000011", 0);
  orders_flat(&fl, "0000000000000012", 0);
  snprintf(path, sizeof path, "%s/in/two.idoc", f.tmp);
  write_file(path, fl.p, fl.len);
  dray_mock_host_set_emit_status(f.mh, DRAY_RETRY);
  int worked;
  f.p->poll(f.state, &worked);
  assert_int_equal(dray_mock_host_emitted_count(f.mh), 0);
  dray_mock_host_set_emit_status(f.mh, DRAY_OK);
  for (int i = 0; i < 3; i++) f.p->poll(f.state, &worked);
  assert_int_equal(dray_mock_host_emitted_count(f.mh), 2);
  snprintf(path, sizeof path, "%s/in/done", f.tmp);
  assert_int_equal(count_files(path, ".idoc"), 1);
  free(fl.p);
  fx_free(&f);
}

static void test_http_inbound_answers_after_emit_and_refuses_bad_idocs(void **st) {
  (void)st;
  const char *cfg[] = {"port", "http", "http_path", "/sap/idoc",
                       "inbound_username", "sapout", "inbound_password", "s3cret",
                       NULL};
  struct fx f;
  fx_new(&f, cfg);
  /* "sapout:s3cret" */
  const char *auth[] = {"Authorization: Basic c2Fwb3V0OnMzY3JldA==", NULL};
  const char *wrong[] = {"Authorization: Basic c2Fwb3V0Ondyb25n", NULL};
  int status;
  const char *resp;
  size_t rlen;
  assert_int_equal(dray_mock_host_http_call(f.mh, "POST", "/sap/idoc", "", wrong,
                                            delvry_xml, strlen(delvry_xml),
                                            &status, &resp, &rlen), 0);
  assert_int_equal(status, 401);
  assert_int_equal(dray_mock_host_emitted_count(f.mh), 0);
  assert_int_equal(dray_mock_host_http_call(f.mh, "POST", "/sap/idoc", "", auth,
                                            delvry_xml, strlen(delvry_xml),
                                            &status, &resp, &rlen), 0);
  assert_int_equal(status, 200);
  assert_int_equal(dray_mock_host_emitted_count(f.mh), 1);
  const char *bad = "<DELVRY07><IDOC BEGIN=\"1\"><EDI_DC40 SEGMENT=\"1\">"
                    "<IDOCTYP>DELVRY07</IDOCTYP><MESTYP>DESADV</MESTYP></EDI_DC40>"
                    "<E1EDK01 SEGMENT=\"1\"/></IDOC></DELVRY07>";
  assert_int_equal(dray_mock_host_http_call(f.mh, "POST", "/sap/idoc", "", auth,
                                            bad, strlen(bad), &status, &resp,
                                            &rlen), 0);
  assert_int_equal(status, 400);
  assert_non_null(strstr(resp, "E1EDK01"));
  dray_mock_host_set_emit_status(f.mh, DRAY_RETRY);
  assert_int_equal(dray_mock_host_http_call(f.mh, "POST", "/sap/idoc", "", auth,
                                            delvry_xml, strlen(delvry_xml),
                                            &status, &resp, &rlen), 0);
  assert_int_equal(status, 503);
  assert_non_null(dray_mock_host_http_response_header(f.mh, "Retry-After"));
  fx_free(&f);
}

/* --- outbound against tools/sap_sim --------------------------------- */

struct sim {
  pid_t pid;
  unsigned port;
  char rec[300];
};

static int sim_start(struct sim *s, const char *tmp, const char *mode,
                     const char *status) {
  const char *bin = getenv("SAP_SIM");
  if (!bin || access(bin, X_OK) != 0) return -1;
  snprintf(s->rec, sizeof s->rec, "%s/rec", tmp);
  int fds[2];
  if (pipe(fds) != 0) return -1;
  s->pid = fork();
  if (s->pid == 0) {
    /* the simulator dies with the test, and never holds the test's stderr
     * open (a failed assertion must not leave it running) */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    dup2(fds[1], 1);
    close(fds[0]);
    execl(bin, bin, "--user", "dray", "--password", "pw", "--client", "200",
          "--mode", mode, "--status", status, "--retry-after", "7",
          "--record-dir", s->rec, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char line[64] = "";
  FILE *in = fdopen(fds[0], "r");
  if (!in || !fgets(line, sizeof line, in) || sscanf(line, "port %u", &s->port) != 1)
    return -1;
  fclose(in);
  return 0;
}

static void sim_stop(struct sim *s) {
  kill(s->pid, SIGTERM);
  waitpid(s->pid, NULL, 0);
}

static dray_status post_invoice(struct sim *sim, const char *tmp,
                                const char *password, const char *timeout,
                                struct fx *out_f) {
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", sim->port);
  const char *cfg[] = {"port", "http", "http_path", "/sap/in", "sap_url", url,
                       "sap_client", "200", "username", "dray", "password",
                       password, "http_timeout_ms", timeout, NULL};
  fx_new(out_f, cfg);
  (void)tmp;
  dray_msg *m = canonical(out_f, "dray.invoice.finalized.v1", invoice_json);
  dray_status st = out_f->p->process(out_f->state, m);
  out_f->h->msg_free(&m);
  return st;
}

static void test_outbound_http_port_against_the_sap_simulator(void **st) {
  (void)st;
  char tmp[] = "/tmp/sap_sim_test_XXXXXX";
  assert_non_null(mkdtemp(tmp));
  struct sim sim;
  if (sim_start(&sim, tmp, "accept", "200") != 0) {
    fprintf(stderr, "skipped: SAP_SIM not built\n");
    skip();
  }
  struct fx f;
  assert_int_equal(post_invoice(&sim, tmp, "pw", "5000", &f), DRAY_OK);
  assert_int_equal(count_files(sim.rec, ".xml"), 1);
  char path[400];
  snprintf(path, sizeof path, "%s/000001.xml", sim.rec);
  size_t len;
  char *got = read_whole(path, &len);
  assert_non_null(strstr(got, "<INVOIC02>"));
  assert_non_null(strstr(got, "<BELNR>INV-2024-0042</BELNR>"));
  free(got);
  fx_free(&f);
  /* a wrong password: 401 is a rejection, not a retry */
  assert_int_equal(post_invoice(&sim, tmp, "nope", "5000", &f), DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(f.mh), "401"));
  assert_null(strstr(dray_mock_host_log_text(f.mh), "nope"));
  fx_free(&f);
  sim_stop(&sim);

  assert_int_equal(sim_start(&sim, tmp, "reject", "503"), 0);
  assert_int_equal(post_invoice(&sim, tmp, "pw", "5000", &f), DRAY_RETRY);
  assert_int_equal(dray_mock_host_last_retry_after(f.mh), 7000);
  assert_int_equal(dray_mock_host_in_doubt(f.mh), 0); /* SAP answered no */
  fx_free(&f);
  sim_stop(&sim);

  assert_int_equal(sim_start(&sim, tmp, "reject", "422"), 0);
  assert_int_equal(post_invoice(&sim, tmp, "pw", "5000", &f), DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(f.mh), "422"));
  fx_free(&f);
  sim_stop(&sim);

  assert_int_equal(sim_start(&sim, tmp, "hang", "200"), 0);
  assert_int_equal(post_invoice(&sim, tmp, "pw", "300", &f), DRAY_RETRY);
  assert_true(dray_mock_host_last_retry_after(f.mh) > 0);
  /* sent, no answer: SAP may have created the IDoc */
  assert_int_equal(dray_mock_host_in_doubt(f.mh), 1);
  fx_free(&f);
  sim_stop(&sim);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  assert_int_equal(system(cmd), 0);
}

static void test_batching_posts_several_idocs_in_one_request(void **st) {
  (void)st;
  char tmp[] = "/tmp/sap_sim_batch_XXXXXX";
  assert_non_null(mkdtemp(tmp));
  struct sim sim;
  if (sim_start(&sim, tmp, "accept", "200") != 0) {
    fprintf(stderr, "skipped: SAP_SIM not built\n");
    skip();
  }
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u", sim.port);
  const char *cfg[] = {"port", "http", "http_path", "/sap/in", "sap_url", url,
                       "sap_client", "200", "username", "dray", "password", "pw",
                       "batch_max", "3", "batch_interval_ms", "60000", NULL};
  struct fx f;
  fx_new(&f, cfg);
  assert_int_equal(f.p->start(f.state), 0);
  for (int i = 0; i < 3; i++) {
    dray_msg *m = canonical(&f, "dray.invoice.finalized.v1", invoice_json);
    assert_int_equal(f.p->process(f.state, m), DRAY_OK);
    f.h->msg_free(&m);
  }
  for (int i = 0; i < 100 && count_files(sim.rec, ".xml") < 1; i++) usleep(20000);
  assert_int_equal(count_files(sim.rec, ".xml"), 1);
  char path[400];
  snprintf(path, sizeof path, "%s/000001.xml", sim.rec);
  size_t len = 0;
  char *got = read_whole(path, &len);
  int idocs = 0;
  for (const char *p = got; (p = strstr(p, "<IDOC BEGIN=\"1\">")); p++) idocs++;
  assert_int_equal(idocs, 3);
  /* the batch is one valid IDoc-XML document */
  idoc_registry *reg = shipped();
  idoc_set *set = idoc_set_new();
  struct idoc_err err = {""};
  assert_int_equal(idoc_xml_decode(reg, got, len, "batch", set, &err), 0);
  assert_int_equal(set->ndocs, 3);
  idoc_set_destroy(&set);
  idoc_registry_destroy(&reg);
  free(got);
  fx_free(&f);
  sim_stop(&sim);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  assert_int_equal(system(cmd), 0);
}

static void test_rate_limit_defers_the_second_post_with_a_retry_hint(void **st) {
  (void)st;
  const char *cfg[] = {"outbound_dir", "@/out", "rate_limit_per_s", "0.5", NULL};
  struct fx f;
  fx_new(&f, cfg);
  dray_msg *m = canonical(&f, "dray.invoice.finalized.v1", invoice_json);
  assert_int_equal(f.p->process(f.state, m), DRAY_OK);
  assert_int_equal(f.p->process(f.state, m), DRAY_RETRY);
  int64_t ra = dray_mock_host_last_retry_after(f.mh);
  assert_true(ra > 1000 && ra <= 2001);
  f.h->msg_free(&m);
  fx_free(&f);
}


/* Writes a WE60 parser export of `t` (groups rebuilt from the tree) plus
 * one customer segment Z1EDP01X under E1EDP01: an extension CIMTYP. */
static void export_seg(FILE *fp, const struct idoc_type *t, int i) {
  const struct idoc_segdef *d = &t->segs[i];
  int head = d->first_childdef >= 0;
  if (head)
    fprintf(fp, "BEGIN_GROUP %02d\nLEVEL %02u\nSTATUS %s\nLOOPMIN %010llu\n"
            "LOOPMAX %010llu\n", i, d->level, d->mandatory ? "MANDATORY" : "OPTIONAL",
            (unsigned long long)d->min, (unsigned long long)d->max);
  fprintf(fp, "BEGIN_SEGMENT %s\nSEGMENTTYPE %s\nLEVEL %02u\nSTATUS %s\n"
          "LOOPMIN %010llu\nLOOPMAX %010llu\nBEGIN_FIELDS\n", d->defname, d->type,
          d->level, head || d->mandatory ? "MANDATORY" : "OPTIONAL",
          (unsigned long long)(head ? 1 : d->min), (unsigned long long)(head ? 1 : d->max));
  for (size_t k = 0; k < d->nfields; k++)
    fprintf(fp, "NAME %s\nTEXT some text\nTYPE CHARACTER\nLENGTH %06u\n"
            "FIELD_POS %04zu\nCHARACTER_FIRST %06u\nCHARACTER_LAST %06u\n",
            d->fields[k].name, d->fields[k].length, k + 1, d->fields[k].first,
            d->fields[k].first + d->fields[k].length - 1);
  fprintf(fp, "END_FIELDS\nEND_SEGMENT\n");
  for (int c = d->first_childdef; c >= 0; c = t->segs[c].next_siblingdef)
    export_seg(fp, t, c);
  if (!strcmp(d->type, "E1EDP01"))
    fprintf(fp, "BEGIN_SEGMENT Z2EDP01X000\nSEGMENTTYPE Z1EDP01X\nLEVEL 03\n"
            "STATUS OPTIONAL\nLOOPMIN 0000000001\nLOOPMAX 0000000001\n"
            "BEGIN_FIELDS\nNAME ZZCOLOR\nTYPE CHARACTER\nLENGTH 000010\n"
            "CHARACTER_FIRST 000064\nCHARACTER_LAST 000073\nEND_FIELDS\n"
            "END_SEGMENT\n");
  if (head) fprintf(fp, "END_GROUP\n");
}

static void test_definitions_dir_adds_a_customer_extension(void **st) {
  (void)st;
  char dir[300];
  struct fx f0;
  memset(&f0, 0, sizeof f0);
  snprintf(dir, sizeof dir, "/tmp/sap_idoc_defs_XXXXXX");
  assert_non_null(mkdtemp(dir));
  idoc_registry *reg = shipped();
  const struct idoc_type *t = idoc_registry_find(reg, "ORDERS05");
  char path[400];
  snprintf(path, sizeof path, "%s/zorders.txt", dir);
  FILE *fp = fopen(path, "w");
  fprintf(fp, "BEGIN_RECORD_SECTION\nEND_RECORD_SECTION\n"
          "BEGIN_IDOC ORDERS05 ZORDERS05X\nBEGIN_SEGMENT_SECTION\n");
  for (int i = t->first_topdef; i >= 0; i = t->segs[i].next_siblingdef)
    export_seg(fp, t, i);
  fprintf(fp, "END_SEGMENT_SECTION\nEND_IDOC\n");
  fclose(fp);
  const char *cfg[] = {"definitions_dir", dir, NULL};
  struct fx f;
  fx_new(&f, cfg);
  struct tflat fl = {0};
  struct trec r;
  tr_dc40(&fl, "ORDERS05", "ZORDERS05X", "ORDERS", "0000000000000077", "\n");
  tr_dd40(&r, "E2EDK01005", NULL, NULL, NULL, NULL);
  tr_field(&r, t, "E1EDK01", "BELNR", "PO-EXT");
  tr_emit(&r, &fl, -1, "\n");
  tr_dd40(&r, "E2EDP01011", NULL, NULL, NULL, NULL);
  tr_field(&r, t, "E1EDP01", "POSEX", "000010");
  tr_emit(&r, &fl, -1, "\n");
  tr_dd40(&r, "Z2EDP01X000", NULL, NULL, NULL, NULL);
  tr_put(&r, 64, "BLUE");
  tr_emit(&r, &fl, -1, "\n");
  dray_batch *out = dray_mock_batch_new();
  dray_status s = f.p->decode(f.state, fl.p, fl.len, "ext.idoc", out);
  if (s) fprintf(stderr, "%s\n", dray_mock_host_last_error(f.mh));
  assert_int_equal(s, DRAY_OK);
  json_object *b = body_of(&f, dray_mock_batch_get(out, 0));
  assert_string_equal(js(b, "order_no"), "PO-EXT");
  json_object_put(b);
  dray_mock_batch_destroy(&out);
  /* the same IDoc without the extension's definitions is refused */
  struct fx g;
  fx_new(&g, NULL);
  out = dray_mock_batch_new();
  assert_int_equal(g.p->decode(g.state, fl.p, fl.len, "ext.idoc", out), DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(g.mh), "Z2EDP01X000"));
  dray_mock_batch_destroy(&out);
  fx_free(&g);
  free(fl.p);
  fx_free(&f);
  idoc_registry_destroy(&reg);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  (void)f0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_orders05_gives_an_order_with_sap_idempotency_key),
      cmocka_unit_test(test_decode_delvry07_gives_a_shipment_with_handling_units),
      cmocka_unit_test(test_decode_shpmnt05_turns_stages_into_ordered_stops),
      cmocka_unit_test(test_decode_systat01_gives_one_ack_per_status_record),
      cmocka_unit_test(test_a_document_decoded_after_others_carries_nothing_of_them),
      cmocka_unit_test(test_encode_invoice_writes_invoic02_that_decodes_back),
      cmocka_unit_test(test_milestones_become_shipment_status_only_when_sap_tracks_them),
      cmocka_unit_test(test_acks_of_sap_idocs_go_back_as_systat01_and_aleaud01),
      cmocka_unit_test(test_file_port_moves_good_files_to_done_and_bad_to_failed),
      cmocka_unit_test(test_file_port_waits_for_files_still_being_written),
      cmocka_unit_test(test_file_port_resumes_after_backpressure_without_duplicates),
      cmocka_unit_test(test_http_inbound_answers_after_emit_and_refuses_bad_idocs),
      cmocka_unit_test(test_outbound_http_port_against_the_sap_simulator),
      cmocka_unit_test(test_batching_posts_several_idocs_in_one_request),
      cmocka_unit_test(test_rate_limit_defers_the_second_post_with_a_retry_hint),
      cmocka_unit_test(test_definitions_dir_adds_a_customer_extension),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
