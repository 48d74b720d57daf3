/* as2_cms_zlib.h - CMS CompressedData (RFC 3274) with zlib, our own codec.
 *
 * Debian's OpenSSL is built without zlib, so CMS_compress/CMS_uncompress
 * fail there; AS2 compression (RFC 5402) is done here with zlib instead:
 *
 *   ContentInfo { contentType id-ct-compressedData (1.2.840.113549.1.9.16.1.9),
 *                 content [0] EXPLICIT CompressedData {
 *                   version 0,
 *                   compressionAlgorithm { id-alg-zlibCompress
 *                                          (1.2.840.113549.1.9.16.3.8) },
 *                   encapContentInfo { eContentType id-data,
 *                                      eContent [0] EXPLICIT OCTET STRING
 *                                        (a zlib stream, RFC 1950) } } }
 *
 * The encoder writes DER. The decoder reads DER and BER (indefinite lengths,
 * constructed OCTET STRINGs in segments, which other AS2 products send),
 * bounds every length by the input, limits nesting, and stops inflating at a
 * caller-given maximum (zip bombs). Thread-safe: no shared state. */
#ifndef AS2_CMS_ZLIB_H
#define AS2_CMS_ZLIB_H

#include <stddef.h>

/* Default cap on the inflated size (as2_max_uncompressed). */
#define AS2_CMS_ZLIB_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

/* Compresses content (len bytes) into a DER ContentInfo. On success
 * *out (malloc'd, caller frees) and *out_len are set and 0 is returned;
 * on failure -1 with a reason in err. */
int as2_cms_zlib_compress(const void *content, size_t len, unsigned char **out,
                          size_t *out_len, char *err, size_t err_size);

/* Decodes a DER or BER ContentInfo holding CompressedData and inflates its
 * content, refusing to produce more than max_out bytes. On success *out
 * (malloc'd, NUL-terminated for convenience, caller frees) and *out_len are
 * set and 0 is returned; on failure -1 with a reason naming what is wrong
 * and at which byte offset in err (e.g. "compressed-data: offset 17:
 * length 300 runs past the end of the input (40 bytes left)"). */
int as2_cms_zlib_uncompress(const unsigned char *ber, size_t len, size_t max_out,
                            unsigned char **out, size_t *out_len, char *err,
                            size_t err_size);

#endif
