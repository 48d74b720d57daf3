/* test_validate.c - envelope and element validation, and the TA1/997/999
 * each fault produces. Every document is built here. */
#include "x12_test_util.h"

static const char *isa401 =
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
    "*240514*0832*U*00401*000000101*0*P*>~\n";

static char *cat2(const char *a, const char *b) {
  char *d = malloc(strlen(a) + strlen(b) + 1);
  strcpy(d, a);
  strcat(d, b);
  return d;
}

/* Decodes and returns the first ack text (caller frees capture). */
static int run(const char *doc, struct capture *c, struct x12_decode_report *rep) {
  memset(c, 0, sizeof(*c));
  return test_decode(doc, strlen(doc), 0, c, rep);
}

static void expect_ta1(const char *tail, const char *code) {
  char *doc = cat2(isa401, tail);
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_int_equal(rep.rejected_interchanges, 1);
  assert_int_equal(c.n, 0); /* no business message from a rejected interchange */
  assert_int_equal(c.nacks, 1);
  char want[64];
  snprintf(want, sizeof(want), "TA1*000000101*240514*0832*R*%s~", code);
  assert_non_null(strstr(c.acks[0], want));
  assert_null(strstr(c.acks[0], "ST*997")); /* TA1 only */
  assert_non_null(strstr(rep.first_error, code));
  capture_free(&c);
  free(doc);
}

static void test_iea02_mismatch_is_rejected_with_ta1_001(void **s) {
  (void)s;
  expect_ta1("GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nGE*0*1~\nIEA*1*000000555~\n", "001");
}

static void test_iea01_group_count_wrong_is_ta1_021(void **s) {
  (void)s;
  expect_ta1("GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nGE*0*1~\nIEA*2*000000101~\n", "021");
}

static void test_missing_iea_is_ta1_023(void **s) {
  (void)s;
  expect_ta1("GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nGE*0*1~\n", "023");
}

static void test_missing_ge_is_ta1_024(void **s) {
  (void)s;
  expect_ta1("GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nIEA*1*000000101~\n", "024");
}

static void test_stray_segment_outside_a_set_is_ta1_024_with_position(void **s) {
  (void)s;
  char *doc = cat2(isa401, "ZZ*1~\nIEA*0*000000101~\n");
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_non_null(strstr(rep.first_error, "test.edi:2:1:"));
  assert_non_null(strstr(rep.first_error, "\"ZZ\""));
  capture_free(&c);
  free(doc);
}

static void test_duplicate_isa13_in_one_input_is_ta1_025(void **s) {
  (void)s;
  char *one = cat2(isa401, "IEA*0*000000101~\n");
  char *doc = cat2(one, one);
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_int_equal(rep.interchanges, 2);
  assert_int_equal(rep.rejected_interchanges, 1);
  assert_non_null(strstr(rep.first_error, "025"));
  capture_free(&c);
  free(one);
  free(doc);
}

