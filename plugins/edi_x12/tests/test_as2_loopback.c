/* test_as2_loopback.c - two edi_x12 instances exchange an AS2 message and
 * its MDN over HTTP on 127.0.0.1 (ephemeral port): a small libmicrohttpd
 * server hands each request to the right instance's mock host, as the
 * core's listener would. Sync MDN (checked by the sender: signature,
 * Message-ID, MIC) and async MDN (POSTed back to the sender's route), in
 * both directions, plain and with compression in every layering (inside or
 * outside the signature, with or without encryption, unsigned). */
#include "x12_test_util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <unistd.h>

#include <dray-sdk/mock_host.h>
#include <dray/dray.h>

const struct dray_plugin *edi_x12_descriptor(void);

static char dir[64];
static dray_mock_host *recv_mh, *send_mh;
/* one exchange per mock host at a time (the mock is not thread-safe);
 * separate locks so the receiver's async MDN can reach the sender */
static pthread_mutex_t recv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;

struct upload {
  char *data;
  size_t len;
};

struct hdrs {
  char *lines[40];
  int n;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *k,
                               const char *v) {
  (void)kind;
  struct hdrs *h = cls;
  if (h->n < 39) {
    size_t n = strlen(k) + strlen(v) + 3;
    h->lines[h->n] = malloc(n);
    snprintf(h->lines[h->n++], n, "%s: %s", k, v);
  }
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *size, void **con_cls) {
  (void)cls;
  (void)version;
  struct upload *u = *con_cls;
  if (!u) {
    *con_cls = calloc(1, sizeof(*u));
    return MHD_YES;
  }
  if (*size) {
    u->data = realloc(u->data, u->len + *size + 1);
    memcpy(u->data + u->len, data, *size);
    u->len += *size;
    *size = 0;
    return MHD_YES;
  }
  struct hdrs h = {{0}, 0};
  MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &h);
  h.lines[h.n] = NULL;
  int to_recv = strstr(url, "/as2/recv") != NULL;
  dray_mock_host *mh = to_recv ? recv_mh : send_mh;
  pthread_mutex_t *lock = to_recv ? &recv_lock : &send_lock;
  int status = 404;
  const char *body = "";
  size_t blen = 0;
  char ct[512] = "text/plain";
  const char *hv[5][2] = {{0}};
  pthread_mutex_lock(lock);
  if (dray_mock_host_http_call(mh, method, url, "", (const char *const *)h.lines,
                               u->data ? u->data : "", u->len, &status, &body, &blen) == 0) {
    const char *v = dray_mock_host_http_response_header(mh, "Content-Type");
    if (v) snprintf(ct, sizeof(ct), "%s", v);
    static const char *names[] = {"AS2-From", "AS2-To", "Message-ID", "AS2-Version"};
    for (int i = 0; i < 4; i++) {
      hv[i][0] = names[i];
      hv[i][1] = dray_mock_host_http_response_header(mh, names[i]);
    }
  }
  struct MHD_Response *r =
      MHD_create_response_from_buffer(blen, (void *)body, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", ct);
  for (int i = 0; i < 4; i++)
    if (hv[i][0] && hv[i][1]) MHD_add_response_header(r, hv[i][0], hv[i][1]);
  pthread_mutex_unlock(lock);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  for (int i = 0; i < h.n; i++) free(h.lines[i]);
  free(u->data);
  free(u);
  *con_cls = NULL;
  return ret;
}

static int sh(const char *cmd) { return system(cmd); }

static void make_instance(dray_mock_host **mh, void **state, const char *name,
                          const char *from, const char *to, const char *self,
                          const char *peer, const char *url, const char *mdn,
                          const char *mdn_url, const char *const *extra) {
  char cert[128], key[128], partner[128], path[64];
  snprintf(cert, sizeof(cert), "%s/%s.pem", dir, self);
  snprintf(key, sizeof(key), "%s/%s.key", dir, self);
  snprintf(partner, sizeof(partner), "%s/%s.pem", dir, peer);
  snprintf(path, sizeof(path), "/as2/%s", name);
  *mh = dray_mock_host_new(name);
  const char *cfg[] = {"transport", "as2", "as2_from", from, "as2_to", to,
                       "as2_cert_file", cert, "as2_key_file", key,
                       "as2_partner_cert_file", partner, "as2_path", path,
                       "as2_mdn", mdn, "ack", "none", "ta1", "false", NULL};
  for (int i = 0; cfg[i]; i += 2) dray_mock_host_set_config(*mh, cfg[i], cfg[i + 1]);
  if (url) dray_mock_host_set_config(*mh, "as2_url", url);
  if (mdn_url) dray_mock_host_set_config(*mh, "as2_mdn_url", mdn_url);
  for (int i = 0; extra && extra[i]; i += 2) dray_mock_host_set_config(*mh, extra[i], extra[i + 1]);
  if (dray_mock_host_create(*mh, edi_x12_descriptor(), state) != 0)
    fail_msg("create %s: %s", name, dray_mock_host_last_error(*mh));
}

