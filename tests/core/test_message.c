/* test_message.c - canonical messages: ids, envelope rules, CloudEvents
 * serialization and parsing with JSON-path errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "msg_internal.h"

static void test_ulids_are_unique_sorted_and_crockford(void **s) {
  (void)s;
  char prev[27] = "", id[27];
  for (int i = 0; i < 10000; i++) {
    dray__ulid_new(id);
    assert_int_equal(strlen(id), 26);
    assert_int_equal(strspn(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 26);
    assert_true(strcmp(prev, id) < 0); /* monotonic within the process */
    memcpy(prev, id, sizeof id);
  }
}

static void test_new_message_has_the_cloudevents_attributes(void **s) {
  (void)s;
  dray_msg *m = dray__msg_new("dray://t/src", "dray.order.created.v1",
                              "{\"order_no\":\"PO-1\"}", 18);
  assert_non_null(m);
  assert_string_equal(dray__msg_header(m, "specversion"), "1.0");
  assert_string_equal(dray__msg_header(m, "source"), "dray://t/src");
  assert_int_equal(strlen(dray__msg_header(m, "id")), 26);
  assert_non_null(dray__msg_header(m, "time"));
  char err[256];
  assert_int_equal(dray__msg_check_envelope(m, err, sizeof err), 0);
  /* attribute names follow CloudEvents: lower-case [a-z0-9], <= 20 */
  assert_int_equal(dray__msg_set_header(m, "partitionkey", "SHP-1"), 0);
  assert_int_equal(dray__msg_set_header(m, "Bad-Name", "x"), -1);
  assert_int_equal(dray__msg_set_header(m, "data", "x"), -1);
  assert_int_equal(dray__msg_set_header(m, "specversion", "2.0"), -1);
  dray__msg_free(&m);
  assert_null(m);
}

static void test_serialize_then_parse_round_trips(void **s) {
  (void)s;
  const char *body = "{\"note\":\"a \\\"quote\\\"\"}";
  dray_msg *m = dray__msg_new("dray://t/src", "dray.order.created.v1", body,
                              strlen(body));
  dray__msg_set_header(m, "subject", "order/PO \"1\"\n");
  dray_buf buf;
  dray__buf_init(&buf);
  assert_int_equal(dray__msg_serialize(m, &buf), 0);
  char err[256];
  dray_msg *back = dray__msg_parse(buf.data, buf.len, err, sizeof err);
  if (!back) fail_msg("%s in %s", err, buf.data);
  assert_string_equal(dray__msg_header(back, "subject"), "order/PO \"1\"\n");
  assert_string_equal(dray__msg_header(back, "id"), dray__msg_header(m, "id"));
  size_t len;
  assert_string_equal(dray__msg_body(back, &len), "{\"note\":\"a \\\"quote\\\"\"}");
  dray__buf_release(&buf);
  dray__msg_free(&m);
  dray__msg_free(&back);
}

static void expect_parse_error(const char *json, const char *needle) {
  char err[256] = "";
  dray_msg *m = dray__msg_parse(json, strlen(json), err, sizeof err);
  assert_null(m);
  if (!strstr(err, needle)) fail_msg("expected \"%s\" in \"%s\"", needle, err);
}

static void test_bad_events_are_refused_with_the_json_path(void **s) {
  (void)s;
  expect_parse_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\"}",
                     "$.type: required attribute missing");
  expect_parse_error("{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"}",
                     "$.specversion: must be \"1.0\"");
  expect_parse_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\",\"Bad\":\"x\"}",
                     "$.Bad: attribute names are 1-20 characters");
  expect_parse_error("{\"specversion\":\"1.0\",\"id\":{},\"source\":\"s\",\"type\":\"t\"}",
                     "$.id: attribute value must be a string");
  expect_parse_error("{\"specversion\":\"1.0\",", "invalid JSON at byte");
  expect_parse_error("[1,2]", "$: a CloudEvent must be a JSON object");
  expect_parse_error("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"} x",
                     "trailing data");
}

static void test_shared_references_free_once(void **s) {
  (void)s;
  dray_msg *m = dray__msg_new("dray://t/src", "t", "{}", 2);
  dray_msg *second = dray__msg_ref(m);
  dray__msg_free(&m);
  assert_string_equal(dray__msg_header(second, "type"), "t"); /* still alive */
  dray__msg_free(&second);
}

static void test_pack_unpack_round_trips_and_refuses_truncation(void **s) {
  (void)s;
  dray_msg *m = dray__msg_new("dray://t/src", "dray.order.created.v1", "{\"a\":1}", 7);
  dray__msg_set_header(m, "partitionkey", "SHP-9");
  dray_buf buf;
  dray__buf_init(&buf);
  assert_int_equal(dray__msg_pack(m, &buf), 0);
  char err[256];
  dray_msg *back = dray__msg_unpack(buf.data, buf.len, err, sizeof err);
  assert_non_null(back);
  assert_string_equal(dray__msg_header(back, "partitionkey"), "SHP-9");
  assert_string_equal(dray__msg_header(back, "id"), dray__msg_header(m, "id"));
  assert_string_equal(dray__msg_body(back, NULL), "{\"a\":1}");
  dray__msg_free(&back);
  for (size_t cut = 0; cut < buf.len; cut++) {
    back = dray__msg_unpack(buf.data, cut, err, sizeof err);
    assert_null(back);
  }
  dray__buf_release(&buf);
  dray__msg_free(&m);
}

