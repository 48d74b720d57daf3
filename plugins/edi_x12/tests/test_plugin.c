/* test_plugin.c - the plugin through the SDK's mock host: descriptor and
 * config, decode/encode with envelope headers, durable duplicate and
 * control-number state, the file transport. */
#include "x12_test_util.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dray-sdk/mock_host.h>
#include <dray/dray.h>

const struct dray_plugin *edi_x12_descriptor(void);

static const char *doc850 =
    "BEG*00*SA*PO77**20240514~\nPO1*1*10*EA*9.25**VP*A1~\nCTT*1~\n";

struct env {
  dray_mock_host *mh;
  const struct dray_host *h;
  const struct dray_plugin *p;
  void *state;
  char dir[256];
};

static void env_open(struct env *e, const char *const *config) {
  memset(e, 0, sizeof(*e));
  e->mh = dray_mock_host_new("x12_test");
  assert_non_null(e->mh);
  e->h = dray_mock_host_table(e->mh);
  e->p = edi_x12_descriptor();
  for (int i = 0; config && config[i]; i += 2)
    assert_int_equal(dray_mock_host_set_config(e->mh, config[i], config[i + 1]), 0);
  if (dray_mock_host_create(e->mh, e->p, &e->state) != 0)
    fail_msg("create: %s", dray_mock_host_last_error(e->mh));
}

static void env_close(struct env *e) {
  e->p->destroy(e->state);
  dray_mock_host_destroy(&e->mh);
}

static void test_shared_object_exports_only_the_entry_point(void **s) {
  (void)s;
  const char *so = getenv("EDI_X12_SO");
  if (!so) skip();
  void *lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (!lib) fail_msg("dlopen %s: %s", so, dlerror());
  dray_plugin_entry_fn entry = (dray_plugin_entry_fn)(uintptr_t)dlsym(lib, DRAY_PLUGIN_ENTRY_SYMBOL);
  assert_non_null(entry);
  assert_null(dlsym(lib, "x12_tok_next"));
  assert_null(dlsym(lib, "edi_x12_receive_payload"));
  const struct dray_plugin *p = NULL;
  assert_int_equal(entry(DRAY_ABI_MAJOR, DRAY_ABI_MINOR, &p), 0);
  assert_string_equal(p->name, "edi_x12");
  assert_int_equal(p->kinds, DRAY_KIND_SOURCE | DRAY_KIND_DESTINATION | DRAY_KIND_CODEC);
  assert_true(entry(DRAY_ABI_MAJOR + 1, 0, &p) < 0);
  dlclose(lib);
}

static void test_key_passphrase_is_a_secret_parameter(void **s) {
  (void)s;
  const struct dray_plugin *p = edi_x12_descriptor();
  int found = 0;
  for (size_t i = 0; i < p->param_count; i++)
    if (!strcmp(p->params[i].name, "as2_key_passphrase")) {
      found = 1;
      assert_true(p->params[i].flags & DRAY_PARAM_SECRET);
    }
  assert_true(found);
}

static void test_equal_delimiters_are_refused_at_create(void **s) {
  (void)s;
  dray_mock_host *mh = dray_mock_host_new("bad");
  dray_mock_host_set_config(mh, "element_separator", "~");
  void *state = NULL;
  assert_int_not_equal(dray_mock_host_create(mh, edi_x12_descriptor(), &state), 0);
  assert_non_null(strstr(dray_mock_host_last_error(mh), "must all differ"));
  dray_mock_host_destroy(&mh);
}

static void test_decode_sets_envelope_headers_and_emits_the_ack(void **s) {
  (void)s;
  struct env e;
  env_open(&e, NULL);
  char *doc = test_doc("000000301", "PO", "004010", "850", doc850);
  dray_batch *b = dray_mock_batch_new();
  assert_int_equal(e.p->decode(e.state, doc, strlen(doc), "po.edi", b), DRAY_OK);
  assert_int_equal(dray_mock_batch_count(b), 2);
  const dray_msg *m = dray_mock_batch_get(b, 0);
  assert_string_equal(e.h->msg_type(m), "dray.order.created.v1");
  assert_string_equal(e.h->msg_header(m, "subject"), "order/PO77");
  assert_string_equal(e.h->msg_header(m, "partitionkey"), "PO77");
  assert_string_equal(e.h->msg_header(m, "correlationid"), "PO77");
  assert_string_equal(e.h->msg_header(m, "idempotencykey"), "x12:SENDER:850:000000301-77-0001");
  const dray_msg *ack = dray_mock_batch_get(b, 1);
  assert_string_equal(e.h->msg_type(ack), "dray.ack.sent.v1");
  size_t len;
  const char *body = e.h->msg_body(ack, &len);
  assert_non_null(strstr(body, "AK5*A~"));
  assert_int_equal(dray_mock_host_counter(e.mh, "sets"), 1);
  dray_mock_batch_destroy(&b);
  free(doc);
  env_close(&e);
}

