/* as2_smime.c - see as2_smime.h. */
#include "as2_smime.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "as2_cms_zlib.h"
#include "as2_mime.h"

const EVP_MD *as2_md(const char *name) {
  if (!name) return NULL;
  if (!strcasecmp(name, "sha1") || !strcasecmp(name, "sha-1")) return EVP_sha1();
  if (!strcasecmp(name, "sha256") || !strcasecmp(name, "sha-256")) return EVP_sha256();
  if (!strcasecmp(name, "sha384") || !strcasecmp(name, "sha-384")) return EVP_sha384();
  if (!strcasecmp(name, "sha512") || !strcasecmp(name, "sha-512")) return EVP_sha512();
  if (!strcasecmp(name, "md5")) return EVP_md5();
  return NULL;
}

const char *as2_micalg_name(const EVP_MD *md) {
  int nid = EVP_MD_type(md);
  return nid == NID_sha1 ? "sha1" : nid == NID_sha384 ? "sha-384"
         : nid == NID_sha512 ? "sha-512" : nid == NID_md5 ? "md5" : "sha-256";
}

/* The OpenSSL error queue as text (the last, most specific entry first). */
static void ssl_error(char *err, size_t size, const char *what) {
  unsigned long e, last = 0;
  char buf[256] = "";
  while ((e = ERR_get_error()) != 0) last = e;
  if (last) ERR_error_string_n(last, buf, sizeof(buf));
  snprintf(err, size, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

int as2_mic(const void *data, size_t len, const EVP_MD *md, char *out,
            size_t size) {
  unsigned char dg[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!md || !EVP_Digest(data, len, dg, &n, md, NULL)) return -1;
  size_t bl;
  char *b = as2_base64_encode(dg, n, &bl);
  if (!b) return -1;
  snprintf(out, size, "%s, %s", b, as2_micalg_name(md));
  free(b);
  return 0;
}

X509 *as2_load_cert(const char *path, char *err, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, size, "%s: cannot open", path);
    return NULL;
  }
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (!x) ssl_error(err, size, path);
  return x;
}

EVP_PKEY *as2_load_key(const char *path, const char *passphrase, char *err,
                       size_t size) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, size, "%s: cannot open", path);
    return NULL;
  }
  EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, (void *)passphrase);
  fclose(f);
  if (!k) ssl_error(err, size, path);
  return k;
}

static char *bio_take(BIO *b, size_t *len) {
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *out = malloc((size_t)n + 1);
  if (!out) return NULL;
  memcpy(out, data, (size_t)n);
  out[n] = '\0';
  *len = (size_t)n;
  return out;
}

/* Concatenates a header block text with binary body bytes. */
static char *entity_of(const char *headers, const void *body, size_t blen,
                       size_t *out_len) {
  size_t hl = strlen(headers);
  char *out = malloc(hl + blen + 1);
  if (!out) return NULL;
  memcpy(out, headers, hl);
  memcpy(out + hl, body, blen);
  out[hl + blen] = '\0';
  *out_len = hl + blen;
  return out;
}

