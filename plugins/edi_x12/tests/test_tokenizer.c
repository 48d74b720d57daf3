/* test_tokenizer.c - delimiters, layouts and positions of the tokenizer. */
#include "x12_test_util.h"

#include "x12_tokenizer.h"

/* Tokenizes all of doc; fills tags "ISA GS ST ..." and returns the result
 * of the last x12_tok_next. */
static int tokenize(const char *doc, size_t len, unsigned flags, char *tags,
                    size_t size, struct x12_tokenizer *t) {
  static struct x12_segment seg;
  int r;
  tags[0] = '\0';
  x12_tok_init(t, flags);
  x12_tok_feed(t, doc, len, 1);
  while ((r = x12_tok_next(t, &seg)) == X12_TOK_SEGMENT) {
    char tag[8];
    x12_span_copy(seg.el[0], tag, sizeof(tag));
    if (tags[0]) strncat(tags, " ", size - strlen(tags) - 1);
    strncat(tags, tag, size - strlen(tags) - 1);
  }
  return r;
}

static const char *isa_pipe =
    "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       "
    "|240514|0832|^|00501|000000001|0|P|:!";

static void test_delimiters_are_read_from_the_isa(void **state) {
  (void)state;
  char doc[512], tags[256];
  snprintf(doc, sizeof(doc), "%sGS|PO|A|B|20240514|0832|1|X|005010!"
           "ST|850|0001!REF|ZZ|A:B^C!SE|3|0001!GE|1|1!IEA|1|000000001!", isa_pipe);
  struct x12_tokenizer t;
  assert_int_equal(tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t), X12_TOK_END);
  assert_string_equal(tags, "ISA GS ST REF SE GE IEA");
  assert_int_equal(t.delims.element, '|');
  assert_int_equal(t.delims.component, ':');
  assert_int_equal(t.delims.terminator[0], '!');
  assert_int_equal(t.delims.repetition, '^'); /* 00501, not alphanumeric */
  x12_tok_release(&t);
}

static void test_repetition_separator_needs_00402_and_punctuation(void **state) {
  (void)state;
  char doc[512], tags[256];
  struct x12_tokenizer t;
  /* 00401: ISA11 is the standards identifier, never a separator */
  snprintf(doc, sizeof(doc),
           "ISA*00*          *00*          *ZZ*S              *ZZ*R          "
           "    *240514*0832*^*00401*000000001*0*P*>~IEA*0*000000001~");
  tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t);
  assert_int_equal(t.delims.repetition, 0);
  x12_tok_release(&t);
  /* 00406 with 'U': partners that do not use repeats */
  snprintf(doc, sizeof(doc),
           "ISA*00*          *00*          *ZZ*S              *ZZ*R          "
           "    *240514*0832*U*00406*000000001*0*P*>~IEA*0*000000001~");
  tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t);
  assert_int_equal(t.delims.repetition, 0);
  x12_tok_release(&t);
}

static void test_multibyte_utf8_terminator_is_one_delimiter(void **state) {
  (void)state;
  char doc[512], tags[256];
  /* U+2026 HORIZONTAL ELLIPSIS as segment terminator (3 bytes) */
  snprintf(doc, sizeof(doc),
           "ISA*00*          *00*          *ZZ*S              *ZZ*R          "
           "    *240514*0832*U*00401*000000001*0*P*>\xE2\x80\xA6"
           "GS*PO*S*R*20240514*0832*1*X*004010\xE2\x80\xA6"
           "GE*0*1\xE2\x80\xA6IEA*1*000000001\xE2\x80\xA6");
  struct x12_tokenizer t;
  assert_int_equal(tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t), X12_TOK_END);
  assert_string_equal(tags, "ISA GS GE IEA");
  assert_int_equal(t.delims.terminator_len, 3);
  x12_tok_release(&t);
}

static void test_newline_terminator_is_not_stripped(void **state) {
  (void)state;
  char doc[512], tags[256];
  snprintf(doc, sizeof(doc),
           "ISA*00*          *00*          *ZZ*S              *ZZ*R          "
           "    *240514*0832*U*00401*000000001*0*P*>\n"
           "GS*PO*S*R*20240514*0832*1*X*004010\nGE*0*1\nIEA*1*000000001\n");
  struct x12_tokenizer t;
  assert_int_equal(tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t), X12_TOK_END);
  assert_string_equal(tags, "ISA GS GE IEA");
  assert_int_equal(t.delims.terminator[0], '\n');
  x12_tok_release(&t);
}

