/* test_fixtures.c - every X12 file in ../shared/fixtures/x12 handled as
 * its SOURCES.md says: accepted (with the canonical messages it should
 * give), or rejected with the stated TA1 / AK905 / AK502 / AK304 / AK403
 * code. Skips cleanly when ../shared is absent.
 *
 * Outcomes are flattened to tokens: "ta1:025" (TA105 of a rejected
 * interchange), "group:5" (AK905), "set:23" (AK502), "seg:1" (AK304),
 * "el:7" (AK403). */
#include "x12_test_util.h"

#include <sys/stat.h>

struct expect {
  const char *file;
  const char *tokens;  /* all must appear; "" = fully accepted */
  int messages;        /* canonical messages expected, -1: not checked */
  const char *type;    /* type of the first message, or NULL */
};

static const struct expect table[] = {
    {"moov_4010_810_freight_invoice.edi", "", 2, "dray.invoice.received.v1"},
    {"nodex12_850.edi", "", 1, "dray.order.created.v1"},
    {"nodex12_850_2.edi", "", 1, "dray.order.created.v1"},
    {"nodex12_850_3.edi", "", 1, "dray.order.created.v1"},
    /* same ISA13 three times: the first is accepted, the others are
     * duplicates (TA1 025) */
    {"nodex12_850_fat.edi", "ta1:025", 1, "dray.order.created.v1"},
    {"nodex12_855.edi", "", 1, "dray.order.acknowledged.v1"},
    {"nodex12_856.edi", "", 1, "dray.shipment.created.v1"},
    {"pyx12_834_lui_id_5010.999.edi", "", 4, "dray.ack.received.v1"},
    {"pyx12_binary_delimiters_ok.edi", "", 0, NULL},
    /* pyx12 reports its own code 6; X12 716 code 19 is "GS06 not unique" */
    {"pyx12_dup_gs06_err6.edi", "group:19", 0, NULL},
    {"pyx12_dup_isa13_err025.edi", "ta1:025", 0, NULL},
    {"pyx12_dup_st02_err23.edi", "set:23", 0, NULL},
    {"pyx12_empty_segment_err8.edi", "ta1:024", 0, NULL},
    {"pyx12_ge01_count_err5.edi", "group:5", 0, NULL},
    {"pyx12_ge02_mismatch_err4.edi", "group:4", 0, NULL},
    {"pyx12_hl_increment_bad_errHL1.edi", "seg:8 el:7", 0, NULL},
    {"pyx12_iea01_count_err021.edi", "ta1:021", 0, NULL},
    {"pyx12_iea02_mismatch_err001.edi", "ta1:001", 0, NULL},
    {"pyx12_missing_ge_err024.edi", "ta1:024 group:3", 0, NULL},
    {"pyx12_missing_iea_err023.edi", "ta1:023", 0, NULL},
    {"pyx12_missing_se_err3.edi", "set:2 set:3", 0, NULL},
    {"pyx12_se01_count_err4.edi", "set:4", 0, NULL},
    {"pyx12_se02_mismatch_err3.edi", "set:3", 0, NULL},
    {"pyx12_trailing_element_delim_errSEG1.edi", "ta1:024 warning", 0, NULL},
    {"pyx12_trailing_space_after_terminator_err1.edi", "ta1:024", 0, NULL},
    {"pyx12_two_interchanges_ok.edi", "", 0, NULL},
    {"staedi_empty997.edi", "set:5 seg:3", 0, NULL},
    {"staedi_extraDelimiter997.edi", "seg:8 el:12", 0, NULL},
    {"staedi_invalid997.edi", "el:7 el:6 el:5", 0, NULL},
    {"staedi_invalid997_min.edi", "ta1:024 group:4 el:7", 0, NULL},
    {"staedi_invalid999.edi", "set:4 el:3 el:7", 0, NULL},
    {"staedi_invoice810_po850_dual.edi", "", 3, "dray.invoice.received.v1"},
    {"staedi_multi-tx-transaction-type.edi", "", 2, "dray.order.acknowledged.v1"},
    {"staedi_optionalInterchangeServices.edi", "", 1, "dray.ack.received.v1"},
    {"staedi_simple810.edi", "", 2, "dray.invoice.received.v1"},
    {"staedi_simple997-multiple-interchanges.edi", "", 3, "dray.ack.received.v1"},
    {"staedi_simple997.edi", "", 1, "dray.ack.received.v1"},
    {"staedi_simple999.edi", "", 3, "dray.ack.received.v1"},
    {"staedi_ta1_interchange_ack.edi", "", 1, "dray.ack.received.v1"},
};

struct outcome {
  char tokens[1024];
};

static void add_token(struct outcome *o, const char *fmt, unsigned v) {
  char t[32];
  snprintf(t, sizeof(t), fmt, v);
  strncat(o->tokens, t, sizeof(o->tokens) - strlen(o->tokens) - 1);
}

