/* test_convert.c - `dray convert --plugin sap_idoc` both ways with the real
 * binary and the built sap_idoc.so: IDocs in, schema-valid CloudEvents out
 * (dray_validate_event), and CloudEvents in, IDocs out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dray-sdk/validate.h>

#include "test_util.h"

static char tmp[64];

static int run_convert(const char *mode, const char *config, const char *in,
                       const char *out) {
  const char *bin = getenv("DRAY_BIN"), *dir = getenv("SAP_IDOC_DIR");
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "'%s' convert --plugin sap_idoc --plugin-path '%s' --data-dir "
           "'%s/state' %s%s%s %s '%s' '%s' 2>'%s/stderr'",
           bin, dir, tmp, config ? "--config '" : "", config ? config : "",
           config ? "'" : "", mode, in, out, tmp);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int setup(void **st) {
  (void)st;
  const char *bin = getenv("DRAY_BIN");
  if (!bin || access(bin, X_OK) != 0) return 0;
  snprintf(tmp, sizeof tmp, "/tmp/sap_idoc_convert_XXXXXX");
  if (!mkdtemp(tmp)) return -1;
  char state[96];
  snprintf(state, sizeof state, "%s/state", tmp);
  return mkdir(state, 0750);
}

static int teardown(void **st) {
  (void)st;
  if (tmp[0]) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) return -1;
  }
  return 0;
}

static void need_binary(void) {
  const char *bin = getenv("DRAY_BIN");
  if (!bin || access(bin, X_OK) != 0) {
    fprintf(stderr, "skipped: the dray binary is not built\n");
    skip();
  }
}

static void test_convert_decode_writes_schema_valid_events(void **st) {
  (void)st;
  need_binary();
  idoc_registry *reg = idoc_registry_new();
  struct idoc_err err = {""};
  assert_int_equal(idoc_registry_load_shipped(reg, &err), 0);
  const struct idoc_type *t = idoc_registry_find(reg, "ORDERS05");
  struct tflat f = {0};
  struct trec r;
  for (int i = 0; i < 2; i++) {
    char docnum[17], po[16];
    snprintf(docnum, sizeof docnum, "00000000000090%02d", i);
    snprintf(po, sizeof po, "PO-%d", i);
    tr_dc40(&f, "ORDERS05", NULL, "ORDERS", docnum, "\r\n");
    tr_dd40(&r, "E2EDK01005", docnum, "000001", "000000", "01");
    tr_field(&r, t, "E1EDK01", "CURCY", "JPY");
    tr_emit(&r, &f, -1, "\r\n");
    tr_dd40(&r, "E2EDK02", docnum, "000002", "000000", "02");
    tr_field(&r, t, "E1EDK02", "QUALF", "001");
    tr_field(&r, t, "E1EDK02", "BELNR", po);
    tr_emit(&r, &f, -1, "\r\n");
    tr_dd40(&r, "E2EDP01011", docnum, "000003", "000000", "02");
    tr_field(&r, t, "E1EDP01", "POSEX", "000010");
    tr_field(&r, t, "E1EDP01", "MENGE", "3");
    tr_field(&r, t, "E1EDP01", "VPREI", "1500");
    tr_emit(&r, &f, -1, "\r\n");
  }
  char in[128], out[128];
  snprintf(in, sizeof in, "%s/orders.idoc", tmp);
  snprintf(out, sizeof out, "%s/orders.jsonl", tmp);
  FILE *fp = fopen(in, "wb");
  fwrite(f.p, 1, f.len, fp);
  fclose(fp);
  assert_int_equal(run_convert("--decode", NULL, in, out), 0);
  size_t len = 0;
  char *jl = read_whole(out, &len);
  assert_non_null(jl);
  int lines = 0;
  for (char *line = strtok(jl, "\n"); line; line = strtok(NULL, "\n")) {
    char verr[512];
    int rc = dray_validate_event(line, strlen(line), verr, sizeof verr);
    if (rc) fprintf(stderr, "%s\n%s\n", verr, line);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(line, "\"type\":\"dray.order.created.v1\""));
    /* JPY has no minor unit: 1500 yen is 1500 */
    assert_non_null(strstr(line, "\"unit_price_minor\":1500"));
    lines++;
  }
  assert_int_equal(lines, 2);
  free(jl);
  free(f.p);
  idoc_registry_destroy(&reg);
}

static void test_convert_encode_turns_an_invoice_event_into_invoic02(void **st) {
  (void)st;
  need_binary();
  char in[128], out[128], cfg[128];
  snprintf(in, sizeof in, "%s/invoice.jsonl", tmp);
  snprintf(out, sizeof out, "%s/invoice.xml", tmp);
  snprintf(cfg, sizeof cfg, "%s/sap.yaml", tmp);
  FILE *fp = fopen(cfg, "w");
  fputs("format: xml\nsender_partner: DRAYPRD\nreceiver_partner: PRDCLNT200\n"
        "sap_client: \"200\"\n", fp);
  fclose(fp);
  fp = fopen(in, "w");
  fputs("{\"specversion\":\"1.0\",\"id\":\"01J0000000000000000000000A\","
        "\"source\":\"dray://test/billing\",\"type\":\"dray.invoice.finalized.v1\","
        "\"data\":{\"id\":\"inv-9\",\"number\":\"INV-9\",\"type\":\"invoice\","
        "\"status\":\"finalized\",\"currency\":\"EUR\",\"issue_date\":\"2024-05-20\","
        "\"lines\":[{\"line_no\":\"1\",\"description\":\"Freight\","
        "\"amount_minor\":-500}],\"totals\":{\"net_minor\":-500,"
        "\"payable_minor\":-500}}}\n", fp);
  fclose(fp);
  int rc = run_convert("--encode", cfg, in, out);
  if (rc) {
    char ep[128];
    size_t el;
    snprintf(ep, sizeof ep, "%s/stderr", tmp);
    char *e = read_whole(ep, &el);
    fprintf(stderr, "%s\n", e ? e : "");
    free(e);
  }
  assert_int_equal(rc, 0);
  size_t len = 0;
  char *xml = read_whole(out, &len);
  assert_non_null(xml);
  assert_non_null(strstr(xml, "<INVOIC02>"));
  assert_non_null(strstr(xml, "<MANDT>200</MANDT>"));
  assert_non_null(strstr(xml, "<SNDPRN>DRAYPRD</SNDPRN>"));
  assert_non_null(strstr(xml, "<RCVPRN>PRDCLNT200</RCVPRN>"));
  assert_non_null(strstr(xml, "<BELNR>INV-9</BELNR>"));
  assert_non_null(strstr(xml, "<SUMME>5.00-</SUMME>"));
  /* and the plugin reads its own output back */
  idoc_registry *reg = idoc_registry_new();
  struct idoc_err err = {""};
  assert_int_equal(idoc_registry_load_shipped(reg, &err), 0);
  idoc_set *set = idoc_set_new();
  assert_int_equal(idoc_xml_decode(reg, xml, len, out, set, &err), 0);
  assert_int_equal(idoc_validate(set, out, &err), 0);
  idoc_set_destroy(&set);
  idoc_registry_destroy(&reg);
  free(xml);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_convert_decode_writes_schema_valid_events),
      cmocka_unit_test(test_convert_encode_turns_an_invoice_event_into_invoic02),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