static void test_bom_whitespace_and_crlf_are_skipped_with_line_numbers(void **state) {
  (void)state;
  char doc[512];
  snprintf(doc, sizeof(doc),
           "\xEF\xBB\xBF  \r\n"
           "ISA*00*          *00*          *ZZ*S              *ZZ*R          "
           "    *240514*0832*U*00401*000000001*0*P*>~\r\n"
           "GS*PO*S*R*20240514*0832*1*X*004010~\r\nGE*0*1~\r\nIEA*1*000000001~\r\n");
  struct x12_tokenizer t;
  struct x12_segment seg;
  x12_tok_init(&t, 0);
  x12_tok_feed(&t, doc, strlen(doc), 1);
  assert_int_equal(x12_tok_next(&t, &seg), X12_TOK_SEGMENT);
  assert_true(seg.is_isa);
  assert_int_equal(seg.pos.line, 2);
  assert_int_equal(seg.pos.column, 1);
  assert_int_equal(x12_tok_next(&t, &seg), X12_TOK_SEGMENT);
  assert_true(x12_span_eq(seg.el[0], "GS"));
  assert_int_equal(seg.pos.line, 3);
  assert_int_equal(seg.pos.segment_index, 2);
  assert_true(x12_span_eq(seg.el[8], "004010"));
  x12_tok_release(&t);
}

static void test_short_isa_is_refused_when_strict(void **state) {
  (void)state;
  char tags[256];
  const char *doc = "ISA*00**00**ZZ*S*ZZ*R*240514*0832*U*00401*000000001*0*P*>~"
                    "IEA*0*000000001~";
  struct x12_tokenizer t;
  assert_int_equal(tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t), X12_TOK_ERROR);
  assert_string_equal(x12_tok_error_ta1(t.error), "022");
  assert_int_equal(t.error_pos.line, 1);
  assert_non_null(strstr(t.message, "not fixed-width"));
  x12_tok_release(&t);
}

static void test_short_isa_is_tokenized_with_a_warning_when_lenient(void **state) {
  (void)state;
  char tags[256];
  const char *doc = "ISA*00**00**ZZ*S*ZZ*R*240514*0832*U*00401*000000001*0*P*>~"
                    "IEA*0*000000001~";
  struct x12_tokenizer t;
  assert_int_equal(tokenize(doc, strlen(doc), X12_TOK_LENIENT, tags, sizeof(tags), &t),
                   X12_TOK_END);
  assert_string_equal(tags, "ISA IEA");
  assert_int_equal(t.warnings, 1);
  assert_non_null(strstr(t.warning, "not fixed-width"));
  x12_tok_release(&t);
}

static void test_hard_wrapped_lines_are_joined_when_lenient(void **state) {
  (void)state;
  /* 80-column wrapping inside the ISA and inside an element */
  const char *doc =
      "ISA*00*          *00*          *ZZ*S              *ZZ*R          \r\n"
      "    *240514*0832*U*00401*000000001*0*P*>~GS*PO*S*R*20240514*0832*1*X*00\r\n"
      "4010~GE*0*1~IEA*1*000000001~";
  struct x12_tokenizer t;
  struct x12_segment seg;
  x12_tok_init(&t, X12_TOK_LENIENT);
  x12_tok_feed(&t, doc, strlen(doc), 1);
  assert_int_equal(x12_tok_next(&t, &seg), X12_TOK_SEGMENT);
  assert_true(x12_span_eq(seg.el[9], "240514"));
  assert_int_equal(x12_tok_next(&t, &seg), X12_TOK_SEGMENT);
  assert_true(x12_span_eq(seg.el[8], "004010"));
  assert_true(seg.copied);
  assert_int_equal(x12_tok_next(&t, &seg), X12_TOK_SEGMENT);
  assert_true(x12_span_eq(seg.el[0], "GE"));
  assert_int_equal(seg.pos.line, 3);
  x12_tok_release(&t);
  /* strict: the wrapped ISA is refused */
  char tags[128];
  assert_int_equal(tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t), X12_TOK_ERROR);
  x12_tok_release(&t);
}