static void test_same_interchange_twice_is_a_duplicate_ta1_025(void **s) {
  (void)s;
  struct env e;
  env_open(&e, NULL);
  char *doc = test_doc("000000302", "PO", "004010", "850", doc850);
  dray_batch *b = dray_mock_batch_new();
  assert_int_equal(e.p->decode(e.state, doc, strlen(doc), "a.edi", b), DRAY_OK);
  dray_mock_batch_destroy(&b);
  b = dray_mock_batch_new();
  assert_int_equal(e.p->decode(e.state, doc, strlen(doc), "b.edi", b), DRAY_REJECT);
  const char *err = dray_mock_host_last_error(e.mh);
  assert_non_null(strstr(err, "b.edi:1:"));
  assert_non_null(strstr(err, "TA1 025"));
  /* only the TA1 ack, no business message */
  assert_int_equal(dray_mock_batch_count(b), 1);
  assert_string_equal(e.h->msg_type(dray_mock_batch_get(b, 0)), "dray.ack.sent.v1");
  dray_mock_batch_destroy(&b);
  free(doc);
  env_close(&e);
}

static void test_encode_uses_increasing_per_partner_control_numbers(void **s) {
  (void)s;
  const char *cfg[] = {"partner_id", "ACME", "our_id", "DRAY", "segment_newline", "false", NULL};
  struct env e;
  env_open(&e, cfg);
  const char *body = "{\"id\":\"S1\",\"tender\":{\"response\":\"accepted\"},\"carrier\":{\"scac\":\"ABCD\"}}";
  dray_msg *m = e.h->msg_new(dray_mock_host_instance(e.mh), "dray.shipment.tender_response.v1",
                             body, strlen(body));
  dray_buf *out = dray_mock_buf_new();
  assert_int_equal(e.p->encode(e.state, m, out), DRAY_OK);
  size_t len;
  const char *x = dray_mock_buf_data(out, &len);
  assert_non_null(strstr(x, "*ZZ*DRAY           *ZZ*ACME           *"));
  assert_non_null(strstr(x, "*000000001*0*P*>~GS*GF*DRAY*ACME*"));
  dray_mock_buf_reset(out);
  assert_int_equal(e.p->encode(e.state, m, out), DRAY_OK);
  x = dray_mock_buf_data(out, &len);
  assert_non_null(strstr(x, "*000000002*0*P*>~"));
  assert_non_null(strstr(x, "ST*990*0002~"));
  /* an unmapped type is refused with a reason */
  dray_msg *bad = e.h->msg_new(dray_mock_host_instance(e.mh), "dray.order.cancelled.v1", "{}", 2);
  assert_int_equal(e.p->encode(e.state, bad, out), DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(e.mh), "no X12 mapping"));
  e.h->msg_free(&bad);
  e.h->msg_free(&m);
  dray_mock_buf_destroy(&out);
  env_close(&e);
}

static int count_files(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *de;
  if (!d) return -1;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.' && (!suffix || strstr(de->d_name, suffix))) n++;
  closedir(d);
  return n;
}

static void write_file(const char *dir, const char *name, const char *text) {
  char p[512];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
}