static void test_group_count_and_control_faults_give_ak905(void **s) {
  (void)s;
  struct { const char *tail; const char *ak9; } cases[] = {
      {"GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nGE*5*1~\nIEA*1*000000101~\n", "AK9*R*5*0*0*5~"},
      {"GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nGE*0*9~\nIEA*1*000000101~\n", "AK9*R*0*0*0*4~"},
      {"GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nGE*0*1~\nGS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\nGE*0*1~\nIEA*2*000000101~\n", "AK9*R*0*0*0*19~"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *doc = cat2(isa401, cases[i].tail);
    struct capture c;
    struct x12_decode_report rep;
    assert_int_equal(run(doc, &c, &rep), 1);
    assert_int_equal(c.nacks, 1);
    assert_non_null(strstr(c.acks[0], cases[i].ak9));
    capture_free(&c);
    free(doc);
  }
}

static void test_set_trailer_faults_give_ak502(void **s) {
  (void)s;
  struct { const char *sets; const char *ak5; } cases[] = {
      {"ST*850*0001~\nBEG*00*SA*P1**20240514~\nSE*9*0001~\n", "AK5*R*4~"},
      {"ST*850*0001~\nBEG*00*SA*P1**20240514~\nSE*3*0002~\n", "AK5*R*3~"},
      {"ST*850*0001~\nBEG*00*SA*P1**20240514~\n", "AK5*R*2*3~"},
      {"ST*850*0001~\nBEG*00*SA*P1**20240514~\nSE*3*0001~\nST*850*0001~\nBEG*00*SA*P2**20240514~\nSE*3*0001~\n", "AK5*R*23~"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char body[1024];
    int nsets = 1 + (strstr(cases[i].sets + 5, "ST*") != NULL);
    snprintf(body, sizeof(body), "GS*PO*SENDER*RECEIVER*20240514*0832*1*X*004010~\n%sGE*%d*1~\nIEA*1*000000101~\n",
             cases[i].sets, nsets);
    char *doc = cat2(isa401, body);
    struct capture c;
    struct x12_decode_report rep;
    assert_int_equal(run(doc, &c, &rep), 1);
    assert_true(rep.rejected_sets >= 1);
    assert_non_null(strstr(c.acks[0], cases[i].ak5));
    capture_free(&c);
    free(doc);
  }
}

/* One 850 body with a fault; the expected AK3 and AK4 lines. */
static void expect_element_fault(const char *body, const char *ak3, const char *ak4) {
  char *doc = test_doc("000000101", "PO", "004010", "850", body);
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_int_equal(rep.rejected_sets, 1);
  assert_int_equal(c.n, 0);
  assert_non_null(strstr(c.acks[0], "ST*997*"));
  if (!strstr(c.acks[0], ak3) || !strstr(c.acks[0], ak4))
    fail_msg("expected %s and %s in:\n%s", ak3, ak4, c.acks[0]);
  assert_non_null(strstr(c.acks[0], "AK5*R*5~"));
  assert_non_null(strstr(c.acks[0], "AK9*R*1*1*0~"));
  capture_free(&c);
  free(doc);
}

static void test_mandatory_element_missing_is_ak403_1(void **s) {
  (void)s;
  expect_element_fault("BEG*00*SA***20240514~\n", "AK3*BEG*2**8~", "AK4*3*324*1~");
}

static void test_bad_date_is_ak403_8(void **s) {
  (void)s;
  expect_element_fault("BEG*00*SA*P1**20241340~\n", "AK3*BEG*2**8~", "AK4*5*373*8*20241340~");
}

static void test_value_outside_the_code_list_is_ak403_7(void **s) {
  (void)s;
  expect_element_fault("BEG*99*SA*P1**20240514~\n", "AK3*BEG*2**8~", "AK4*1*353*7*99~");
}

static void test_too_long_and_bad_numbers_are_ak403_5_and_6(void **s) {
  (void)s;
  expect_element_fault("BEG*00*SA*P1234567890123456789012345**20240514~\n",
                       "AK3*BEG*2**8~", "AK4*3*324*5*");
  expect_element_fault("BEG*00*SA*P1**20240514~\nPO1*1*1O*EA*9.5~\n",
                       "AK3*PO1*3**8~", "AK4*2*330*6*1O~");
}

static void test_mandatory_segment_missing_is_ak304_3(void **s) {
  (void)s;
  expect_element_fault("REF*DP*038~\n", "AK3*BEG*", "**3~");
}

static void test_unknown_and_unexpected_segments_are_ak304_1_and_2(void **s) {
  (void)s;
  expect_element_fault("BEG*00*SA*P1**20240514~\nZZZ*1~\n", "AK3*ZZZ*3**1~", "AK5*R*5~");
  expect_element_fault("BEG*00*SA*P1**20240514~\nBSN*00*X*20240514*0832~\n",
                       "AK3*BSN*3**2~", "AK5*R*5~");
}

static void test_hl_ids_must_count_up(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "SH", "004010", "856",
                       "BSN*00*A1*20240514*0832~\nHL*1**S~\nHL*3*1*O~\n");
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_non_null(strstr(c.acks[0], "AK3*HL*4**8~"));
  assert_non_null(strstr(c.acks[0], "AK4*1*628*7*3~"));
  assert_non_null(strstr(rep.first_error, "HL01=3 but 2 expected"));
  capture_free(&c);
  free(doc);
}

static void test_valid_set_gets_an_accepting_997(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "PO", "004010", "850",
                       "BEG*00*SA*P1**20240514~\nPO1*1*2*EA*9.5**VP*X1~\nCTT*1~\n");
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 0);
  assert_int_equal(c.n, 1);
  assert_int_equal(c.nacks, 1);
  assert_non_null(strstr(c.acks[0], "AK1*PO*77~"));
  assert_non_null(strstr(c.acks[0], "AK2*850*0001~"));
  assert_non_null(strstr(c.acks[0], "AK5*A~"));
  assert_non_null(strstr(c.acks[0], "AK9*A*1*1*1~"));
  /* the ack goes back to the sender */
  assert_non_null(strstr(c.acks[0], "*ZZ*RECEIVER       *ZZ*SENDER         *"));
  /* and the ack itself is a valid interchange */
  struct capture c2;
  struct x12_decode_report rep2;
  assert_int_equal(run(c.acks[0], &c2, &rep2), 0);
  assert_int_equal(c2.n, 1);
  assert_string_equal(c2.types[0], "dray.ack.received.v1");
  capture_free(&c2);
  capture_free(&c);
  free(doc);
}