char *as2_sign(const char *entity, size_t len, X509 *cert, EVP_PKEY *key,
               const EVP_MD *md, size_t *out_len, char *err, size_t size) {
  char *out = NULL;
  BIO *in = BIO_new_mem_buf(entity, (int)len);
  BIO *der = BIO_new(BIO_s_mem());
  unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
  CMS_ContentInfo *cms = NULL;
  if (!in || !der) goto done;
  cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
  if (!cms || !CMS_add1_signer(cms, cert, key, md, flags & ~CMS_PARTIAL) ||
      !CMS_final(cms, in, NULL, flags & ~CMS_PARTIAL) ||
      !i2d_CMS_bio(der, cms)) {
    ssl_error(err, size, "signing failed");
    goto done;
  }
  {
    unsigned char rnd[12];
    char boundary[40];
    RAND_bytes(rnd, sizeof(rnd));
    snprintf(boundary, sizeof(boundary), "----=_dray_%02x%02x%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    size_t dl, bl;
    char *d = bio_take(der, &dl);
    char *b64 = d ? as2_base64_encode((unsigned char *)d, dl, &bl) : NULL;
    free(d);
    if (!b64) goto done;
    size_t cap = len + bl + 1024;
    out = malloc(cap);
    if (out) {
      int n = snprintf(out, cap,
                       "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; "
                       "micalg=%s; boundary=\"%s\"\r\n\r\n--%s\r\n",
                       as2_micalg_name(md), boundary, boundary);
      memcpy(out + n, entity, len);
      n += (int)len;
      n += snprintf(out + n, cap - (size_t)n,
                    "\r\n--%s\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
                    "Content-Transfer-Encoding: base64\r\n"
                    "Content-Disposition: attachment; filename=smime.p7s\r\n\r\n%s\r\n--%s--\r\n",
                    boundary, b64, boundary);
      *out_len = (size_t)n;
    }
    free(b64);
  }
done:
  CMS_ContentInfo_free(cms);
  BIO_free(in);
  BIO_free(der);
  return out;
}

char *as2_encrypt(const char *entity, size_t len, X509 *to,
                  const EVP_CIPHER *cipher, size_t *out_len, char *err,
                  size_t size) {
  char *out = NULL;
  STACK_OF(X509) *certs = sk_X509_new_null();
  BIO *in = BIO_new_mem_buf(entity, (int)len);
  BIO *der = BIO_new(BIO_s_mem());
  CMS_ContentInfo *cms = NULL;
  if (!certs || !in || !der || !sk_X509_push(certs, to)) goto done;
  cms = CMS_encrypt(certs, in, cipher, CMS_BINARY);
  if (!cms || !i2d_CMS_bio(der, cms)) {
    ssl_error(err, size, "encryption failed");
    goto done;
  }
  {
    size_t dl;
    char *d = bio_take(der, &dl);
    if (d)
      out = entity_of("Content-Type: application/pkcs7-mime; smime-type=enveloped-data; "
                      "name=smime.p7m\r\nContent-Transfer-Encoding: binary\r\n"
                      "Content-Disposition: attachment; filename=smime.p7m\r\n\r\n",
                      d, dl, out_len);
    free(d);
  }
done:
  CMS_ContentInfo_free(cms);
  sk_X509_free(certs);
  BIO_free(in);
  BIO_free(der);
  return out;
}

char *as2_compress(const char *entity, size_t len, size_t *out_len, char *err,
                   size_t size) {
  unsigned char *der = NULL;
  size_t dl = 0;
  if (as2_cms_zlib_compress(entity, len, &der, &dl, err, size) < 0) return NULL;
  char *out = entity_of("Content-Type: application/pkcs7-mime; smime-type=compressed-data; "
                        "name=smime.p7z\r\nContent-Transfer-Encoding: binary\r\n"
                        "Content-Disposition: attachment; filename=smime.p7z\r\n\r\n",
                        der, dl, out_len);
  if (!out) snprintf(err, size, "out of memory");
  free(der);
  return out;
}

/* DER (or base64) bytes -> CMS. */
static CMS_ContentInfo *read_cms(const char *body, size_t len, int b64) {
  unsigned char *der = NULL;
  size_t dl = len;
  const unsigned char *p = (const unsigned char *)body;
  if (b64 || (len && (unsigned char)body[0] != 0x30)) {
    if (as2_base64_decode(body, len, &der, &dl) < 0) return NULL;
    p = der;
  }
  const unsigned char *q = p;
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &q, (long)dl);
  free(der);
  return cms;
}

char *as2_decrypt(const char *body, size_t len, int b64, X509 *cert,
                  EVP_PKEY *key, size_t *out_len, char *err, size_t size) {
  char *out = NULL;
  BIO *o = BIO_new(BIO_s_mem());
  CMS_ContentInfo *cms = read_cms(body, len, b64);
  if (!cms) {
    ssl_error(err, size, "not a CMS enveloped-data structure");
  } else if (!o || !CMS_decrypt(cms, key, cert, NULL, o, CMS_BINARY)) {
    ssl_error(err, size, "decryption failed");
  } else {
    out = bio_take(o, out_len);
  }
  CMS_ContentInfo_free(cms);
  BIO_free(o);
  return out;
}

char *as2_uncompress(const char *body, size_t len, int b64, size_t max_out,
                     size_t *out_len, char *err, size_t size) {
  unsigned char *raw = NULL, *out = NULL;
  const unsigned char *ber = (const unsigned char *)body;
  size_t bl = len;
  /* binary BER starts with a SEQUENCE; anything else is taken as base64 */
  if (b64 || (len && (unsigned char)body[0] != 0x30)) {
    if (as2_base64_decode(body, len, &raw, &bl) < 0) {
      snprintf(err, size, "compressed-data: the body is neither BER nor valid base64");
      return NULL;
    }
    ber = raw;
  }
  if (as2_cms_zlib_uncompress(ber, bl, max_out, &out, out_len, err, size) < 0) out = NULL;
  free(raw);
  return (char *)out;
}

