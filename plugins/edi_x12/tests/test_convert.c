/* test_convert.c - `dray convert --plugin edi_x12 --decode` on one
 * document of each transaction set writes CloudEvents that pass
 * dray_validate_event, and `--encode` of them gives X12 that decodes
 * again. Skips when the dray binary is not built. */
#include "x12_test_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include <dray-sdk/validate.h>

static const struct {
  const char *gs01, *gs08, *st01, *body, *type;
  int messages;
} docs[] = {
    {"PO", "004010", "850", "BEG*00*SA*PO77**20240514~\nN1*ST*XYZ*92*0001~\nPO1*1*10*EA*9.25**VP*A1~\nCTT*1~\n",
     "dray.order.created.v1", 1},
    {"PR", "004010", "855", "BAK*00*AC*PO77*20240514~\nPO1*1*10*EA*9.25~\nACK*IA*10*EA~\n",
     "dray.order.acknowledged.v1", 1},
    {"SH", "004010", "856", "BSN*00*ASN1*20240514*0832*0001~\nHL*1**S~\nTD1*CTN25*1****G*10*LB~\n"
     "TD5*B*2*ABCD*M~\nHL*2*1*O~\nPRF*PO77~\nHL*3*2*P~\nMAN*GM*00123456789012345678~\n"
     "HL*4*3*I~\nLIN*1*BP*M1~\nSN1**2*EA~\nCTT*4~\n",
     "dray.shipment.created.v1", 1},
    {"SM", "004010", "204", "B2**ABCD**S1**PP~\nB2A*00~\nS5*1*LD~\nG62*69*20240514*1*0800*CT~\n"
     "N1*SF*A~\nS5*2*UL~\nN1*ST*B~\nL3*10*G***100~\n",
     "dray.shipment.tendered.v1", 1},
    {"GF", "004010", "990", "B1*ABCD*S1*20240514*A~\n", "dray.shipment.tender_response.v1", 1},
    {"QM", "004010", "214", "B10*P1*S1*ABCD~\nLX*1~\nAT7*X1*NS***20240514*0815*ET~\nMS1*DALLAS*TX*US~\n"
     "LX*2~\nAT7*D1*NS***20240514*0915~\n",
     "dray.shipment.milestone.v1", 2},
    {"IM", "004010", "210", "B3**I1*S1*PP**20240520*100****ABCD~\nLX*1~\nL1*1*1*FR*100****400~\nL3*1*G***100~\n",
     "dray.invoice.received.v1", 1},
    {"IN", "004010", "810", "BIG*20240514*I1**PO77~\nIT1*1*2*EA*5**VP*X~\nTDS*1000~\nCTT*1~\n",
     "dray.invoice.received.v1", 1},
    {"FA", "004010", "997", "AK1*IN*5~\nAK2*810*0001~\nAK5*A~\nAK9*A*1*1*1~\n", "dray.ack.received.v1", 1},
    {"FA", "005010X231", "999", "AK1*IN*5*004010~\nAK2*810*0001~\nIK3*BIG*2**8~\nIK4*2*76*1~\nIK5*R*5~\nAK9*R*1*1*0~\n",
     "dray.ack.received.v1", 1},
};

static char dray_bin[4096], plugin_dir[4096], work[64];

static int setup(void **state) {
  (void)state;
  const char *b = getenv("DRAY_BIN");
  const char *p = getenv("EDI_X12_SO");
  if (!b || !p || access(b, X_OK) != 0) return 0;
  snprintf(dray_bin, sizeof(dray_bin), "%s", b);
  snprintf(plugin_dir, sizeof(plugin_dir), "%s", p);
  *strrchr(plugin_dir, '/') = '\0';
  snprintf(work, sizeof(work), "/tmp/edi_x12_convert_XXXXXX");
  return mkdtemp(work) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  if (work[0]) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    if (system(cmd) != 0) return -1;
  }
  return 0;
}

static void test_convert_decode_writes_schema_valid_events_for_every_set(void **s) {
  (void)s;
  if (!dray_bin[0]) {
    print_message("skipped: DRAY_BIN not built\n");
    skip();
  }
  for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
    char ctl[16], in[128], out[128], enc[128], cmd[9000];
    snprintf(ctl, sizeof(ctl), "%09zu", 700 + i);
    char *doc = test_doc(ctl, docs[i].gs01, docs[i].gs08, docs[i].st01, docs[i].body);
    snprintf(in, sizeof(in), "%s/%s.edi", work, docs[i].st01);
    snprintf(out, sizeof(out), "%s/%s.jsonl", work, docs[i].st01);
    FILE *f = fopen(in, "w");
    fputs(doc, f);
    fclose(f);
    free(doc);
    snprintf(cmd, sizeof(cmd),
             "'%s' convert --plugin edi_x12 --plugin-path '%s' --data-dir '%s' "
             "--decode '%s' '%s'",
             dray_bin, plugin_dir, work, in, out);
    if (system(cmd) != 0) fail_msg("%s: dray convert --decode failed", docs[i].st01);
    f = fopen(out, "r");
    assert_non_null(f);
    char line[65536], err[512];
    int business = 0, acks = 0;
    char first[65536] = "";
    while (fgets(line, sizeof(line), f)) {
      if (dray_validate_event(line, strlen(line), err, sizeof(err)) != 0)
        fail_msg("%s: event not schema-valid: %s\n%s", docs[i].st01, err, line);
      if (strstr(line, docs[i].type)) {
        if (!business) snprintf(first, sizeof(first), "%s", line);
        business++;
      } else if (strstr(line, "\"dray.ack.sent.v1\"")) {
        acks++;
      }
    }
    fclose(f);
    if (business != docs[i].messages)
      fail_msg("%s: %d %s events, expected %d", docs[i].st01, business, docs[i].type,
               docs[i].messages);
    /* acks are sent for everything but acks */
    assert_int_equal(acks, strcmp(docs[i].gs01, "FA") ? 1 : 0);
    /* encode the business event back (types with an X12 encoding) */
    if (!strcmp(docs[i].st01, "855") || !strcmp(docs[i].st01, "856") ||
        !strcmp(docs[i].st01, "997") || !strcmp(docs[i].st01, "999"))
      continue;
    snprintf(enc, sizeof(enc), "%s/%s.enc.jsonl", work, docs[i].st01);
    f = fopen(enc, "w");
    fputs(first, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "'%s' convert --plugin edi_x12 --plugin-path '%s' --data-dir '%s' "
             "--encode '%s' '%s/%s.out.edi'",
             dray_bin, plugin_dir, work, enc, work, docs[i].st01);
    if (system(cmd) != 0) fail_msg("%s: dray convert --encode failed", docs[i].st01);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s.out.edi", work, docs[i].st01);
    f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    line[n] = '\0';
    fclose(f);
    struct capture c;
    struct x12_decode_report rep;
    memset(&c, 0, sizeof(c));
    if (test_decode(line, n, 0, &c, &rep) != 0)
      fail_msg("%s: re-encoded document rejected: %s\n%s", docs[i].st01, rep.first_error, line);
    assert_true(c.n >= 1);
    assert_string_equal(c.types[0], docs[i].type);
    capture_free(&c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_convert_decode_writes_schema_valid_events_for_every_set),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