/* Sends a 990 from `from` to `to` (process() on from_state) and checks
 * that `to` decoded it and `from` got an accepted, signed MDN (the sender
 * checks the MIC: a MIC computed differently on each side fails the send).
 * acks_before: MDN acks `from` had already emitted. */
static void send_one(dray_mock_host *from, void *from_state, pthread_mutex_t *from_lock,
                     dray_mock_host *to, pthread_mutex_t *to_lock, size_t acks_before,
                     size_t docs_before, const char *layers) {
  const struct dray_host *h = dray_mock_host_table(from);
  const char *body = "{\"id\":\"SHIP42\",\"tender\":{\"response\":\"accepted\"},\"carrier\":{\"scac\":\"ABCD\"}}";
  dray_msg *m = h->msg_new(dray_mock_host_instance(from), "dray.shipment.tender_response.v1",
                           body, strlen(body));
  dray_status st = edi_x12_descriptor()->process(from_state, m);
  if (st != DRAY_OK) fail_msg("send: %s", dray_mock_host_last_error(from));
  h->msg_free(&m);
  /* the receiver decoded the 990 */
  pthread_mutex_lock(to_lock);
  assert_int_equal(dray_mock_host_emitted_count(to), docs_before + 1);
  const struct dray_host *rh = dray_mock_host_table(to);
  assert_string_equal(rh->msg_type(dray_mock_host_emitted(to, docs_before)),
                      "dray.shipment.tender_response.v1");
  /* peeled in the order they were put on (the receiver logs them) */
  char want[120];
  snprintf(want, sizeof(want), "layers %s, MIC", layers);
  const char *log = dray_mock_host_log_text(to);
  if (!strstr(log, want)) fail_msg("expected %s in the receiver's log:\n%s", want, log);
  pthread_mutex_unlock(to_lock);
  /* the sender saw the MDN: an accepted transport ack */
  for (int i = 0; i < 200; i++) {
    pthread_mutex_lock(from_lock);
    size_t n = dray_mock_host_emitted_count(from);
    pthread_mutex_unlock(from_lock);
    if (n > acks_before) break;
    usleep(20000);
  }
  pthread_mutex_lock(from_lock);
  assert_int_equal(dray_mock_host_emitted_count(from), acks_before + 1);
  size_t len;
  const char *ack = h->msg_body(dray_mock_host_emitted(from, acks_before), &len);
  assert_non_null(strstr(ack, "\"protocol\":\"as2_mdn\""));
  if (!strstr(ack, "\"status\":\"accepted\"")) fail_msg("MDN: %s", ack);
  assert_non_null(strstr(ack, "\"signed\":true"));
  pthread_mutex_unlock(from_lock);
}

/* Both instances use `layering` (config pairs) for what they send; a
 * message goes A -> B with mdn_mode, then B -> A with a sync MDN. */
static void exchange_with(const char *mdn_mode, const char *const *layering,
                          const char *layers) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
      on_request, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
  assert_non_null(d);
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  char url[128], mdn_url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%u/as2/recv", info->port);
  snprintf(mdn_url, sizeof(mdn_url), "http://127.0.0.1:%u/as2/send", info->port);
  void *recv_state, *send_state;
  make_instance(&recv_mh, &recv_state, "recv", "DRAYB", "DRAYA", "b", "a", mdn_url, "sync",
                NULL, layering);
  make_instance(&send_mh, &send_state, "send", "DRAYA", "DRAYB", "a", "b", url, mdn_mode,
                mdn_url, layering);
  send_one(send_mh, send_state, &send_lock, recv_mh, &recv_lock, 0, 0, layers);
  /* and back: the sender's ack and now a decoded 990 */
  send_one(recv_mh, recv_state, &recv_lock, send_mh, &send_lock, 1, 1, layers);
  MHD_stop_daemon(d);
  edi_x12_descriptor()->destroy(send_state);
  edi_x12_descriptor()->destroy(recv_state);
  dray_mock_host_destroy(&send_mh);
  dray_mock_host_destroy(&recv_mh);
}

