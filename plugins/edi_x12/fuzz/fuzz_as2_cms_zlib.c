/* fuzz_as2_cms_zlib.c - libFuzzer target for the CMS CompressedData reader
 * (as2_cms_zlib.c): arbitrary bytes must decode or fail with an error
 * message, never crash, overread or exceed the inflate cap; whatever
 * decodes must re-encode and decode to the same content.
 * Seeds: fuzz/seeds_cms_zlib/ (DER from our encoder, DER and BER from
 * tests/gen_cms_zlib.py). Run: fuzz/run_cms_zlib.sh SECONDS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "as2_cms_zlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* small cap: libFuzzer's RSS limit, and the cap path gets exercised */
#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned char *out = NULL, *der = NULL, *back = NULL;
  size_t out_len = 0, der_len = 0, back_len = 0;
  char err[300];
  err[0] = '\0';
  if (as2_cms_zlib_uncompress(data, size, FUZZ_MAX, &out, &out_len, err, sizeof(err)) != 0) {
    /* every failure explains itself */
    if (strncmp(err, "compressed-data: ", 17) != 0) abort();
    return 0;
  }
  if (out_len > FUZZ_MAX || out[out_len] != '\0') abort();
  if (as2_cms_zlib_compress(out, out_len, &der, &der_len, err, sizeof(err)) != 0) abort();
  if (as2_cms_zlib_uncompress(der, der_len, FUZZ_MAX, &back, &back_len, err, sizeof(err)) != 0)
    abort();
  if (back_len != out_len || memcmp(back, out, out_len) != 0) abort();
  free(back);
  free(der);
  free(out);
  return 0;
}