static void test_file_transport_claims_decodes_and_files_away(void **s) {
  (void)s;
  char base[] = "/tmp/edi_x12_test_XXXXXX";
  assert_non_null(mkdtemp(base));
  char in[300], out[300], sub[400];
  snprintf(in, sizeof(in), "%s/in", base);
  snprintf(out, sizeof(out), "%s/out", base);
  const char *cfg[] = {"transport", "file", "inbound_dir", in, "outbound_dir", out, NULL};
  struct env e;
  env_open(&e, cfg);
  char *good = test_doc("000000401", "PO", "004010", "850", doc850);
  char *bad = test_doc("000000402", "PO", "004010", "850", "BEG*00*SA***20240514~\n");
  write_file(in, "a-good.edi", good);
  write_file(in, "b-bad.edi", bad);
  write_file(in, ".partial", "ISA");
  int worked = 0;
  assert_int_equal(e.p->poll(e.state, &worked), DRAY_OK);
  assert_true(worked);
  assert_int_equal(e.p->poll(e.state, &worked), DRAY_OK);
  assert_true(worked);
  assert_int_equal(e.p->poll(e.state, &worked), DRAY_OK);
  assert_false(worked); /* .partial is never taken */
  /* order + 2 acks emitted (the bad set emits only its rejecting 997) */
  assert_int_equal(dray_mock_host_emitted_count(e.mh), 3);
  assert_string_equal(e.h->msg_type(dray_mock_host_emitted(e.mh, 0)), "dray.order.created.v1");
  snprintf(sub, sizeof(sub), "%s/done", in);
  assert_int_equal(count_files(sub, "a-good.edi"), 1);
  snprintf(sub, sizeof(sub), "%s/failed", in);
  assert_int_equal(count_files(sub, "b-bad.edi"), 2); /* file + .error */
  char ep[600];
  snprintf(ep, sizeof(ep), "%s/failed/b-bad.edi.error", in);
  FILE *f = fopen(ep, "r");
  char reason[512] = "";
  assert_non_null(fgets(reason, sizeof(reason), f));
  fclose(f);
  assert_non_null(strstr(reason, "b-bad.edi:4:"));
  assert_non_null(strstr(reason, "BEG03"));
  snprintf(sub, sizeof(sub), "%s/processing", in);
  assert_int_equal(count_files(sub, NULL), 0);
  assert_int_equal(count_files(out, "ack-"), 2);
  env_close(&e);
  free(good);
  free(bad);
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

static void test_file_transport_creates_missing_nested_folders(void **s) {
  (void)s;
  char base[] = "/tmp/edi_x12_test_XXXXXX";
  assert_non_null(mkdtemp(base));
  char in[300], out[300], probe[400];
  snprintf(in, sizeof(in), "%s/partners/acme/in", base);
  snprintf(out, sizeof(out), "%s/partners/acme/out", base);
  const char *cfg[] = {"transport", "file", "inbound_dir", in, "outbound_dir", out, NULL};
  struct env e;
  env_open(&e, cfg);
  struct stat st;
  snprintf(probe, sizeof(probe), "%s/processing", in);
  assert_int_equal(stat(probe, &st), 0);
  assert_int_equal(stat(out, &st), 0);
  env_close(&e);
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
  assert_int_equal(system(cmd), 0);
}

static void test_process_writes_the_document_atomically(void **s) {
  (void)s;
  char base[] = "/tmp/edi_x12_test_XXXXXX";
  assert_non_null(mkdtemp(base));
  const char *cfg[] = {"transport", "file", "outbound_dir", base, "partner_id", "ACME", NULL};
  struct env e;
  env_open(&e, cfg);
  const char *body = "{\"id\":\"S1\",\"tender\":{\"response\":\"declined\"},\"carrier\":{\"scac\":\"ABCD\"}}";
  dray_msg *m = e.h->msg_new(dray_mock_host_instance(e.mh), "dray.shipment.tender_response.v1",
                             body, strlen(body));
  assert_int_equal(e.p->process(e.state, m), DRAY_OK);
  char p[400];
  snprintf(p, sizeof(p), "%s/990-ACME-000000001.x12", base);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_true(st.st_size > 150);
  assert_int_equal(count_files(base, NULL), 1); /* no temp file left */
  e.h->msg_free(&m);
  env_close(&e);
  char cmd[400];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
  assert_int_equal(system(cmd), 0);
}

static void test_wrong_partner_is_refused_with_ta1_006(void **s) {
  (void)s;
  const char *cfg[] = {"partner_id", "ACME", NULL};
  struct env e;
  env_open(&e, cfg);
  char *doc = test_doc("000000501", "PO", "004010", "850", doc850);
  dray_batch *b = dray_mock_batch_new();
  assert_int_equal(e.p->decode(e.state, doc, strlen(doc), "x.edi", b), DRAY_REJECT);
  assert_non_null(strstr(dray_mock_host_last_error(e.mh), "TA1 006"));
  dray_mock_batch_destroy(&b);
  free(doc);
  env_close(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shared_object_exports_only_the_entry_point),
      cmocka_unit_test(test_key_passphrase_is_a_secret_parameter),
      cmocka_unit_test(test_equal_delimiters_are_refused_at_create),
      cmocka_unit_test(test_decode_sets_envelope_headers_and_emits_the_ack),
      cmocka_unit_test(test_same_interchange_twice_is_a_duplicate_ta1_025),
      cmocka_unit_test(test_encode_uses_increasing_per_partner_control_numbers),
      cmocka_unit_test(test_file_transport_claims_decodes_and_files_away),
      cmocka_unit_test(test_process_writes_the_document_atomically),
      cmocka_unit_test(test_wrong_partner_is_refused_with_ta1_006),
      cmocka_unit_test(test_file_transport_creates_missing_nested_folders),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
