/* test_as2_zip.c - AS2 compression (CMS CompressedData, RFC 3274/5402):
 * our codec round-trips; `openssl asn1parse` reads what we write and shows
 * the right OIDs, and Python's zlib inflates the OCTET STRING it locates;
 * CompressedData made without our encoder (Python zlib + hand-assembled
 * DER, BER with indefinite lengths and segments, `openssl asn1parse
 * -genconf`) decodes; truncated, garbled and oversized input fails with a
 * clear error; and the receiver answers such input with a
 * decompression-failed MDN, accepts compressed messages signed by
 * `openssl cms` inside or outside the compression, with the RFC 5402 MIC.
 * Tests needing openssl or python3 skip when they are missing. */
#include "x12_test_util.h"
#include "as2_test_util.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <dray-sdk/mock_host.h>
#include <dray/dray.h>

#include "as2_cms_zlib.h"
#include "as2_mdn.h"
#include "as2_mime.h"
#include "as2_smime.h"

const struct dray_plugin *edi_x12_descriptor(void);

static char dir[64];
static int have_openssl, have_python;

static char *slurp(const char *name, size_t *len) {
  char p[256];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  FILE *f = fopen(p, "rb");
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

static void put(const char *name, const void *data, size_t len) {
  char p[256];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
}

/* Runs tests/gen_cms_zlib.py MODE SRC OUT in dir. */
static void gen(const char *mode, const char *src, const char *out) {
  const char *py = getenv("AS2_ZIP_GEN");
  assert_non_null(py);
  assert_int_equal(sh("cd %s && python3 '%s' %s %s %s", dir, py, mode, src, out), 0);
}

/* Deterministic content: X12-like text or noise. Caller frees. */
static unsigned char *content(size_t n, int noise) {
  unsigned char *c = malloc(n ? n : 1);
  uint32_t x = 12345;
  static const char text[] = "ISA*00*          *00*SEG*ELEMENT*42~\r\n";
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    c[i] = noise ? (unsigned char)(x >> 16) : (unsigned char)text[i % (sizeof(text) - 1)];
  }
  return c;
}

static int setup(void **state) {
  (void)state;
  have_openssl = system("openssl version >/dev/null 2>&1") == 0;
  have_python = system("python3 -c 'import zlib' >/dev/null 2>&1") == 0 && getenv("AS2_ZIP_GEN");
  snprintf(dir, sizeof(dir), "/tmp/edi_x12_as2zip_XXXXXX");
  if (!mkdtemp(dir)) return -1;
  return have_openssl ? as2_test_identities(dir, "dray partner") : 0;
}

static int teardown(void **state) {
  (void)state;
  if (dir[0] && !getenv("KEEP")) sh("rm -rf '%s'", dir);
  return 0;
}

/* ------------------------------------------------------------------ */
/* the codec                                                            */

static void test_compressed_data_round_trips_empty_text_noise_and_large_content(void **s) {
  (void)s;
  struct {
    size_t n;
    int noise;
  } cases[] = {{0, 0}, {1, 0}, {1000, 0}, {300000, 1}, {3 << 20, 0}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    unsigned char *c = content(cases[i].n, cases[i].noise), *der, *back;
    size_t dl, bl;
    char err[300];
    if (as2_cms_zlib_compress(c, cases[i].n, &der, &dl, err, sizeof(err)) != 0) fail_msg("%s", err);
    if (!cases[i].noise && cases[i].n > 1000) assert_true(dl < cases[i].n / 10);
    if (as2_cms_zlib_uncompress(der, dl, AS2_CMS_ZLIB_DEFAULT_MAX, &back, &bl, err,
                                sizeof(err)) != 0)
      fail_msg("%zu bytes: %s", cases[i].n, err);
    assert_int_equal(bl, cases[i].n);
    if (cases[i].n) assert_memory_equal(back, c, cases[i].n);
    free(c);
    free(der);
    free(back);
  }
}

