/* test_stamp.c - unit tests of the stamp plugin with the SDK's mock host.
 *
 * The mock host (dray-sdk/mock_host.h, in libdray-sdk) builds the same host
 * table the runtime hands to a plugin, validates config against the
 * plugin's schema exactly like `dray check`, and records what the plugin
 * emitted, logged and reported. Each test creates one instance the way the
 * runtime would, drives a callback and asserts what a user would see. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dray-sdk/mock_host.h>
#include <dray/dray.h>

/* The plugin's one export (compiled into this test from src/stamp.c). */
int dray_plugin_entry(uint32_t host_major, uint32_t host_minor,
                      const struct dray_plugin **out);

static const char key_a[] = "000102030405060708090a0b0c0d0e0f";
static const char key_b[] = "f0e0d0c0b0a090807060504030201000";

struct fixture {
  const struct dray_plugin *plugin;
  dray_mock_host *mh;
  const struct dray_host *host;
  void *state;
};

static int setup(void **ts) {
  struct fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  /* Obtain the descriptor the way the loader does: through the entry. */
  if (dray_plugin_entry(DRAY_ABI_MAJOR, DRAY_ABI_MINOR, &f->plugin) != 0)
    return -1;
  f->mh = dray_mock_host_new("stamp_test");
  if (!f->mh) return -1;
  f->host = dray_mock_host_table(f->mh);
  *ts = f;
  return 0;
}

static int teardown(void **ts) {
  struct fixture *f = *ts;
  if (f->state) f->plugin->destroy(f->state);
  dray_mock_host_destroy(&f->mh);
  free(f);
  return 0;
}

static void set(struct fixture *f, const char *name, const char *value) {
  assert_int_equal(dray_mock_host_set_config(f->mh, name, value), 0);
}

/* Creates and starts the instance; fails the test with the host's reason. */
static void create_started(struct fixture *f) {
  int rc = dray_mock_host_create(f->mh, f->plugin, &f->state);
  if (rc != 0) fail_msg("create failed: %s", dray_mock_host_last_error(f->mh));
  assert_int_equal(f->plugin->start(f->state), 0);
}

static dray_msg *order(struct fixture *f, const char *body) {
  dray_msg *m = f->host->msg_new(dray_mock_host_instance(f->mh),
                                 "dray.order.created.v1", body, strlen(body));
  assert_non_null(m);
  return m;
}

/* Runs one message through process(); returns the status. */
static dray_status process_body(struct fixture *f, const char *body) {
  dray_msg *m = order(f, body);
  dray_status st = f->plugin->process(f->state, m);
  f->host->msg_free(&m);
  return st;
}

static const char *emitted_header(struct fixture *f, size_t i,
                                  const char *name) {
  const dray_msg *m = dray_mock_host_emitted(f->mh, i);
  assert_non_null(m);
  return f->host->msg_header(m, name);
}

/* --- the message path ---------------------------------------------------- */

static void test_routed_message_is_emitted_again_with_the_header(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "value", "dock7");
  create_started(f);
  dray_msg *in = order(f, "{\"order_id\":\"A-100\"}");
  assert_int_equal(f->plugin->process(f->state, in), DRAY_OK);

  assert_int_equal(dray_mock_host_emitted_count(f->mh), 1);
  const dray_msg *out = dray_mock_host_emitted(f->mh, 0);
  assert_string_equal(f->host->msg_header(out, "stampedby"), "dock7");
  /* Type and body are kept. */
  assert_string_equal(f->host->msg_type(out), "dray.order.created.v1");
  size_t len;
  assert_non_null(strstr(f->host->msg_body(out, &len), "A-100"));
  /* The routed message itself stays untouched (the host owns it). */
  assert_null(f->host->msg_header(in, "stampedby"));
  assert_int_equal(dray_mock_host_counter(f->mh, "stamped"), 1);
  f->host->msg_free(&in);
}

/* The runtime accepts an event identity (source, id) once: a re-emitted
 * clone would be dropped as a duplicate of the message it came from. */