static void test_feeding_small_chunks_gives_the_same_segments(void **state) {
  (void)state;
  char *doc = test_doc("000000042", "PO", "004010", "850",
                       "BEG*00*SA*PO1**20240514~\nPO1*1*2*EA*9.5~\n");
  size_t len = strlen(doc);
  char whole[512], chunked[512] = "";
  struct x12_tokenizer t;
  tokenize(doc, len, 0, whole, sizeof(whole), &t);
  x12_tok_release(&t);
  /* feed 7 new bytes at a time, keeping the unconsumed tail */
  char window[4096];
  size_t have = 0, pos = 0;
  struct x12_segment seg;
  x12_tok_init(&t, 0);
  for (;;) {
    size_t add = len - pos < 7 ? len - pos : 7;
    memcpy(window + have, doc + pos, add);
    have += add;
    pos += add;
    x12_tok_feed(&t, window, have, pos == len);
    int r;
    while ((r = x12_tok_next(&t, &seg)) == X12_TOK_SEGMENT) {
      char tag[8];
      x12_span_copy(seg.el[0], tag, sizeof(tag));
      if (chunked[0]) strcat(chunked, " ");
      strcat(chunked, tag);
    }
    assert_true(r == X12_TOK_NEED_MORE || r == X12_TOK_END);
    size_t used = x12_tok_consumed(&t);
    memmove(window, window + used, have - used);
    have -= used;
    if (r == X12_TOK_END) break;
  }
  assert_string_equal(chunked, whole);
  assert_string_equal(whole, "ISA GS ST BEG PO1 SE GE IEA");
  x12_tok_release(&t);
  free(doc);
}

static void test_unterminated_segment_error_names_line_and_column(void **state) {
  (void)state;
  char doc[512], tags[128];
  snprintf(doc, sizeof(doc),
           "ISA*00*          *00*          *ZZ*S              *ZZ*R          "
           "    *240514*0832*U*00401*000000001*0*P*>~\nGS*PO*S*R*20240514*0832*1*X*004010~\n"
           "  GE*0*1");
  struct x12_tokenizer t;
  assert_int_equal(tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t), X12_TOK_ERROR);
  assert_int_equal(t.error_pos.line, 3);
  assert_int_equal(t.error_pos.column, 1);
  assert_string_equal(x12_tok_error_ta1(t.error), "023");
  x12_tok_release(&t);
}

static void test_alphanumeric_element_separator_is_ta1_026(void **state) {
  (void)state;
  char doc[512], tags[128];
  snprintf(doc, sizeof(doc), "ISAX00X          X00X          XZZXS              XZZXR          "
           "    X240514X0832XUX00401X000000001X0XPX>~");
  struct x12_tokenizer t;
  assert_int_equal(tokenize(doc, strlen(doc), 0, tags, sizeof(tags), &t), X12_TOK_ERROR);
  assert_string_equal(x12_tok_error_ta1(t.error), "026");
  x12_tok_release(&t);
}

static void test_text_before_the_isa_is_refused(void **state) {
  (void)state;
  char tags[128];
  struct x12_tokenizer t;
  assert_int_equal(tokenize("hello~", 6, 0, tags, sizeof(tags), &t), X12_TOK_ERROR);
  assert_int_equal(t.error, X12_TOKE_NO_ISA);
  x12_tok_release(&t);
}

/* Everything a segment carries, as text, for comparing two splits. */
static void describe_all(const char *doc, size_t len, unsigned flags,
                         char *out, size_t size) {
  struct x12_tokenizer t;
  static struct x12_segment seg;
  size_t k = 0;
  int r;
  x12_tok_init(&t, flags);
  x12_tok_feed(&t, doc, len, 1);
  out[0] = '\0';
  while ((r = x12_tok_next(&t, &seg)) == X12_TOK_SEGMENT && k + 1 < size) {
    k += (size_t)snprintf(out + k, size - k, "[%u f%u e%d @%llu %u:%u]",
                          seg.count, seg.flags, seg.trailing_empty,
                          (unsigned long long)seg.pos.offset, seg.pos.line,
                          seg.pos.column);
    for (uint32_t i = 0; i < seg.count && k + 1 < size; i++)
      k += (size_t)snprintf(out + k, size - k, "<%.*s>", (int)seg.el[i].len,
                            seg.el[i].ptr);
  }
  if (k + 1 < size)
    snprintf(out + k, size - k, " r%d e%d %s %u:%u lines=%u", r, t.error,
             t.message, t.error_pos.line, t.error_pos.column, t.line);
  x12_tok_release(&t);
}