static void exchange(const char *mdn_mode) { exchange_with(mdn_mode, NULL, "encrypted>signed"); }

static void test_two_instances_exchange_a_message_with_a_sync_mdn(void **s) {
  (void)s;
  if (!dir[0]) skip();
  exchange("sync");
}

static void test_two_instances_exchange_a_message_with_an_async_mdn(void **s) {
  (void)s;
  if (!dir[0]) skip();
  exchange("async");
}

/* compression in every layering, both ways; the MDN's MIC must match
 * the one the sender computed (RFC 4130 7.3.1 / RFC 5402) */
static void test_compressed_before_signing_and_encrypted_both_ways(void **s) {
  (void)s;
  if (!dir[0]) skip();
  const char *const l[] = {"as2_compress", "true", NULL};
  exchange_with("sync", l, "encrypted>signed>compressed");
}

static void test_compressed_after_signing_and_encrypted_both_ways(void **s) {
  (void)s;
  if (!dir[0]) skip();
  const char *const l[] = {"as2_compress", "true", "as2_compress_order", "after_sign", NULL};
  exchange_with("sync", l, "encrypted>compressed>signed");
}

static void test_compressed_before_signing_unencrypted_with_an_async_mdn(void **s) {
  (void)s;
  if (!dir[0]) skip();
  const char *const l[] = {"as2_compress", "true", "as2_encrypt", "false", NULL};
  exchange_with("async", l, "signed>compressed");
}

static void test_compressed_after_signing_unencrypted_with_an_async_mdn(void **s) {
  (void)s;
  if (!dir[0]) skip();
  const char *const l[] = {"as2_compress", "true", "as2_compress_order", "after_sign",
                           "as2_encrypt", "false", NULL};
  exchange_with("async", l, "compressed>signed");
}

static void test_compressed_and_encrypted_unsigned_both_ways(void **s) {
  (void)s;
  if (!dir[0]) skip();
  const char *const l[] = {"as2_compress", "true", "as2_sign", "false",
                           "as2_require_signed", "false", NULL};
  exchange_with("sync", l, "encrypted>compressed");
}

static void test_compressed_only_unsigned_unencrypted_both_ways(void **s) {
  (void)s;
  if (!dir[0]) skip();
  const char *const l[] = {"as2_compress", "true", "as2_sign", "false", "as2_encrypt", "false",
                           "as2_require_signed", "false", NULL};
  exchange_with("sync", l, "compressed");
}

static int setup(void **state) {
  (void)state;
  if (system("openssl version >/dev/null 2>&1") != 0) return 0;
  snprintf(dir, sizeof(dir), "/tmp/edi_x12_as2lo_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  char cmd[512];
  for (int i = 0; i < 2; i++) {
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout %c.key -out %c.pem "
             "-days 30 -subj /CN=%c >/dev/null 2>&1",
             dir, "ab"[i], "ab"[i], "ab"[i]);
    if (sh(cmd) != 0) return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  if (dir[0]) {
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (sh(cmd) != 0) return -1;
  }
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_instances_exchange_a_message_with_a_sync_mdn),
      cmocka_unit_test(test_two_instances_exchange_a_message_with_an_async_mdn),
      cmocka_unit_test(test_compressed_before_signing_and_encrypted_both_ways),
      cmocka_unit_test(test_compressed_after_signing_and_encrypted_both_ways),
      cmocka_unit_test(test_compressed_before_signing_unencrypted_with_an_async_mdn),
      cmocka_unit_test(test_compressed_after_signing_unencrypted_with_an_async_mdn),
      cmocka_unit_test(test_compressed_and_encrypted_unsigned_both_ways),
      cmocka_unit_test(test_compressed_only_unsigned_unencrypted_both_ways),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