static void test_005010_group_gets_a_999_with_ik_segments(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "PO", "005010", "850",
                       "BEG*00*SA*P1**20241340~\n");
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_non_null(strstr(c.acks[0], "ST*999*0001*005010X231~"));
  assert_non_null(strstr(c.acks[0], "AK1*PO*77*005010~"));
  assert_non_null(strstr(c.acks[0], "IK3*BEG*2**8~"));
  assert_non_null(strstr(c.acks[0], "IK4*5*373*8*20241340~"));
  assert_non_null(strstr(c.acks[0], "IK5*R*5~"));
  assert_non_null(strstr(c.acks[0], "*00501*"));
  capture_free(&c);
  free(doc);
}

static void test_ta1_is_sent_when_isa14_asks_for_it(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "PO", "004010", "850", "BEG*00*SA*P1**20240514~\n");
  char *p = strstr(doc, "*0*P*>~");
  p[1] = '1'; /* ISA14 = 1 */
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 0);
  assert_non_null(strstr(c.acks[0], "TA1*000000101*240514*0832*A*000~"));
  assert_non_null(strstr(c.acks[0], "ST*997*"));
  capture_free(&c);
  free(doc);
}

static void test_acks_are_never_acknowledged(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "FA", "004010", "997",
                       "AK1*PO*77~\nAK9*A*1*1*1~\n");
  struct capture c;
  struct x12_decode_report rep;
  assert_int_equal(run(doc, &c, &rep), 0);
  assert_int_equal(c.nacks, 0);
  assert_int_equal(c.n, 1);
  capture_free(&c);
  free(doc);
}

/* Fuzzer finding: the TA1 for an ISA too short to read was not valid X12
 * itself (empty sender and receiver). */
static void test_ta1_for_an_unreadable_isa_is_itself_valid_x12(void **s) {
  (void)s;
  const char *doc = "ISA*00**00**ZZ*S*ZZ*R*240514*0832*U*00401*000000001*0*P*>~"
                    "IEA*0*000000001~";
  struct capture c, c2;
  struct x12_decode_report rep, rep2;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_int_equal(c.nacks, 1);
  assert_non_null(strstr(c.acks[0], "TA1*000000000*240515*1200*R*022~"));
  assert_int_equal(run(c.acks[0], &c2, &rep2), 0);
  assert_int_equal(c2.n, 1); /* our TA1 read back as a canonical ack */
  capture_free(&c2);
  capture_free(&c);
}

/* Fuzzer finding: a control character in the sender ID was echoed into
 * our 997 (GS03), which then failed validation itself. */