/* The 16-byte SSE2 split and the byte loop must cut every segment alike:
 * elements on both sides of a 16-byte block boundary, more separators than
 * fit a block, empty elements, separators and control bytes inside
 * elements, a CR/LF or newline terminator, and segments shorter than a
 * block at the end of the input. */
static void test_sse2_split_and_byte_loop_give_the_same_segments(void **state) {
  (void)state;
  static const char *bodies[] = {
      "BSN*00*SHP0001234568*20240514*0331*0001~HL*1**S~",
      "N1*ST*UMBRELLA PARTS CO*92*UMBR03~N3*77 INDUSTRIAL DR*BLDG C~",
      "REF*****************************X~",       /* many per block */
      "REF*AAAAAAAAAAAAAAA*BBBBBBBBBBBBBBBB*C~",   /* cut at 16 */
      "REF*A>B*C^D*E\x01" "F*G\x7fH~",             /* specials */
      "REF*DP*038\r\n~PID*F****X~\r\nCTT*1~",      /* CR/LF inside */
      "N1*ST*X**~N4*A*B~",                         /* trailing empty */
      "MSG*0123456789012345678901234567890123456789012345678901234567890~",
  };
  char *a = malloc(65536), *b = malloc(65536);
  for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
    char *doc = test_doc("000000042", "SH", "005010", "856", bodies[i]);
    for (unsigned lenient = 0; lenient <= X12_TOK_LENIENT;
         lenient += X12_TOK_LENIENT) {
      /* every cut of the input: the last segments end at every offset
       * from a 16-byte block */
      size_t len = strlen(doc);
      for (size_t cut = len > 40 ? len - 40 : 0; cut <= len; cut++) {
        describe_all(doc, cut, lenient, a, 65536);
        describe_all(doc, cut, lenient | X12_TOK_BYTEWISE, b, 65536);
        assert_string_equal(a, b);
      }
    }
    free(doc);
  }
  /* a newline as the terminator */
  char doc[512];
  snprintf(doc, sizeof(doc),
           "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER"
           "       *240514*0832*U*00401*000000001*0*P*>\nGS*PO*S*R*20240514*"
           "0832*1*X*004010\nST*850*0001\nBEG*00*SA*A\rB**20240514\nSE*3*0001"
           "\nGE*1*1\nIEA*1*000000001\n");
  describe_all(doc, strlen(doc), 0, a, 65536);
  describe_all(doc, strlen(doc), X12_TOK_BYTEWISE, b, 65536);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "<BEG><00><SA><A\rB><><20240514>"));
  free(a);
  free(b);
}

/* More than 127 elements is the same error at the same place either way. */
static void test_too_many_elements_is_reported_alike_by_both_splits(void **state) {
  (void)state;
  char body[512] = "REF";
  for (int i = 0; i < 130; i++) strcat(body, "*1");
  strcat(body, "~");
  char *doc = test_doc("000000042", "SH", "004010", "856", body);
  char a[4096], b[4096];
  describe_all(doc, strlen(doc), 0, a, sizeof(a));
  describe_all(doc, strlen(doc), X12_TOK_BYTEWISE, b, sizeof(b));
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "more than 127 elements"));
  free(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delimiters_are_read_from_the_isa),
      cmocka_unit_test(test_repetition_separator_needs_00402_and_punctuation),
      cmocka_unit_test(test_multibyte_utf8_terminator_is_one_delimiter),
      cmocka_unit_test(test_newline_terminator_is_not_stripped),
      cmocka_unit_test(test_bom_whitespace_and_crlf_are_skipped_with_line_numbers),
      cmocka_unit_test(test_short_isa_is_refused_when_strict),
      cmocka_unit_test(test_short_isa_is_tokenized_with_a_warning_when_lenient),
      cmocka_unit_test(test_hard_wrapped_lines_are_joined_when_lenient),
      cmocka_unit_test(test_feeding_small_chunks_gives_the_same_segments),
      cmocka_unit_test(test_unterminated_segment_error_names_line_and_column),
      cmocka_unit_test(test_alphanumeric_element_separator_is_ta1_026),
      cmocka_unit_test(test_text_before_the_isa_is_refused),
      cmocka_unit_test(test_sse2_split_and_byte_loop_give_the_same_segments),
      cmocka_unit_test(test_too_many_elements_is_reported_alike_by_both_splits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