static void test_emitted_message_is_a_new_event_caused_by_the_original(void **ts) {
  struct fixture *f = *ts;
  const struct dray_host *h = f->host;
  set(f, "header", "stampedby");
  create_started(f);
  const char event[] =
      "{\"specversion\":\"1.0\",\"id\":\"01J0000000000000000000ORIG\","
      "\"source\":\"dray://site/inbox\",\"type\":\"dray.order.created.v1\","
      "\"partitionkey\":\"SH-7\",\"idempotencykey\":\"erp/order/77/1\","
      "\"subject\":\"order 77\",\"data\":{\"order_id\":\"77\"}}";
  char err[256];
  dray_msg *in = h->msg_parse(dray_mock_host_instance(f->mh), event,
                              sizeof event - 1, err, sizeof err);
  assert_non_null(in);
  assert_int_equal(f->plugin->process(f->state, in), DRAY_OK);
  const dray_msg *out = dray_mock_host_emitted(f->mh, 0);
  assert_non_null(out);
  /* New identity, emitted by this instance. */
  assert_string_not_equal(h->msg_header(out, "id"), "01J0000000000000000000ORIG");
  assert_int_equal(strlen(h->msg_header(out, "id")), 26);
  assert_string_not_equal(h->msg_header(out, "source"), "dray://site/inbox");
  /* Traceable to the original and in its business thread. */
  assert_string_equal(h->msg_header(out, "causationid"), "01J0000000000000000000ORIG");
  assert_string_equal(h->msg_header(out, "correlationid"), "01J0000000000000000000ORIG");
  /* Ordering and the business effect are the original's. */
  assert_string_equal(h->msg_header(out, "partitionkey"), "SH-7");
  assert_string_equal(h->msg_header(out, "idempotencykey"), "erp/order/77/1");
  assert_string_equal(h->msg_header(out, "subject"), "order 77");
  /* Two stamped messages never share an id. */
  assert_int_equal(f->plugin->process(f->state, in), DRAY_OK);
  assert_string_not_equal(h->msg_header(dray_mock_host_emitted(f->mh, 1), "id"),
                          h->msg_header(out, "id"));
  h->msg_free(&in);
}

static void test_value_defaults_to_the_instance_name(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  create_started(f);
  assert_int_equal(process_body(f, "{}"), DRAY_OK);
  assert_string_equal(emitted_header(f, 0, "stampedby"), "stamp_test");
}

static void test_sequence_mode_numbers_each_message(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "seq");
  set(f, "value", "lane");
  set(f, "mode", "sequence");
  create_started(f);
  for (int i = 0; i < 3; i++) assert_int_equal(process_body(f, "{}"), DRAY_OK);
  assert_string_equal(emitted_header(f, 0, "seq"), "lane-1");
  assert_string_equal(emitted_header(f, 2, "seq"), "lane-3");
}

static void test_time_mode_stamps_an_rfc3339_utc_time(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedat");
  set(f, "value", "gate");
  set(f, "mode", "time");
  create_started(f);
  assert_int_equal(process_body(f, "{}"), DRAY_OK);
  const char *v = emitted_header(f, 0, "stampedat");
  int y, mo, d, h, mi, s, ms;
  char z = 0;
  assert_int_equal(sscanf(v, "gate@%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo,
                          &d, &h, &mi, &s, &ms, &z),
                   8);
  assert_true(y >= 2024 && mo >= 1 && mo <= 12);
  assert_int_equal(z, 'Z');
}

static void test_oversized_body_is_rejected_with_the_limit_named(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "max_body_bytes", "16");
  create_started(f);
  assert_int_equal(process_body(f, "{\"order_id\":\"much longer than 16\"}"),
                   DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(f->mh), "max_body_bytes 16"));
  assert_int_equal(dray_mock_host_emitted_count(f->mh), 0);
}

static void test_downstream_backpressure_makes_process_retry(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  create_started(f);
  dray_mock_host_set_emit_status(f->mh, DRAY_RETRY);
  assert_int_equal(process_body(f, "{}"), DRAY_RETRY);
  assert_int_equal(dray_mock_host_emitted_count(f->mh), 0);
  /* Once downstream has room, the host's retry goes through. */
  dray_mock_host_set_emit_status(f->mh, DRAY_OK);
  assert_int_equal(process_body(f, "{}"), DRAY_OK);
  assert_int_equal(dray_mock_host_emitted_count(f->mh), 1);
}