static void test_control_characters_never_reach_our_acks(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "PO", "004010", "850", "BEG*00*SA*P1**20240514~\n");
  char *p = strstr(doc, "SENDER ");
  p[5] = 0x10;
  /* and a sender made of nothing but control characters (second finding) */
  char *doc2 = strdup(doc);
  memset(strstr(doc2, "SENDE"), 0x01, 5);
  struct capture c3, c4;
  struct x12_decode_report rep3, rep4;
  run(doc2, &c3, &rep3);
  assert_non_null(strstr(c3.acks[0], "*ZZ*UNKNOWN        *"));
  assert_int_equal(run(c3.acks[0], &c4, &rep4), 0);
  capture_free(&c4);
  capture_free(&c3);
  free(doc2);
  struct capture c, c2;
  struct x12_decode_report rep, rep2;
  run(doc, &c, &rep);
  assert_int_equal(c.nacks, 1);
  assert_null(strchr(c.acks[0], 0x10));
  assert_int_equal(run(c.acks[0], &c2, &rep2), 0);
  capture_free(&c2);
  capture_free(&c);
  free(doc);
}

/* Fuzzer finding: a TA1 echoing an invalid ISA09 date was refused when
 * read back. */
static void test_ta1_for_a_bad_isa_date_carries_a_valid_date(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "PO", "004010", "850", "BEG*00*SA*P1**20240514~\n");
  memcpy(strstr(doc, "*240514*"), "*955347*", 8);
  struct capture c, c2;
  struct x12_decode_report rep, rep2;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_non_null(strstr(c.acks[0], "*R*014~"));
  assert_int_equal(run(c.acks[0], &c2, &rep2), 0);
  capture_free(&c2);
  capture_free(&c);
  free(doc);
}

/* Fuzzer finding: a lenient, misaligned ISA gave a one-character
 * qualifier that our TA1 echoed. */
static void test_ta1_for_a_bad_qualifier_uses_zz(void **s) {
  (void)s;
  const char *doc = "ISA*00**00**R*S*ZZ*R*240514*0832*U*00401*000000001*0*P*>~"
                    "IEA*0*000000001~";
  struct capture c, c2;
  struct x12_decode_report rep, rep2;
  memset(&c, 0, sizeof(c));
  assert_int_equal(test_decode(doc, strlen(doc), X12_TOK_LENIENT, &c, &rep), 1);
  assert_non_null(strstr(c.acks[0], "*R*005~"));
  assert_int_equal(run(c.acks[0], &c2, &rep2), 0);
  capture_free(&c2);
  capture_free(&c);
  /* third finding: a receiver ID that is one of our delimiters */
  const char *doc2 = "ISA*00**00**R*S*ZZ*^*240514*0832*U*00401*000000001*0*P*>~"
                     "IEA*0*000000001~";
  memset(&c, 0, sizeof(c));
  assert_int_equal(test_decode(doc2, strlen(doc2), X12_TOK_LENIENT, &c, &rep), 1);
  assert_non_null(strstr(c.acks[0], "*ZZ*UNKNOWN        *"));
  assert_int_equal(run(c.acks[0], &c2, &rep2), 0);
  capture_free(&c2);
  capture_free(&c);
}

/* Fuzzer finding: a one-character receiver ID became our GS02, and a bad
 * ST02 was echoed into AK202; both made our own 997 invalid. */
static void test_997_never_echoes_values_it_cannot_carry(void **s) {
  (void)s;
  char *doc = test_doc("000000101", "PO", "004010", "850", "BEG*00*SA*P1**20240514~\n");
  memcpy(strstr(doc, "RECEIVER       "), "R              ", 15);
  char *st = strstr(doc, "ST*850*0001~");
  memcpy(st, "ST*850*01~~~", 12); /* ST02 too short; "~~" are empty segments */
  struct capture c, c2;
  struct x12_decode_report rep, rep2;
  assert_int_equal(run(doc, &c, &rep), 1);
  assert_int_equal(c.nacks, 1);
  assert_non_null(strstr(c.acks[0], "GS*FA*UNKNOWN*SENDER*"));
  assert_null(strstr(c.acks[0], "AK2*"));
  assert_non_null(strstr(c.acks[0], "AK9*R*1*1*0~"));
  assert_int_equal(run(c.acks[0], &c2, &rep2), 0);
  capture_free(&c2);
  capture_free(&c);
  free(doc);
}

/* Every fault the validator records for doc, as text. */
struct faults {
  char text[8192];
  size_t len;
  int sets_rejected;
};