static void test_openssl_asn1parse_reads_our_der_with_the_right_oids(void **s) {
  (void)s;
  if (!have_openssl || !have_python) skip();
  unsigned char *c = content(5000, 0), *der;
  size_t dl;
  char err[300];
  assert_int_equal(as2_cms_zlib_compress(c, 5000, &der, &dl, err, sizeof(err)), 0);
  put("ours.der", der, dl);
  put("ours.txt", c, 5000);
  /* -strictpem is irrelevant for DER; asn1parse fails on bad DER lengths */
  assert_int_equal(sh("cd %s && openssl asn1parse -inform DER -in ours.der > ours.asn1", dir), 0);
  size_t al;
  char *asn1 = slurp("ours.asn1", &al);
  assert_non_null(asn1);
  const char *want[] = {":id-smime-ct-compressedData", "cont [ 0 ]", "INTEGER           :00",
                        ":zlib compression", ":pkcs7-data", "prim: OCTET STRING"};
  for (size_t i = 0; i < 6; i++)
    if (!strstr(asn1, want[i])) fail_msg("asn1parse output lacks %s:\n%.600s", want[i], asn1);
  /* in this order, and no parameters after the zlib OID */
  assert_true(strstr(asn1, ":id-smime-ct-compressedData") < strstr(asn1, ":zlib compression"));
  assert_true(strstr(asn1, ":zlib compression") < strstr(asn1, ":pkcs7-data"));
  assert_null(strstr(asn1, "NULL"));
  /* Python inflates the OCTET STRING at the offset asn1parse reports */
  assert_int_equal(sh("cd %s && python3 -c \"import re,zlib;t=open('ours.asn1').read();"
                      "m=re.search(r'(\\d+):d=\\d+ +hl=(\\d+) l= *(\\d+) prim: OCTET STRING',t);"
                      "o,h,l=map(int,m.groups());d=open('ours.der','rb').read();"
                      "assert zlib.decompress(d[o+h:o+h+l])==open('ours.txt','rb').read()\"",
                      dir),
                   0);
  free(asn1);
  free(c);
  free(der);
}

static void decode_file_and_compare(const char *name, const unsigned char *want, size_t n) {
  size_t len, bl;
  char *ber = slurp(name, &len);
  unsigned char *back;
  char err[300];
  assert_non_null(ber);
  if (as2_cms_zlib_uncompress((unsigned char *)ber, len, AS2_CMS_ZLIB_DEFAULT_MAX, &back, &bl,
                              err, sizeof(err)) != 0)
    fail_msg("%s: %s", name, err);
  assert_int_equal(bl, n);
  assert_memory_equal(back, want, n);
  free(back);
  free(ber);
}

static void test_compressed_data_from_python_zlib_and_hand_assembled_der_decodes(void **s) {
  (void)s;
  if (!have_python) skip();
  unsigned char *c = content(20000, 0);
  put("py.txt", c, 20000);
  gen("der", "py.txt", "py.der");
  gen("der-null", "py.txt", "py_null.der");
  decode_file_and_compare("py.der", c, 20000);
  decode_file_and_compare("py_null.der", c, 20000); /* NULL parameters are accepted */
  free(c);
}

static void test_ber_with_indefinite_lengths_and_segmented_octet_strings_decodes(void **s) {
  (void)s;
  if (!have_python) skip();
  unsigned char *c = content(4000, 1); /* noise: many 100-byte segments */
  put("ber.txt", c, 4000);
  gen("ber", "ber.txt", "py.ber");
  size_t len;
  char *ber = slurp("py.ber", &len);
  assert_int_equal((unsigned char)ber[1], 0x80); /* really indefinite */
  free(ber);
  decode_file_and_compare("py.ber", c, 4000);
  free(c);
}

