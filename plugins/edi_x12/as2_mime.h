/* as2_mime.h - the little MIME AS2 needs: header blocks (with folded
 * lines), header parameters, multipart splitting that keeps each part's
 * exact bytes (signatures cover them), base64. No allocation except where
 * a function says the caller owns the result. */
#ifndef AS2_MIME_H
#define AS2_MIME_H

#include <stddef.h>

/* A MIME entity split into its header block and body (both point into the
 * caller's buffer). */
struct as2_entity {
  const char *headers; /* first header line */
  size_t headers_len;  /* up to (not including) the blank line */
  const char *body;
  size_t body_len;
};

/* Splits data at the first blank line (CRLF CRLF or LF LF). Returns 0, or
 * -1 when there is no header block. */
int as2_entity_split(const char *data, size_t len, struct as2_entity *e);

/* Value of header `name` (case-insensitive) in a header block, unfolded,
 * surrounding quotes removed, into out. Returns 0 or -1 when absent. */
int as2_header(const char *headers, size_t len, const char *name, char *out,
               size_t size);

/* Parameter `name` of a header value ("multipart/signed; micalg=sha1;
 * boundary=\"x\""), unquoted, into out. Returns 0 or -1. */
int as2_param(const char *value, const char *name, char *out, size_t size);

/* Nonzero if the media type of a Content-Type value equals `type`
 * (case-insensitive, parameters ignored). */
int as2_type_is(const char *content_type, const char *type);

/* Part `index` of a multipart body with `boundary`: the exact bytes
 * between the delimiter line's CRLF and the CRLF before the next delimiter.
 * Returns 0, or -1 when there is no such part. */
int as2_multipart_part(const char *body, size_t len, const char *boundary,
                       int index, const char **part, size_t *part_len);

/* Builds a MIME entity for a payload: "Content-Type: <type>", then the
 * body as is (Content-Transfer-Encoding: binary) when its line ends are
 * already CRLF and it has no other control bytes, else base64 with CRLF
 * lines — signed content must survive S/MIME canonicalization (OpenSSL
 * turns bare LF into CRLF when it reads multipart/signed). Caller frees. */
char *as2_entity_build(const char *content_type, const char *body, size_t len,
                       size_t *out_len);

/* Base64 decode (whitespace ignored); caller frees *out. Returns 0 or -1. */
int as2_base64_decode(const char *in, size_t len, unsigned char **out,
                      size_t *out_len);
/* Base64 encode with CRLF every 76 characters; caller frees. */
char *as2_base64_encode(const unsigned char *in, size_t len, size_t *out_len);

#endif
