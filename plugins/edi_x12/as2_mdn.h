/* as2_mdn.h - AS2 message disposition notifications (RFC 4130 §7):
 * building (optionally signed) and reading (verifying the signature with
 * the partner certificate). Thread-safe. */
#ifndef AS2_MDN_H
#define AS2_MDN_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

struct as2_mdn_fields {
  const char *reporting_ua;
  const char *recipient;           /* our AS2 name (AS2-To of the message) */
  const char *original_message_id;
  const char *disposition;   /* "processed" or "processed/error: decryption-failed" */
  const char *mic;           /* "b64, alg" or NULL */
  const char *text;          /* human part */
};

/* Builds the MDN entity (multipart/report), signed when key is given.
 * Returns the entity (caller frees) or NULL with err. */
char *as2_mdn_build(const struct as2_mdn_fields *f, X509 *cert, EVP_PKEY *key,
                    const EVP_MD *md, size_t *out_len, char *err, size_t size);

struct as2_mdn {
  char original_message_id[256];
  char disposition[256];
  char mic[160];
  int signed_mdn;
  int verified;
  int processed; /* disposition is processed without error/failure */
};

/* Reads an MDN given its Content-Type and body. When signed and signer is
 * given, verifies it at `at` (0 = now). Returns 0, or -1 with err naming
 * the fault (not multipart, no disposition part, signature failure). */
int as2_mdn_parse(const char *content_type, const char *body, size_t len,
                  X509 *signer, time_t at, struct as2_mdn *out, char *err,
                  size_t size);

#endif
