/* fuzz_decode.c - libFuzzer target for the plugin's decode() (the codec is
 * the part that parses untrusted bytes). Build with
 *   CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false
 *   ninja -C build-fuzz && ./build-fuzz/fuzz_decode -max_total_time=60 fuzz/corpus
 * Every crash it finds becomes a unit test in tests/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <dray-sdk/mock_host.h>
#include <dray/dray.h>

int dray_plugin_entry(uint32_t host_major, uint32_t host_minor,
                      const struct dray_plugin **out);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct dray_plugin *plugin;
static dray_mock_host *mh;
static void *state;

/* libFuzzer leaves through exit(): remove the mock host's temporary data
 * directory then. */
static void cleanup(void) {
  if (state) plugin->destroy(state);
  state = NULL;
  dray_mock_host_destroy(&mh);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  if (dray_plugin_entry(DRAY_ABI_MAJOR, DRAY_ABI_MINOR, &plugin) != 0) abort();
  mh = dray_mock_host_new("fuzz");
  if (!mh) abort();
  dray_mock_host_set_config(mh, "header", "stampedby");
  dray_mock_host_set_config(mh, "max_body_bytes", "4096");
  dray_mock_host_set_config(mh, "signing_key",
                            "000102030405060708090a0b0c0d0e0f");
  if (dray_mock_host_create(mh, plugin, &state) != 0) abort();
  atexit(cleanup);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dray_batch *out = dray_mock_batch_new();
  if (!out) return 0;
  dray_status st = plugin->decode(state, data, size, "fuzz.jsonl", out);
  /* Whatever decode returned, each message it added must be whole: read
   * it back through the host, as the runtime would. */
  const struct dray_host *h = dray_mock_host_table(mh);
  for (size_t i = 0; i < dray_mock_batch_count(out); i++) {
    const dray_msg *m = dray_mock_batch_get(out, i);
    if (!h->msg_header(m, "stampedby") || !h->msg_header(m, "stampsig"))
      abort(); /* an accepted message must carry the stamp */
  }
  (void)st;
  dray_mock_batch_destroy(&out);
  dray_mock_host_clear_error(mh);
  return 0;
}