static void test_compressed_data_from_openssl_genconf_decodes(void **s) {
  (void)s;
  if (!have_openssl) skip();
  const char *text = "ISA*00*          *00*          *ZZ*GENCONF~\r\nIEA*1*000000001~\r\n";
  uLongf zl = compressBound(strlen(text));
  unsigned char z[512];
  zl = sizeof(z);
  assert_int_equal(compress2(z, &zl, (const Bytef *)text, strlen(text), 9), Z_OK);
  char hex[1100];
  for (uLongf i = 0; i < zl; i++) snprintf(hex + 2 * i, 3, "%02X", z[i]);
  char conf[2000];
  int n = snprintf(conf, sizeof(conf),
                   "asn1 = SEQUENCE:ci\n[ci]\ntype = OID:1.2.840.113549.1.9.16.1.9\n"
                   "content = EXPLICIT:0,SEQUENCE:cd\n[cd]\nversion = INTEGER:0\n"
                   "alg = SEQUENCE:alg\nencap = SEQUENCE:encap\n"
                   "[alg]\noid = OID:1.2.840.113549.1.9.16.3.8\n"
                   "[encap]\ntype = OID:1.2.840.113549.1.7.1\n"
                   "content = EXPLICIT:0,FORMAT:HEX,OCTETSTRING:%s\n",
                   hex);
  put("gen.cnf", conf, (size_t)n);
  assert_int_equal(sh("cd %s && openssl asn1parse -genconf gen.cnf -out gen.der >/dev/null", dir), 0);
  decode_file_and_compare("gen.der", (const unsigned char *)text, strlen(text));
}

static void test_truncated_input_fails_with_a_clear_error_at_every_length(void **s) {
  (void)s;
  unsigned char *c = content(3000, 1), *der, *back;
  size_t dl, bl;
  char err[300];
  assert_int_equal(as2_cms_zlib_compress(c, 3000, &der, &dl, err, sizeof(err)), 0);
  for (size_t n = 0; n < dl; n++) {
    unsigned char *cut = malloc(n ? n : 1); /* exact size: ASan sees any overread */
    memcpy(cut, der, n);
    err[0] = '\0';
    assert_int_equal(as2_cms_zlib_uncompress(cut, n, AS2_CMS_ZLIB_DEFAULT_MAX, &back, &bl, err,
                                             sizeof(err)),
                     -1);
    if (strncmp(err, "compressed-data: ", 17) != 0) fail_msg("length %zu: unclear error '%s'", n, err);
    free(cut);
  }
  /* a cut inside the zlib stream names it */
  assert_int_equal(as2_cms_zlib_uncompress(der, dl - 10, AS2_CMS_ZLIB_DEFAULT_MAX, &back, &bl,
                                           err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "truncated"));
  free(c);
  free(der);
}

static void test_garbled_bytes_fail_cleanly_or_decode_to_the_same_content(void **s) {
  (void)s;
  unsigned char *c = content(600, 0), *der, *back;
  size_t dl, bl;
  char err[300];
  assert_int_equal(as2_cms_zlib_compress(c, 600, &der, &dl, err, sizeof(err)), 0);
  int failures = 0;
  for (size_t i = 0; i < dl; i++)
    for (int bit = 0; bit < 8; bit++) {
      unsigned char *g = malloc(dl);
      memcpy(g, der, dl);
      g[i] ^= (unsigned char)(1u << bit);
      if (as2_cms_zlib_uncompress(g, dl, AS2_CMS_ZLIB_DEFAULT_MAX, &back, &bl, err,
                                  sizeof(err)) == 0) {
        /* never different content: zlib's Adler-32 guards the data */
        assert_int_equal(bl, 600);
        assert_memory_equal(back, c, 600);
        free(back);
      } else {
        assert_int_equal(strncmp(err, "compressed-data: offset ", 24), 0);
        failures++;
      }
      free(g);
    }
  assert_true(failures > (int)dl * 7); /* nearly every flip is caught */
  /* named faults */
  unsigned char *g = malloc(dl);
  memcpy(g, der, dl);
  unsigned char *oid = memmem(g, dl, "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x09", 11);
  assert_non_null(oid);
  oid[10] ^= 0x01; /* 1.2.840.113549.1.9.16.1.9 -> ...16.1.8 */
  assert_int_equal(as2_cms_zlib_uncompress(g, dl, 1000, &back, &bl, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "contentType is 1.2.840.113549.1.9.16.1.8, expected id-ct-compressedData"));
  memcpy(g, der, dl);
  g[dl - 3] ^= 0xff; /* Adler-32 trailer */
  assert_int_equal(as2_cms_zlib_uncompress(g, dl, 1000, &back, &bl, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "corrupt zlib stream"));
  free(g);
  free(c);
  free(der);
}