static int verify_once(const char *content, size_t clen, const char *sig,
                       size_t slen, int b64, X509 *signer, time_t at, char *err,
                       size_t size);

/* Bare LF -> CRLF (what S/MIME canonical text is); caller frees. */
static char *crlf(const char *s, size_t len, size_t *out_len) {
  char *o = malloc(len * 2 + 1);
  size_t k = 0;
  if (!o) return NULL;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) o[k++] = '\r';
    o[k++] = s[i];
  }
  *out_len = k;
  return o;
}

int as2_verify(const char *content, size_t clen, const char *sig,
               size_t slen, int b64, X509 *signer, time_t at, char *err,
               size_t size) {
  int r = verify_once(content, clen, sig, slen, b64, signer, at, err, size);
  if (r == AS2_VERIFY_INTEGRITY && memchr(content, '\n', clen)) {
    /* stored or relayed with bare LF: try the canonical CRLF form, as
     * S/MIME readers do */
    size_t n;
    char *c = crlf(content, clen, &n);
    if (c && n != clen &&
        verify_once(c, n, sig, slen, b64, signer, at, err, size) == AS2_VERIFY_OK)
      r = AS2_VERIFY_OK;
    free(c);
  }
  return r;
}

static int verify_once(const char *content, size_t clen, const char *sig,
                       size_t slen, int b64, X509 *signer, time_t at, char *err,
                       size_t size) {
  int r = AS2_VERIFY_AUTH;
  BIO *in = BIO_new_mem_buf(content, (int)clen);
  X509_STORE *store = X509_STORE_new();
  STACK_OF(X509) *certs = sk_X509_new_null();
  CMS_ContentInfo *cms = read_cms(sig, slen, b64);
  if (!cms) {
    ssl_error(err, size, "signature is not a CMS signed-data structure");
    goto done;
  }
  if (!signer) {
    snprintf(err, size, "no partner certificate to verify the signature with");
    goto done;
  }
  if (!in || !store || !certs || !X509_STORE_add_cert(store, signer) ||
      !sk_X509_push(certs, signer))
    goto done;
  /* the configured partner certificate is the trust anchor even when a CA
   * issued it (partner pinning): partial chains end there */
  X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_PARTIAL_CHAIN);
  /* AS2 certificates often lack the S/MIME key usage (PEPPOL, TLS certs) */
  X509_VERIFY_PARAM_set_purpose(X509_STORE_get0_param(store), X509_PURPOSE_ANY);
  if (at) X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), at);
  /* CMS_NOINTERN: only the configured partner certificate may sign */
  if (CMS_verify(cms, certs, store, in, NULL,
                 CMS_DETACHED | CMS_BINARY | CMS_NOINTERN)) {
    r = AS2_VERIFY_OK;
  } else {
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_REASON(e);
    r = (reason == CMS_R_CONTENT_VERIFY_ERROR || reason == CMS_R_VERIFICATION_FAILURE)
            ? AS2_VERIFY_INTEGRITY
            : AS2_VERIFY_AUTH;
    /* the certificate check's own reason ("certificate has expired") is
     * in the error data */
    char buf[256] = "", detail[200] = "";
    unsigned long x;
    const char *data = NULL;
    int fl = 0;
    while ((x = ERR_get_error_all(NULL, NULL, NULL, &data, &fl)) != 0) {
      if (ERR_GET_REASON(x) == CMS_R_CERTIFICATE_VERIFY_ERROR) r = AS2_VERIFY_AUTH;
      if (data && (fl & ERR_TXT_STRING) && *data)
        snprintf(detail, sizeof(detail), "%s", data);
      ERR_error_string_n(x, buf, sizeof(buf));
    }
    if (detail[0]) snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " (%s)", detail);
    snprintf(err, size, "signature verification failed: %s", buf);
  }
done:
  CMS_ContentInfo_free(cms);
  sk_X509_free(certs);
  X509_STORE_free(store);
  BIO_free(in);
  return r;
}