static void on_ic(void *ctx, struct x12_interchange_result *ic) {
  struct outcome *o = ctx;
  if (ic->ta1_status == 'R') {
    char t[16];
    snprintf(t, sizeof(t), " ta1:%s", ic->ta1_code);
    strncat(o->tokens, t, sizeof(o->tokens) - strlen(o->tokens) - 1);
  }
  if (ic->warnings) strncat(o->tokens, " warning", sizeof(o->tokens) - strlen(o->tokens) - 1);
  for (uint32_t g = 0; g < ic->ngroups; g++) {
    const struct x12_group_result *gr = &ic->groups[g];
    for (int k = 0; k < gr->ncodes; k++) add_token(o, " group:%u", gr->codes[k]);
    for (uint32_t s = 0; s < gr->nsets; s++) {
      const struct x12_set_result *sr = &gr->sets[s];
      for (int k = 0; k < sr->ncodes; k++) add_token(o, " set:%u", sr->codes[k]);
      for (int e = 0; e < sr->nerrors; e++) {
        add_token(o, " seg:%u", sr->errors[e].code);
        for (int k = 0; k < sr->errors[e].nelements; k++)
          add_token(o, " el:%u", sr->errors[e].elements[k].code);
      }
    }
  }
}

static void validate_tokens(const char *buf, size_t len, struct outcome *o) {
  struct x12_validator_ops ops = {NULL, NULL, on_ic};
  struct x12_validator v;
  struct x12_tokenizer t;
  static struct x12_segment seg;
  int r;
  memset(o, 0, sizeof(*o));
  x12_validator_init(&v, &ops, o, 0);
  x12_tok_init(&t, 0);
  x12_tok_feed(&t, buf, len, 1);
  while ((r = x12_tok_next(&t, &seg)) == X12_TOK_SEGMENT)
    x12_validator_segment(&v, &seg, &t.delims);
  if (r == X12_TOK_ERROR) x12_validator_syntax_error(&v, &t);
  x12_validator_finish(&v);
  x12_validator_release(&v);
  x12_tok_release(&t);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *b = malloc((size_t)n + 1);
  *len = fread(b, 1, (size_t)n, f);
  b[*len] = '\0';
  fclose(f);
  return b;
}

static const char *fixture_dir(void) {
  static char dir[4096];
  const char *shared = getenv("DRAY_SHARED_DIR");
  struct stat st;
  if (!shared) return NULL;
  snprintf(dir, sizeof(dir), "%s/fixtures/x12", shared);
  return stat(dir, &st) == 0 ? dir : NULL;
}

static void test_every_x12_fixture_is_handled_as_sources_md_says(void **state) {
  (void)state;
  const char *dir = fixture_dir();
  if (!dir) {
    print_message("skipped: DRAY_SHARED_DIR/fixtures/x12 not present\n");
    skip();
  }
  int checked = 0;
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    const struct expect *e = &table[i];
    char path[4200];
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, e->file);
    char *buf = slurp(path, &len);
    if (!buf) fail_msg("%s: cannot read", path);
    struct outcome o;
    validate_tokens(buf, len, &o);
    char faults[1024];
    snprintf(faults, sizeof(faults), "%s", o.tokens);
    for (char *w = strstr(faults, " warning"); w; w = strstr(faults, " warning"))
      memmove(w, w + 8, strlen(w + 8) + 1);
    if (!e->tokens[0] && faults[0])
      fail_msg("%s: expected acceptance, got:%s", e->file, o.tokens);
    char want[256];
    snprintf(want, sizeof(want), "%s", e->tokens);
    for (char *tok = strtok(want, " "); tok; tok = strtok(NULL, " ")) {
      char pad[64];
      snprintf(pad, sizeof(pad), " %s", tok);
      /* whole-token match */
      const char *hit = strstr(o.tokens, pad);
      while (hit && hit[strlen(pad)] != '\0' && hit[strlen(pad)] != ' ')
        hit = strstr(hit + 1, pad);
      if (!hit) fail_msg("%s: expected %s, got:%s", e->file, tok, o.tokens);
    }
    struct capture c;
    struct x12_decode_report rep;
    memset(&c, 0, sizeof(c));
    int r = test_decode(buf, len, 0, &c, &rep);
    assert_int_equal(r, e->tokens[0] ? 1 : 0);
    if (e->tokens[0] && !rep.first_error[0])
      fail_msg("%s: rejected without an error text", e->file);
    if (e->messages >= 0 && c.n != e->messages)
      fail_msg("%s: %d canonical messages, expected %d", e->file, c.n, e->messages);
    if (e->type) assert_string_equal(c.types[0], e->type);
    capture_free(&c);
    free(buf);
    checked++;
  }
  assert_int_equal(checked, (int)(sizeof(table) / sizeof(table[0])));
}

/* Every fixture file in the folder must be in the table above, so a new
 * fixture cannot be silently ignored. */
static void test_no_fixture_is_left_out_of_the_table(void **state) {
  (void)state;
  const char *dir = fixture_dir();
  if (!dir) skip();
  char cmd[4300];
  snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char line[512];
  while (fgets(line, sizeof(line), p)) {
    line[strcspn(line, "\n")] = '\0';
    if (!strstr(line, ".edi")) continue;
    int found = 0;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
      if (strcmp(table[i].file, line) == 0) found = 1;
    if (!found) fail_msg("fixture %s has no expectation in test_fixtures.c", line);
  }
  pclose(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_x12_fixture_is_handled_as_sources_md_says),
      cmocka_unit_test(test_no_fixture_is_left_out_of_the_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