static void note_set(void *ctx, const struct x12_interchange_result *ic,
                     const struct x12_group_result *g,
                     const struct x12_set_result *set,
                     const struct x12_set_segments *segs) {
  (void)ic; (void)g; (void)segs;
  struct faults *f = ctx;
  if (set->status != 'A') f->sets_rejected++;
  for (uint16_t i = 0; i < set->nerrors; i++) {
    const struct x12_segment_error *e = &set->errors[i];
    f->len += (size_t)snprintf(f->text + f->len, sizeof(f->text) - f->len,
                               "%s@%u code %u line %u col %u: %s;", e->id,
                               e->position, e->code, e->pos.line,
                               e->pos.column, e->message);
    for (uint16_t k = 0; k < e->nelements; k++)
      f->len += (size_t)snprintf(
          f->text + f->len, sizeof(f->text) - f->len,
          " el %u ref %u code %u [%s] line %u col %u;", e->elements[k].element,
          e->elements[k].ref, e->elements[k].code, e->elements[k].bad,
          e->elements[k].pos.line, e->elements[k].pos.column);
  }
}

static void note_ic(void *ctx, struct x12_interchange_result *ic) {
  struct faults *f = ctx;
  f->len += (size_t)snprintf(f->text + f->len, sizeof(f->text) - f->len,
                             " TA1 %s %s", ic->ta1_code, ic->message);
}

static void faults_of(const char *doc, unsigned vflags, struct faults *f) {
  struct x12_validator_ops ops = {NULL, note_set, note_ic};
  struct x12_validator v;
  struct x12_tokenizer t;
  static struct x12_segment seg;
  memset(f, 0, sizeof(*f));
  x12_validator_init(&v, &ops, f, vflags);
  x12_tok_init(&t, 0);
  x12_tok_feed(&t, doc, strlen(doc), 1);
  while (x12_tok_next(&t, &seg) == X12_TOK_SEGMENT)
    x12_validator_segment(&v, &seg, &t.delims);
  x12_validator_finish(&v);
  x12_validator_release(&v);
  x12_tok_release(&t);
}

/* The element fast path (segments without separators or control bytes in
 * their elements) and the generic table walk must record the same faults,
 * with the same positions, for every kind of element fault; and both must
 * accept the clean segments. */