/* Messages live in one block with room for later attributes; past that
 * room, attributes and a new body still work and are freed on their own. */
static void test_attributes_beyond_the_blocks_room_and_a_new_body_work(void **s) {
  (void)s;
  dray_msg *m = dray__msg_new("dray://t/src", "dray.order.created.v1", "{\"a\":1}", 7);
  char name[16], value[64];
  for (int i = 0; i < 20; i++) { /* beyond the slack and the inline array */
    snprintf(name, sizeof name, "ext%d", i);
    snprintf(value, sizeof value, "value-%d-padded-to-be-longer-than-usual", i);
    assert_int_equal(dray__msg_set_header(m, name, value), 0);
  }
  assert_int_equal(dray__msg_set_header(m, "ext3", "changed"), 0);
  assert_string_equal(dray__msg_header(m, "ext3"), "changed");
  assert_string_equal(dray__msg_header(m, "ext19"), "value-19-padded-to-be-longer-than-usual");
  assert_int_equal(dray__msg_set_body(m, "{\"b\":2}", 7), 0);
  assert_string_equal(dray__msg_body(m, NULL), "{\"b\":2}");
  dray_buf buf;
  dray__buf_init(&buf);
  assert_int_equal(dray__msg_pack(m, &buf), 0);
  char err[256];
  dray_msg *back = dray__msg_unpack(buf.data, buf.len, err, sizeof err);
  assert_non_null(back);
  assert_string_equal(dray__msg_header(back, "ext19"), "value-19-padded-to-be-longer-than-usual");
  assert_int_equal(dray__msg_set_header(back, "partitionkey", "P-1"), 0); /* unpacked: room too */
  assert_string_equal(dray__msg_header(back, "partitionkey"), "P-1");
  dray__msg_free(&back);
  dray__buf_release(&buf);
  dray__msg_free(&m);
}

static void test_unpack_refuses_a_repeated_attribute(void **s) {
  (void)s;
  /* "DRM1", 2 attributes both named "id", empty body */
  const unsigned char packed[] = {'D', 'R', 'M', '1', 2, 0,
                                  2, 0, 'i', 'd', 1, 0, 0, 0, 'x',
                                  2, 0, 'i', 'd', 1, 0, 0, 0, 'y',
                                  0, 0, 0, 0};
  char err[256];
  assert_null(dray__msg_unpack(packed, sizeof packed, err, sizeof err));
  assert_string_equal(err, "packed message: attribute 1 is invalid");
  /* the same with one attribute reads, and an empty body is "null" */
  const unsigned char one[] = {'D', 'R', 'M', '1', 1, 0, 2, 0, 'i', 'd', 1, 0, 0, 0, 'x',
                               0, 0, 0, 0};
  dray_msg *m = dray__msg_unpack(one, sizeof one, err, sizeof err);
  assert_non_null(m);
  assert_string_equal(dray__msg_header(m, "id"), "x");
  assert_string_equal(dray__msg_body(m, NULL), "null");
  dray__msg_free(&m);
}

/* The workers' last reference queues a message; the accepting side frees
 * the queue (leak checkers in the sanitizer and valgrind runs prove it). */
static void test_free_later_keeps_a_shared_message_and_frees_the_last(void **s) {
  (void)s;
  dray_msg *a = dray__msg_new("dray://t/src", "dray.order.created.v1", "{}", 2);
  dray_msg *b = dray__msg_ref(a), *keep = a;
  dray__msg_free_later(&a);
  assert_null(a);
  assert_string_equal(dray__msg_header(keep, "source"), "dray://t/src"); /* b still holds it */
  dray__msg_free_later(&b);
  dray_msg *c = dray__msg_new("dray://t/src", "dray.order.created.v1", "{}", 2);
  dray__msg_free_later(&c);
  dray__msg_free_pending(); /* frees both */
  dray__msg_free_pending(); /* nothing left: a no-op */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_free_later_keeps_a_shared_message_and_frees_the_last),
      cmocka_unit_test(test_attributes_beyond_the_blocks_room_and_a_new_body_work),
      cmocka_unit_test(test_unpack_refuses_a_repeated_attribute),
      cmocka_unit_test(test_ulids_are_unique_sorted_and_crockford),
      cmocka_unit_test(test_new_message_has_the_cloudevents_attributes),
      cmocka_unit_test(test_serialize_then_parse_round_trips),
      cmocka_unit_test(test_bad_events_are_refused_with_the_json_path),
      cmocka_unit_test(test_shared_references_free_once),
      cmocka_unit_test(test_pack_unpack_round_trips_and_refuses_truncation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