static void test_inflated_size_over_the_limit_is_refused_naming_the_limit(void **s) {
  (void)s;
  unsigned char *c = content(100000, 0), *der, *back;
  size_t dl, bl;
  char err[300];
  assert_int_equal(as2_cms_zlib_compress(c, 100000, &der, &dl, err, sizeof(err)), 0);
  /* exactly at the limit is fine, one byte less is not */
  assert_int_equal(as2_cms_zlib_uncompress(der, dl, 100000, &back, &bl, err, sizeof(err)), 0);
  assert_int_equal(bl, 100000);
  free(back);
  assert_int_equal(as2_cms_zlib_uncompress(der, dl, 99999, &back, &bl, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "exceeds the limit of 99999 bytes"));
  free(c);
  free(der);
}

static void test_zip_bomb_over_the_default_limit_is_refused(void **s) {
  (void)s;
  if (!have_python) skip();
  gen("bomb", "83886080", "bomb.der"); /* 80 MiB of zeros in ~80 KB */
  size_t len, bl;
  char *ber = slurp("bomb.der", &len);
  unsigned char *back;
  char err[300];
  assert_true(len < 200000);
  assert_int_equal(as2_cms_zlib_uncompress((unsigned char *)ber, len, AS2_CMS_ZLIB_DEFAULT_MAX,
                                           &back, &bl, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "exceeds the limit of 67108864 bytes"));
  free(ber);
}