static void test_fast_and_generic_element_checks_report_the_same_faults(void **s) {
  (void)s;
  static const struct {
    const char *gs01, *gs08, *st01, *body;
    int bad;
  } cases[] = {
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1*CTN25*1****G*2287.7*LB~", 0},
      {"SH", "004010", "856", "BSN*00*A1*20240514~HL*1**S~", 1},            /* mandatory missing */
      {"SH", "004010", "856", "BSN**A1*20240514*0832~HL*1**S~", 1},         /* empty mandatory */
      {"SH", "004010", "856", "BSN*00*A*20240514*0832~HL*1**S~", 1},        /* AN too short */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832*00011~HL*1**S~", 1}, /* ID too long */
      {"SH", "004010", "856", "BSN*00*A1*20241301*0832~HL*1**S~", 1},       /* bad date */
      {"SH", "004010", "856", "BSN*00*A1*20240230*0832~HL*1**S~", 1},       /* no Feb 30 */
      {"SH", "004010", "856", "BSN*00*A1*20240514*2460~HL*1**S~", 1},       /* bad time */
      {"SH", "004010", "856", "BSN*00*A1*20240514*08~HL*1**S~", 1},         /* short time */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1*CTN25*1X~", 1},   /* N0 letter */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1*CTN25*-~", 1},    /* N0 sign only */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1*CTN25*-12~", 0},  /* N0 negative */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1*CTN25*12345678~", 1}, /* N0 long */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1******G*1.2.3*LB~", 1}, /* R dots */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1******G*.*LB~", 1},     /* R no digit */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1******G*1-2*LB~", 1},   /* R inner sign */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1******G*-1.25*LB~", 0}, /* R ok */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~TD1******G*12345678901*LB~", 1}, /* R long */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~REF*BM*A>B~", 1},      /* component in AN */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~REF*B>M*AB~", 1},      /* component in ID */
      {"SH", "005010", "856", "BSN*00*A1*20240514*0832~HL*1**S~REF*BM*A^B~", 1},      /* repetition, 5010 */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~REF*BM*A\x01" "B~", 1}, /* control */
      {"SH", "004010", "856", "BSN*00*A1*20240514*0832~HL*1**S~N1*SF*X*92*A1*EXTRA*MORE~", 0},
      {"PO", "004010", "850", "BEG*00*SA*P1**20240514~", 0},
      {"PO", "004010", "850", "BEG*99*SA*P1**20240514~", 1},                /* code list */
      {"PO", "004010", "850", "BEG*0*SA*P1**20240514~", 1},                 /* code too short */
      {"PO", "004010", "850", "BEG*ABCD*SA*P1**20240514~", 1},              /* code too long */
      {"FA", "004010", "997", "AK1*PO*1~AK2*850*0001~AK5*A~AK9*A*1*1*1~", 0},
      {"FA", "004010", "997", "AK1*PO*1~AK2*850*0001~AK5*Q~AK9*A*1*1*1~", 1}, /* code list */
      {"FA", "004010", "997", "AK1*PO*1*X*Y~AK9*A*1*1*1~", 1},               /* complete: extra */
      {"FA", "004010", "997", "AK1*PO*1~AK3*BEG*2**I9~AK9*A*1*1*1~", 0},     /* 3-byte code */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *doc = test_doc("000000101", cases[i].gs01, cases[i].gs08,
                         cases[i].st01, cases[i].body);
    struct faults fast, generic;
    faults_of(doc, 0, &fast);
    faults_of(doc, X12_VAL_GENERIC, &generic);
    if (strcmp(fast.text, generic.text) != 0 ||
        fast.sets_rejected != cases[i].bad)
      fail_msg("case %zu (%s)\nfast:    %s\ngeneric: %s", i, cases[i].body,
               fast.text, generic.text);
    assert_int_equal(generic.sets_rejected, cases[i].bad);
    free(doc);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_iea02_mismatch_is_rejected_with_ta1_001),
      cmocka_unit_test(test_iea01_group_count_wrong_is_ta1_021),
      cmocka_unit_test(test_missing_iea_is_ta1_023),
      cmocka_unit_test(test_missing_ge_is_ta1_024),
      cmocka_unit_test(test_stray_segment_outside_a_set_is_ta1_024_with_position),
      cmocka_unit_test(test_duplicate_isa13_in_one_input_is_ta1_025),
      cmocka_unit_test(test_group_count_and_control_faults_give_ak905),
      cmocka_unit_test(test_set_trailer_faults_give_ak502),
      cmocka_unit_test(test_mandatory_element_missing_is_ak403_1),
      cmocka_unit_test(test_bad_date_is_ak403_8),
      cmocka_unit_test(test_value_outside_the_code_list_is_ak403_7),
      cmocka_unit_test(test_too_long_and_bad_numbers_are_ak403_5_and_6),
      cmocka_unit_test(test_mandatory_segment_missing_is_ak304_3),
      cmocka_unit_test(test_unknown_and_unexpected_segments_are_ak304_1_and_2),
      cmocka_unit_test(test_hl_ids_must_count_up),
      cmocka_unit_test(test_valid_set_gets_an_accepting_997),
      cmocka_unit_test(test_005010_group_gets_a_999_with_ik_segments),
      cmocka_unit_test(test_ta1_is_sent_when_isa14_asks_for_it),
      cmocka_unit_test(test_acks_are_never_acknowledged),
      cmocka_unit_test(test_ta1_for_an_unreadable_isa_is_itself_valid_x12),
      cmocka_unit_test(test_control_characters_never_reach_our_acks),
      cmocka_unit_test(test_ta1_for_a_bad_isa_date_carries_a_valid_date),
      cmocka_unit_test(test_ta1_for_a_bad_qualifier_uses_zz),
      cmocka_unit_test(test_997_never_echoes_values_it_cannot_carry),
      cmocka_unit_test(test_fast_and_generic_element_checks_report_the_same_faults),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