static void test_closed_emit_window_is_retry_not_fatal(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  create_started(f);
  dray_mock_host_set_emit_open(f->mh, 0);
  assert_int_equal(process_body(f, "{}"), DRAY_RETRY);
  assert_non_null(strstr(dray_mock_host_last_error(f->mh), "stopping"));
}

/* --- config errors ---------------------------------------------------------- */

static void test_unknown_key_is_refused_before_create(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "colour", "red");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  const char *why = dray_mock_host_last_error(f->mh);
  assert_non_null(strstr(why, "colour"));
  assert_non_null(strstr(why, "unknown"));
}

static void test_missing_required_header_is_refused(void **ts) {
  struct fixture *f = *ts;
  set(f, "value", "dock7");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  const char *why = dray_mock_host_last_error(f->mh);
  assert_non_null(strstr(why, "header"));
  assert_non_null(strstr(why, "required"));
}

static void test_mode_outside_the_enum_is_refused(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "mode", "random");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  assert_non_null(strstr(dray_mock_host_last_error(f->mh), "mode"));
}

static void test_max_body_bytes_out_of_range_is_refused(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "max_body_bytes", "0");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  assert_non_null(strstr(dray_mock_host_last_error(f->mh), "max_body_bytes"));
}

static void test_header_that_is_not_an_attribute_name_is_refused(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "Stamped-By");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  const char *why = dray_mock_host_last_error(f->mh);
  assert_non_null(strstr(why, "header \"Stamped-By\""));
  assert_non_null(strstr(why, "position 1"));
}

static void test_value_longer_than_256_characters_is_refused(void **ts) {
  struct fixture *f = *ts;
  char value[300];
  memset(value, 'v', sizeof value - 1);
  value[sizeof value - 1] = '\0';
  set(f, "header", "stampedby");
  set(f, "value", value);
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  assert_non_null(strstr(dray_mock_host_last_error(f->mh), "at most 256"));
}

static void test_core_attribute_cannot_be_overwritten(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "type");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  assert_non_null(strstr(dray_mock_host_last_error(f->mh), "core CloudEvents"));
}

/* --- the secret ------------------------------------------------------------- */

static void test_secret_never_appears_in_logs_or_errors(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "signing_key", key_a);
  create_started(f);
  assert_int_equal(process_body(f, "{\"order_id\":\"A-1\"}"), DRAY_OK);
  const char *log = dray_mock_host_log_text(f->mh);
  assert_non_null(strstr(log, "signed with signing_key")); /* it did log */
  assert_null(strstr(log, key_a));
  /* A schema getter never hands the secret out as a plain string. */
  assert_null(f->host->get_string(dray_mock_host_instance(f->mh), "signing_key"));
  /* Nor does the tag carry it. */
  assert_null(strstr(emitted_header(f, 0, "stampsig"), key_a));
}

static void test_malformed_secret_is_refused_without_quoting_it(void **ts) {
  struct fixture *f = *ts;
  static const char bad[] = "s3cr3t-passw0rd-that-is-not-hex!";
  set(f, "header", "stampedby");
  set(f, "signing_key", bad);
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), -1);
  f->state = NULL;
  const char *why = dray_mock_host_last_error(f->mh);
  assert_non_null(strstr(why, "signing_key"));
  assert_null(strstr(why, bad));
  assert_null(strstr(why, "s3cr3t"));
  assert_null(strstr(dray_mock_host_log_text(f->mh), "s3cr3t"));
}

/* A receiver's check of the tag, written independently of the plugin's
 * incremental SipHash: one-shot SipHash-2-4 over a contiguous buffer. */
