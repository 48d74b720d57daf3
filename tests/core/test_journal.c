/* test_journal.c - the ingress journal's payload: flags, the old "DRJ1"
 * form, and refusals of what is not a journal record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"

static dray_msg *order(void) {
  return dray__msg_new("dray://t/src", "dray.order.created.v1", "{\"order_no\":\"PO-1\"}", 19);
}

static void test_a_queued_record_keeps_its_flag_source_and_message(void **s) {
  (void)s;
  dray_msg *m = order();
  dray_buf b;
  dray__buf_init(&b);
  assert_int_equal(dray__journal_encode(&b, "erp_in", NULL, 0, DRAY__JOURNAL_QUEUED, m), 0);
  assert_int_equal(dray__journal_peek_flags(b.data, b.len), DRAY__JOURNAL_QUEUED);
  struct dray__journal_record rec;
  char err[128];
  assert_int_equal(dray__journal_decode(b.data, b.len, &rec, err, sizeof err), 0);
  assert_int_equal(rec.flags, DRAY__JOURNAL_QUEUED);
  assert_string_equal(rec.source, "erp_in");
  assert_int_equal(rec.dest_count, 0);
  assert_string_equal(dray__msg_header(rec.msg, "id"), dray__msg_header(m, "id"));
  assert_int_equal(rec.msg->body_len, 19);
  assert_memory_equal(rec.msg->body, "{\"order_no\":\"PO-1\"}", 19);
  dray__journal_record_release(&rec);
  dray__buf_release(&b);
  dray__msg_free(&m);
}

static void test_a_record_with_destinations_and_no_flags_round_trips(void **s) {
  (void)s;
  dray_msg *m = order();
  dray_buf b;
  dray__buf_init(&b);
  const char *dests[] = {"tms", "billing"};
  assert_int_equal(dray__journal_encode(&b, "erp_in", dests, 2, 0, m), 0);
  assert_int_equal(dray__journal_peek_flags(b.data, b.len), 0);
  struct dray__journal_record rec;
  char err[128];
  assert_int_equal(dray__journal_decode(b.data, b.len, &rec, err, sizeof err), 0);
  assert_int_equal(rec.dest_count, 2);
  assert_string_equal(rec.dests[0], "tms");
  assert_string_equal(rec.dests[1], "billing");
  assert_null(rec.dests[2]);
  dray__journal_record_release(&rec);
  dray__buf_release(&b);
  dray__msg_free(&m);
}

/* Journals written before the flags byte existed are still read. */
static void test_an_old_drj1_record_reads_with_no_flags(void **s) {
  (void)s;
  dray_msg *m = order();
  dray_buf b;
  dray__buf_init(&b);
  assert_int_equal(dray__journal_encode(&b, "erp_in", NULL, 0, DRAY__JOURNAL_QUEUED, m), 0);
  unsigned char old[4096];
  assert_true(b.len - 1 <= sizeof old);
  memcpy(old, "DRJ1", 4);
  memcpy(old + 4, (unsigned char *)b.data + 5, b.len - 5); /* without the flags byte */
  struct dray__journal_record rec;
  char err[128];
  assert_int_equal(dray__journal_peek_flags(old, b.len - 1), 0);
  assert_int_equal(dray__journal_decode(old, b.len - 1, &rec, err, sizeof err), 0);
  assert_int_equal(rec.flags, 0);
  assert_string_equal(rec.source, "erp_in");
  assert_string_equal(dray__msg_header(rec.msg, "type"), "dray.order.created.v1");
  dray__journal_record_release(&rec);
  dray__buf_release(&b);
  dray__msg_free(&m);
}

static void test_foreign_or_cut_records_are_refused_with_a_reason(void **s) {
  (void)s;
  struct dray__journal_record rec;
  char err[128];
  assert_int_equal(dray__journal_peek_flags("DLQ1xxxx", 8), -1);
  assert_int_equal(dray__journal_decode("DLQ1xxxx", 8, &rec, err, sizeof err), -1);
  assert_string_equal(err, "journal record: bad magic");
  assert_int_equal(dray__journal_peek_flags("DRJ2", 4), -1); /* no room for the flags */
  dray_msg *m = order();
  dray_buf b;
  dray__buf_init(&b);
  assert_int_equal(dray__journal_encode(&b, "erp_in", NULL, 0, 0, m), 0);
  for (size_t cut = 5; cut < 12; cut++) {
    err[0] = 0;
    assert_int_equal(dray__journal_decode(b.data, cut, &rec, err, sizeof err), -1);
    assert_non_null(strstr(err, "journal record"));
  }
  dray__buf_release(&b);
  dray__msg_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_queued_record_keeps_its_flag_source_and_message),
      cmocka_unit_test(test_a_record_with_destinations_and_no_flags_round_trips),
      cmocka_unit_test(test_an_old_drj1_record_reads_with_no_flags),
      cmocka_unit_test(test_foreign_or_cut_records_are_refused_with_a_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
