/* as2_smime.h - S/MIME layers of AS2 with OpenSSL CMS: sign (detached,
 * multipart/signed), encrypt (enveloped-data), their inverses, and the MIC.
 * Entities are full MIME entities (header block, blank line, body) with
 * CRLF line ends. Compression (CMS compressed-data, RFC 3274/5402) is our
 * own zlib codec (as2_cms_zlib.c): Debian's OpenSSL has no zlib.
 * Thread-safe (no shared state). */
#ifndef AS2_SMIME_H
#define AS2_SMIME_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

/* Digest for an AS2 micalg spelling (sha1, sha-1, SHA1, sha256, sha-256,
 * sha384, sha512, md5), or NULL. */
const EVP_MD *as2_md(const char *name);
/* Canonical micalg name for a digest ("sha-256", "sha1", ...). */
const char *as2_micalg_name(const EVP_MD *md);

/* "base64digest, alg" over data into out. Returns 0 or -1. */
int as2_mic(const void *data, size_t len, const EVP_MD *md, char *out,
            size_t size);

/* Loads a PEM certificate / private key (passphrase may be NULL). NULL
 * with a reason in err. Caller frees with X509_free / EVP_PKEY_free. */
X509 *as2_load_cert(const char *path, char *err, size_t size);
EVP_PKEY *as2_load_key(const char *path, const char *passphrase, char *err,
                       size_t size);

/* Signs entity: returns a multipart/signed entity (caller frees), length in
 * *out_len. NULL with err on failure. */
char *as2_sign(const char *entity, size_t len, X509 *cert, EVP_PKEY *key,
               const EVP_MD *md, size_t *out_len, char *err, size_t size);
/* Encrypts entity for `to`: an application/pkcs7-mime enveloped-data
 * entity with a binary DER body (caller frees). */
char *as2_encrypt(const char *entity, size_t len, X509 *to,
                  const EVP_CIPHER *cipher, size_t *out_len, char *err,
                  size_t size);
/* Compresses entity into an application/pkcs7-mime compressed-data entity
 * with a binary DER body (caller frees). NULL with err on failure. */
char *as2_compress(const char *entity, size_t len, size_t *out_len, char *err,
                   size_t size);

/* Decrypts a pkcs7-mime body (DER, or base64 when b64 is nonzero): the
 * inner entity (caller frees). */
char *as2_decrypt(const char *body, size_t len, int b64, X509 *cert,
                  EVP_PKEY *key, size_t *out_len, char *err, size_t size);
/* Uncompresses a compressed-data body (BER/DER, or base64 when b64 or when
 * it does not start with a SEQUENCE): the inner entity (caller frees),
 * at most max_out bytes. NULL with a reason in err (truncated, garbled,
 * over the limit): the MDN disposition is decompression-failed. */
char *as2_uncompress(const char *body, size_t len, int b64, size_t max_out,
                     size_t *out_len, char *err, size_t size);

enum as2_verify_result {
  AS2_VERIFY_OK = 0,
  AS2_VERIFY_AUTH = -1,     /* signer not the partner, bad or expired cert */
  AS2_VERIFY_INTEGRITY = -2 /* content does not match the signature */
};
/* Verifies a detached signature (DER, or base64 when b64) over content,
 * signed by `signer` (trusted as is). at: verification time (0 = now).
 * Returns enum as2_verify_result with the reason in err. */
int as2_verify(const char *content, size_t clen, const char *sig,
               size_t slen, int b64, X509 *signer, time_t at, char *err,
               size_t size);

#endif