static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static uint64_t le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static uint64_t reference_siphash24(const uint8_t key[16], const uint8_t *m,
                                    size_t len) {
  uint64_t k0 = le64(key), k1 = le64(key + 8);
  uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                   k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
  uint8_t last[8] = {0};
  size_t full = len / 8 * 8;
  memcpy(last, m + full, len - full);
  last[7] = (uint8_t)len;
  for (size_t off = 0; off <= full; off += 8) {
    uint64_t w = off < full ? le64(m + off) : le64(last);
    v[3] ^= w;
    for (int r = 0; r < 2; r++) {
      v[0] += v[1]; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32);
      v[2] += v[3]; v[3] = rotl(v[3], 16) ^ v[2];
      v[0] += v[3]; v[3] = rotl(v[3], 21) ^ v[0];
      v[2] += v[1]; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32);
    }
    v[0] ^= w;
  }
  v[2] ^= 0xff;
  for (int r = 0; r < 4; r++) {
    v[0] += v[1]; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32);
    v[2] += v[3]; v[3] = rotl(v[3], 16) ^ v[2];
    v[0] += v[3]; v[3] = rotl(v[3], 21) ^ v[0];
    v[2] += v[1]; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32);
  }
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void hex_key(const char *hex, uint8_t key[16]) {
  for (int i = 0; i < 16; i++) {
    unsigned b;
    assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
    key[i] = (uint8_t)b;
  }
}

/* The verifier itself against the SipHash paper's test vectors
 * (key 00..0f, message 00..len-1). */
static void test_reference_siphash_matches_the_published_vectors(void **ts) {
  (void)ts;
  uint8_t key[16], msg[16];
  hex_key(key_a, key);
  for (int i = 0; i < 16; i++) msg[i] = (uint8_t)i;
  assert_true(reference_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
  assert_true(reference_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

/* Verifies one emitted message's tag as a receiver holding the key would:
 * SipHash-2-4 over id NUL stamp NUL body. */
static int tag_verifies(const struct dray_host *h, const dray_msg *m,
                        const char *hex, const char *stamp_attr) {
  uint8_t key[16], buf[1024];
  hex_key(hex, key);
  const char *id = h->msg_header(m, "id");
  const char *stamp = h->msg_header(m, stamp_attr);
  size_t body_len;
  const char *body = h->msg_body(m, &body_len);
  size_t n = 0, id_len = strlen(id) + 1, stamp_len = strlen(stamp) + 1;
  assert_true(id_len + stamp_len + body_len <= sizeof buf);
  memcpy(buf + n, id, id_len);
  n += id_len;
  memcpy(buf + n, stamp, stamp_len);
  n += stamp_len;
  memcpy(buf + n, body, body_len);
  n += body_len;
  char want[17];
  snprintf(want, sizeof want, "%016llx",
           (unsigned long long)reference_siphash24(key, buf, n));
  return strcmp(want, h->msg_header(m, "stampsig")) == 0;
}

static void test_signature_verifies_with_the_key_and_not_without(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "signing_key", key_a);
  create_started(f);
  assert_int_equal(process_body(f, "{\"order_id\":\"S-1\",\"qty\":3}"), DRAY_OK);
  const dray_msg *m = dray_mock_host_emitted(f->mh, 0);
  const char *tag = f->host->msg_header(m, "stampsig");
  assert_non_null(tag);
  assert_int_equal(strlen(tag), 16);
  assert_int_equal(strspn(tag, "0123456789abcdef"), 16);
  assert_true(tag_verifies(f->host, m, key_a, "stampedby"));
  /* Another key, or a tampered body, does not verify. */
  assert_false(tag_verifies(f->host, m, key_b, "stampedby"));
  dray_msg *tampered = f->host->msg_clone(m);
  const char more[] = "{\"order_id\":\"S-1\",\"qty\":30}";
  assert_int_equal(f->host->msg_set_body(tampered, more, strlen(more)), 0);
  assert_false(tag_verifies(f->host, tampered, key_a, "stampedby"));
  f->host->msg_free(&tampered);
}

/* --- the codec (dray convert) ---------------------------------------------------- */

static void test_decode_stamps_each_line_and_names_the_bad_one(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "value", "conv");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), 0);
  const char input[] =
      "{\"specversion\":\"1.0\",\"id\":\"01J0000000000000000000000A\","
      "\"source\":\"dray://t/x\",\"type\":\"dray.order.created.v1\",\"data\":{}}\n"
      "\n"
      "{\"specversion\":\"1.0\",\"id\":\"01J0000000000000000000000B\","
      "\"source\":\"dray://t/x\",\"type\":\"dray.order.created.v1\",\"data\":{}}\n"
      "{\"specversion\":\"1.0\",\"id\":\n";
  dray_batch *out = dray_mock_batch_new();
  assert_int_equal(f->plugin->decode(f->state, input, sizeof input - 1,
                                     "orders.jsonl", out),
                   DRAY_REJECT);
  assert_int_equal(dray_mock_batch_count(out), 2);
  assert_string_equal(f->host->msg_header(dray_mock_batch_get(out, 1), "stampedby"),
                      "conv");
  assert_non_null(strstr(dray_mock_host_last_error(f->mh), "orders.jsonl:4:"));
  dray_mock_batch_destroy(&out);
}