static void test_malformed_structures_name_the_fault(void **s) {
  (void)s;
  unsigned char *back;
  size_t bl;
  char err[300];
  struct {
    const char *hex, *want;
  } cases[] = {
      {"", "empty input"},
      {"04 00", "ContentInfo SEQUENCE expected"},
      {"30 84 ff ff ff ff", "runs past the end"},
      {"30 89 01 02 03 04 05 06 07 08 09", "out of range"},
      {"30 80 06 0b 2a 86 48 86 f7 0d 01 09 10 01 09", "no end-of-contents"},
      {"04 80 00 00", "indefinite length on a primitive"},
      {"30 02 05 80", "indefinite length on a primitive"},
      {"30 03 1f 01 00", "high tag number"},
      {"30 0f 06 0b 2a 86 48 86 f7 0d 01 09 10 01 09 a0 00", "container ends"},
      {"30 00 00", "trailing data"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    unsigned char b[64];
    size_t n = 0;
    for (const char *p = cases[i].hex; *p;) {
      if (*p == ' ') {
        p++;
        continue;
      }
      unsigned v;
      sscanf(p, "%2x", &v);
      b[n++] = (unsigned char)v;
      p += 2;
    }
    unsigned char *exact = malloc(n ? n : 1);
    memcpy(exact, b, n);
    assert_int_equal(as2_cms_zlib_uncompress(n ? exact : NULL, n, 1000, &back, &bl, err,
                                             sizeof(err)),
                     -1);
    if (!strstr(err, cases[i].want)) fail_msg("%s: '%s', expected '%s'", cases[i].hex, err, cases[i].want);
    free(exact);
  }
}

/* deeply nested constructed OCTET STRINGs stop at the depth limit */
static void test_deep_nesting_is_refused_without_exhausting_the_stack(void **s) {
  (void)s;
  size_t depth = 5000, n = 2 * depth + 2 * depth;
  unsigned char *b = malloc(n), *back;
  size_t bl;
  char err[300];
  for (size_t i = 0; i < depth; i++) {
    b[2 * i] = 0x30;
    b[2 * i + 1] = 0x80;
  }
  memset(b + 2 * depth, 0, 2 * depth);
  assert_int_equal(as2_cms_zlib_uncompress(b, n, 1000, &back, &bl, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "nested deeper"));
  free(b);
}

/* ------------------------------------------------------------------ */
/* the receiver                                                         */

struct rx {
  dray_mock_host *mh;
  void *state;
};

static void rx_open(struct rx *e, const char *max_uncompressed, int require_signed) {
  char cert[128], key[128], partner[128];
  snprintf(cert, sizeof(cert), "%s/dray.pem", dir);
  snprintf(key, sizeof(key), "%s/dray.key", dir);
  snprintf(partner, sizeof(partner), "%s/partner.pem", dir);
  e->mh = dray_mock_host_new("as2in");
  const char *cfg[] = {"transport", "as2", "as2_from", "DRAY", "as2_to", "PARTNER",
                       "as2_cert_file", cert, "as2_key_file", key,
                       "as2_partner_cert_file", partner, "ack", "none", "ta1", "false",
                       "as2_require_signed", require_signed ? "true" : "false", NULL};
  for (int i = 0; cfg[i]; i += 2) dray_mock_host_set_config(e->mh, cfg[i], cfg[i + 1]);
  if (max_uncompressed) dray_mock_host_set_config(e->mh, "as2_max_uncompressed", max_uncompressed);
  if (dray_mock_host_create(e->mh, edi_x12_descriptor(), &e->state) != 0)
    fail_msg("create: %s", dray_mock_host_last_error(e->mh));
}

static void rx_close(struct rx *e) {
  edi_x12_descriptor()->destroy(e->state);
  dray_mock_host_destroy(&e->mh);
}

/* POSTs a body; parses the signed MDN; *raw gets the MDN body (valid until
 * the next call). */
static void rx_post(struct rx *e, const char *ct, const char *cte, const void *body, size_t len,
                    const char *msgid, struct as2_mdn *m, const char **raw, size_t *raw_len) {
  char h_ct[600], h_id[200], h_cte[100];
  snprintf(h_ct, sizeof(h_ct), "Content-Type: %s", ct);
  snprintf(h_id, sizeof(h_id), "Message-ID: %s", msgid);
  snprintf(h_cte, sizeof(h_cte), "Content-Transfer-Encoding: %s", cte ? cte : "binary");
  const char *headers[] = {h_ct, h_id, h_cte, "AS2-To: DRAY", "AS2-From: PARTNER",
                           "AS2-Version: 1.2",
                           "Disposition-Notification-To: partner@example.com",
                           "Disposition-Notification-Options: signed-receipt-protocol=optional, "
                           "pkcs7-signature; signed-receipt-micalg=optional, sha-256",
                           NULL};
  int status = 0;
  const char *resp;
  size_t rlen;
  assert_int_equal(dray_mock_host_http_call(e->mh, "POST", "/as2/as2in", "", headers, body, len,
                                            &status, &resp, &rlen),
                   0);
  assert_int_equal(status, 200);
  const char *rct = dray_mock_host_http_response_header(e->mh, "Content-Type");
  assert_non_null(rct);
  char err[400], cert[128];
  snprintf(cert, sizeof(cert), "%s/dray.pem", dir);
  X509 *x = as2_load_cert(cert, err, sizeof(err));
  if (as2_mdn_parse(rct, resp, rlen, x, 0, m, err, sizeof(err)) != 0) fail_msg("MDN: %s", err);
  X509_free(x);
  if (raw) {
    *raw = resp;
    *raw_len = rlen;
  }
}

static char *entity850(size_t *len, const char *ctl) {
  char *doc = test_doc(ctl, "PO", "004010", "850", "BEG*00*SA*PO77**20240514~\nCTT*0~\n");
  char *e = as2_entity_build("application/edi-x12", doc, strlen(doc), len);
  free(doc);
  return e;
}

static const char ZIP_CT[] = "application/pkcs7-mime; smime-type=compressed-data; name=smime.p7z";

static void expect_mic_of(const struct as2_mdn *m, const char *file) {
  assert_int_equal(sh("cd %s && openssl dgst -sha256 -binary %s | base64 > %s.mic", dir, file, file), 0);
  char name[64];
  size_t n;
  snprintf(name, sizeof(name), "%s.mic", file);
  char *mic = slurp(name, &n);
  mic[strcspn(mic, "\n")] = '\0';
  if (strncmp(m->mic, mic, strlen(mic)) != 0 || m->mic[strlen(mic)] != ',')
    fail_msg("MIC %s, expected the digest of %s: %s", m->mic, file, mic);
  free(mic);
}

static void test_garbled_or_truncated_compressed_message_gets_decompression_failed_mdn(void **s) {
  (void)s;
  if (!have_openssl) skip();
  size_t el, dl;
  char *entity = entity850(&el, "000000901"), err[300];
  unsigned char *der;
  assert_int_equal(as2_cms_zlib_compress(entity, el, &der, &dl, err, sizeof(err)), 0);
  struct rx e;
  rx_open(&e, NULL, 0);
  struct as2_mdn m;
  const char *raw;
  size_t rl;
  rx_post(&e, ZIP_CT, "binary", der, dl - 7, "<z1@partner>", &m, &raw, &rl);
  assert_false(m.processed);
  assert_non_null(strstr(m.disposition, "decompression-failed"));
  assert_non_null(memmem(raw, rl, "Reason: compressed-data: offset", 31));
  der[dl - 30] ^= 0x55;
  rx_post(&e, ZIP_CT, "binary", der, dl, "<z2@partner>", &m, &raw, &rl);
  assert_non_null(strstr(m.disposition, "decompression-failed"));
  assert_non_null(memmem(raw, rl, "compressed-data: offset", 23));
  assert_int_equal(dray_mock_host_emitted_count(e.mh), 0);
  rx_close(&e);
  free(der);
  free(entity);
}

static void test_compressed_message_over_as2_max_uncompressed_gets_decompression_failed(void **s) {
  (void)s;
  if (!have_openssl) skip();
  /* a valid entity well over a 4 KiB limit */
  char *big = malloc(20000);
  memset(big, 'x', 20000);
  size_t el, dl;
  char *entity = as2_entity_build("application/octet-stream", big, 20000, &el), err[300];
  unsigned char *der;
  assert_int_equal(as2_cms_zlib_compress(entity, el, &der, &dl, err, sizeof(err)), 0);
  struct rx e;
  rx_open(&e, "4096", 0);
  struct as2_mdn m;
  const char *raw;
  size_t rl;
  rx_post(&e, ZIP_CT, "binary", der, dl, "<z3@partner>", &m, &raw, &rl);
  assert_non_null(strstr(m.disposition, "decompression-failed"));
  assert_non_null(memmem(raw, rl, "exceeds the limit of 4096 bytes", 31));
  rx_close(&e);
  free(der);
  free(entity);
  free(big);
}

static void test_independent_compress_then_sign_is_accepted_with_mic_over_the_compressed_part(void **s) {
  (void)s;
  if (!have_openssl || !have_python) skip();
  size_t el, zl;
  char *entity = entity850(&el, "000000902");
  put("cs_e.txt", entity, el);
  gen("der", "cs_e.txt", "cs.der");
  char *der = slurp("cs.der", &zl);
  /* the compressed part, base64 this time, signed by openssl */
  size_t bl;
  char *b64 = as2_base64_encode((unsigned char *)der, zl, &bl);
  char *part = malloc(bl + 300);
  int n = snprintf(part, bl + 300, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s",
                   ZIP_CT, b64);
  put("cs_part.txt", part, (size_t)n);
  assert_int_equal(sh("cd %s && openssl cms -sign -binary -md sha256 -in cs_part.txt -signer "
                      "partner.pem -inkey partner.key -out cs.msg",
                      dir),
                   0);
  size_t ml;
  char *msg = slurp("cs.msg", &ml);
  struct as2_entity ent;
  char ct[400];
  assert_int_equal(as2_entity_split(msg, ml, &ent), 0);
  assert_int_equal(as2_header(ent.headers, ent.headers_len, "Content-Type", ct, sizeof(ct)), 0);
  struct rx e;
  rx_open(&e, NULL, 1);
  struct as2_mdn m;
  rx_post(&e, ct, NULL, ent.body, ent.body_len, "<z4@partner>", &m, NULL, NULL);
  if (!m.processed) fail_msg("disposition %s", m.disposition);
  expect_mic_of(&m, "cs_part.txt"); /* RFC 5402: what was signed */
  assert_int_equal(dray_mock_host_emitted_count(e.mh), 1);
  assert_string_equal(dray_mock_host_table(e.mh)->msg_type(dray_mock_host_emitted(e.mh, 0)),
                      "dray.order.created.v1");
  rx_close(&e);
  free(msg);
  free(part);
  free(b64);
  free(der);
  free(entity);
}

static void test_independent_sign_then_compress_then_encrypt_is_accepted_with_mic_over_the_signed_entity(void **s) {
  (void)s;
  if (!have_openssl || !have_python) skip();
  size_t el, zl;
  char *entity = entity850(&el, "000000903");
  put("sc_e.txt", entity, el);
  assert_int_equal(sh("cd %s && openssl cms -sign -binary -md sha256 -in sc_e.txt -signer "
                      "partner.pem -inkey partner.key -out sc_signed.msg",
                      dir),
                   0);
  gen("ber", "sc_signed.msg", "sc.ber"); /* BER this time */
  char *ber = slurp("sc.ber", &zl);
  char head[200];
  int hn = snprintf(head, sizeof(head), "Content-Type: %s\r\nContent-Transfer-Encoding: binary\r\n\r\n",
                    ZIP_CT);
  char *zip_entity = malloc((size_t)hn + zl);
  memcpy(zip_entity, head, (size_t)hn);
  memcpy(zip_entity + hn, ber, zl);
  put("sc_zip.txt", zip_entity, (size_t)hn + zl);
  assert_int_equal(sh("cd %s && openssl cms -encrypt -binary -aes256 -in sc_zip.txt -outform DER "
                      "-out sc_enc.der dray.pem",
                      dir),
                   0);
  size_t dl;
  char *enc = slurp("sc_enc.der", &dl);
  struct rx e;
  rx_open(&e, NULL, 1);
  struct as2_mdn m;
  rx_post(&e, "application/pkcs7-mime; smime-type=enveloped-data", "binary", enc, dl,
          "<z5@partner>", &m, NULL, NULL);
  if (!m.processed) fail_msg("disposition %s", m.disposition);
  expect_mic_of(&m, "sc_e.txt");
  assert_int_equal(dray_mock_host_emitted_count(e.mh), 1);
  rx_close(&e);
  free(enc);
  free(zip_entity);
  free(ber);
  free(entity);
}

static void test_unsigned_compressed_message_mic_is_over_the_uncompressed_entity(void **s) {
  (void)s;
  if (!have_openssl || !have_python) skip();
  size_t el, zl;
  char *entity = entity850(&el, "000000904");
  put("u_e.txt", entity, el);
  gen("der", "u_e.txt", "u.der");
  char *der = slurp("u.der", &zl);
  struct rx e;
  rx_open(&e, NULL, 0);
  struct as2_mdn m;
  rx_post(&e, ZIP_CT, "binary", der, zl, "<z6@partner>", &m, NULL, NULL);
  if (!m.processed) fail_msg("disposition %s", m.disposition);
  expect_mic_of(&m, "u_e.txt");
  rx_close(&e);
  /* as2_require_signed (the default) still refuses it */
  rx_open(&e, NULL, 1);
  rx_post(&e, ZIP_CT, "binary", der, zl, "<z7@partner>", &m, NULL, NULL);
  assert_non_null(strstr(m.disposition, "insufficient-message-security"));
  rx_close(&e);
  free(der);
  free(entity);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compressed_data_round_trips_empty_text_noise_and_large_content),
      cmocka_unit_test(test_openssl_asn1parse_reads_our_der_with_the_right_oids),
      cmocka_unit_test(test_compressed_data_from_python_zlib_and_hand_assembled_der_decodes),
      cmocka_unit_test(test_ber_with_indefinite_lengths_and_segmented_octet_strings_decodes),
      cmocka_unit_test(test_compressed_data_from_openssl_genconf_decodes),
      cmocka_unit_test(test_truncated_input_fails_with_a_clear_error_at_every_length),
      cmocka_unit_test(test_garbled_bytes_fail_cleanly_or_decode_to_the_same_content),
      cmocka_unit_test(test_inflated_size_over_the_limit_is_refused_naming_the_limit),
      cmocka_unit_test(test_zip_bomb_over_the_default_limit_is_refused),
      cmocka_unit_test(test_malformed_structures_name_the_fault),
      cmocka_unit_test(test_deep_nesting_is_refused_without_exhausting_the_stack),
      cmocka_unit_test(test_garbled_or_truncated_compressed_message_gets_decompression_failed_mdn),
      cmocka_unit_test(test_compressed_message_over_as2_max_uncompressed_gets_decompression_failed),
      cmocka_unit_test(test_independent_compress_then_sign_is_accepted_with_mic_over_the_compressed_part),
      cmocka_unit_test(test_independent_sign_then_compress_then_encrypt_is_accepted_with_mic_over_the_signed_entity),
      cmocka_unit_test(test_unsigned_compressed_message_mic_is_over_the_uncompressed_entity),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