static void test_encode_writes_the_stamped_event_as_one_line(void **ts) {
  struct fixture *f = *ts;
  set(f, "header", "stampedby");
  set(f, "value", "conv");
  assert_int_equal(dray_mock_host_create(f->mh, f->plugin, &f->state), 0);
  dray_msg *m = order(f, "{\"order_id\":\"E-1\"}");
  dray_buf *buf = dray_mock_buf_new();
  assert_int_equal(f->plugin->encode(f->state, m, buf), DRAY_OK);
  size_t len;
  const char *text = dray_mock_buf_data(buf, &len);
  assert_true(len > 0);
  assert_int_equal(text[len - 1], '\n');
  assert_ptr_equal(memchr(text, '\n', len), text + len - 1);
  assert_non_null(strstr(text, "\"stampedby\":\"conv\""));
  assert_non_null(strstr(text, "E-1"));
  /* encode renders the message it was given: same event, same id. */
  assert_non_null(strstr(text, f->host->msg_header(m, "id")));
  dray_mock_buf_destroy(&buf);
  f->host->msg_free(&m);
}

/* --- the built module --------------------------------------------------------------- */

/* The .so exports the entry and hides everything else, as the loader
 * expects (the symbol must come from this file, not a dependency). */
static void test_built_module_exports_only_the_entry(void **ts) {
  (void)ts;
  const char *path = getenv("PLUGIN_SO");
  if (!path) skip();
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) fail_msg("dlopen %s: %s", path, dlerror());
  dray_plugin_entry_fn entry;
  *(void **)&entry = dlsym(dl, DRAY_PLUGIN_ENTRY_SYMBOL);
  assert_non_null(entry);
  assert_null(dlsym(dl, "stamp_create"));
  const struct dray_plugin *desc = NULL;
  assert_int_equal(entry(DRAY_ABI_MAJOR, DRAY_ABI_MINOR, &desc), 0);
  assert_string_equal(desc->name, PLUGIN_NAME);
  assert_true(desc->struct_size >= DRAY_PLUGIN_SIZE_V1_0);
  assert_int_equal(desc->abi_major, DRAY_ABI_MAJOR);
  /* A host of another major is refused by the entry itself. */
  assert_true(entry(DRAY_ABI_MAJOR + 1, 0, &desc) < 0);
  /* Never dlclose a plugin the host may have used; here nothing was
   * created, but keep the habit. */
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T(test_routed_message_is_emitted_again_with_the_header),
      T(test_emitted_message_is_a_new_event_caused_by_the_original),
      T(test_value_defaults_to_the_instance_name),
      T(test_sequence_mode_numbers_each_message),
      T(test_time_mode_stamps_an_rfc3339_utc_time),
      T(test_oversized_body_is_rejected_with_the_limit_named),
      T(test_downstream_backpressure_makes_process_retry),
      T(test_closed_emit_window_is_retry_not_fatal),
      T(test_unknown_key_is_refused_before_create),
      T(test_missing_required_header_is_refused),
      T(test_mode_outside_the_enum_is_refused),
      T(test_max_body_bytes_out_of_range_is_refused),
      T(test_header_that_is_not_an_attribute_name_is_refused),
      T(test_core_attribute_cannot_be_overwritten),
      T(test_value_longer_than_256_characters_is_refused),
      T(test_secret_never_appears_in_logs_or_errors),
      T(test_malformed_secret_is_refused_without_quoting_it),
      T(test_reference_siphash_matches_the_published_vectors),
      T(test_signature_verifies_with_the_key_and_not_without),
      T(test_decode_stamps_each_line_and_names_the_bad_one),
      T(test_encode_writes_the_stamped_event_as_one_line),
      T(test_built_module_exports_only_the_entry),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
