/* as2_cms_zlib.c - see as2_cms_zlib.h.
 *
 * A small DER writer and BER reader for exactly one structure. Own code
 * rather than OpenSSL's ASN1 templates: the templates would still need the
 * BER segment walking and the inflate loop written here, and a bounded
 * reader of ~200 lines is easier to fuzz and to reason about than template
 * glue. Every length is checked against its container before it is used;
 * nothing is allocated from a length read off the wire (the output buffer
 * grows with what zlib actually produces, up to the caller's cap). */
#include "as2_cms_zlib.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Nesting limit for the whole decode: the structure itself is 6 levels;
 * the rest is room for constructed OCTET STRING segments and indefinite
 * forms. Bounds recursion (stack) and rescanning (time: O(depth x input)). */
#define MAX_DEPTH 24

/* DER contents of the three OIDs. */
static const unsigned char OID_COMPRESSED_DATA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                                    0x01, 0x09, 0x10, 0x01, 0x09};
static const unsigned char OID_ZLIB[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                         0x01, 0x09, 0x10, 0x03, 0x08};
static const unsigned char OID_DATA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};

enum {
  TAG_INTEGER = 0x02,
  TAG_OCTETS = 0x04,
  TAG_NULL = 0x05,
  TAG_OID = 0x06,
  TAG_SEQUENCE = 0x30,
  TAG_OCTETS_CONS = 0x24,
  TAG_CTX0 = 0xa0, /* [0] EXPLICIT, constructed */
  CONSTRUCTED = 0x20
};

/* ------------------------------------------------------------------ */
/* DER writer                                                           */

static size_t der_len_size(size_t n) {
  size_t k = 1;
  if (n < 0x80) return 1;
  while (n) {
    k++;
    n >>= 8;
  }
  return k;
}

/* Writes identifier and length octets; returns how many were written. */
static size_t der_put_header(unsigned char *p, unsigned tag, size_t n) {
  size_t k = der_len_size(n);
  p[0] = (unsigned char)tag;
  if (k == 1) {
    p[1] = (unsigned char)n;
  } else {
    p[1] = (unsigned char)(0x80 | (k - 1));
    for (size_t i = k - 1; i >= 1; i--) {
      p[1 + i] = (unsigned char)(n & 0xff);
      n >>= 8;
    }
  }
  return 1 + k;
}

static size_t der_total(size_t n) { return 1 + der_len_size(n) + n; }

static size_t der_put_oid(unsigned char *p, const unsigned char *oid, size_t n) {
  size_t h = der_put_header(p, TAG_OID, n);
  memcpy(p + h, oid, n);
  return h + n;
}

int as2_cms_zlib_compress(const void *content, size_t len, unsigned char **out,
                          size_t *out_len, char *err, size_t err_size) {
  int rc = -1;
  unsigned char *z = NULL, *der = NULL;
  uLongf zlen = compressBound((uLong)len);
  if ((size_t)(uLong)len != len) {
    snprintf(err, err_size, "compressed-data: content of %zu bytes is too large", len);
    goto out;
  }
  z = malloc(zlen ? zlen : 1);
  if (!z) {
    snprintf(err, err_size, "compressed-data: out of memory");
    goto out;
  }
  int zrc = compress2(z, &zlen, content, (uLong)len, Z_DEFAULT_COMPRESSION);
  if (zrc != Z_OK) {
    snprintf(err, err_size, "compressed-data: zlib compress failed (%d)", zrc);
    goto out;
  }
  /* sizes from the inside out */
  size_t alg_len = der_total(sizeof(OID_ZLIB)); /* parameters absent (RFC 3274) */
  size_t ec0_len = der_total(zlen);              /* [0] { OCTET STRING } */
  size_t eci_len = der_total(sizeof(OID_DATA)) + der_total(ec0_len);
  size_t cd_len = 3 /* INTEGER 0 */ + der_total(alg_len) + der_total(eci_len);
  size_t c0_len = der_total(cd_len);
  size_t ci_len = der_total(sizeof(OID_COMPRESSED_DATA)) + der_total(c0_len);
  size_t total = der_total(ci_len);
  der = malloc(total);
  if (!der) {
    snprintf(err, err_size, "compressed-data: out of memory");
    goto out;
  }
  unsigned char *p = der;
  p += der_put_header(p, TAG_SEQUENCE, ci_len);
  p += der_put_oid(p, OID_COMPRESSED_DATA, sizeof(OID_COMPRESSED_DATA));
  p += der_put_header(p, TAG_CTX0, c0_len);
  p += der_put_header(p, TAG_SEQUENCE, cd_len);
  *p++ = TAG_INTEGER;
  *p++ = 1;
  *p++ = 0; /* version 0 */
  p += der_put_header(p, TAG_SEQUENCE, alg_len);
  p += der_put_oid(p, OID_ZLIB, sizeof(OID_ZLIB));
  p += der_put_header(p, TAG_SEQUENCE, eci_len);
  p += der_put_oid(p, OID_DATA, sizeof(OID_DATA));
  p += der_put_header(p, TAG_CTX0, ec0_len);
  p += der_put_header(p, TAG_OCTETS, zlen);
  memcpy(p, z, zlen);
  p += zlen;
  if ((size_t)(p - der) != total) { /* programmer error in the sizes above */
    snprintf(err, err_size, "compressed-data: internal size mismatch");
    goto out;
  }
  *out = der;
  *out_len = total;
  der = NULL;
  rc = 0;
out:
  free(z);
  free(der);
  return rc;
}

/* ------------------------------------------------------------------ */
/* BER reader                                                           */

struct reader {
  const unsigned char *buf;
  char *err;
  size_t err_size;
};

struct tlv {
  unsigned tag;    /* identifier octet (low-tag-number form only) */
  size_t off;      /* offset of the identifier octet */
  size_t body;     /* offset of the contents */
  size_t body_len; /* contents length; for indefinite forms up to the EOC */
  size_t end;      /* offset just past the element (and its EOC) */
};

static int fail(struct reader *r, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct reader *r, size_t off, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(r->err, r->err_size, "compressed-data: offset %zu: %s", off, msg);
  return -1;
}

/* Reads the element at pos, which must end by limit (its container's end).
 * Indefinite-length elements are walked to their end-of-contents octets. */
static int read_tlv(struct reader *r, size_t pos, size_t limit, int depth, struct tlv *t) {
  const unsigned char *b = r->buf;
  if (depth > MAX_DEPTH) return fail(r, pos, "nested deeper than %d levels", MAX_DEPTH);
  if (pos >= limit) return fail(r, pos, "element expected but its container ends (truncated?)");
  unsigned id = b[pos];
  if ((id & 0x1f) == 0x1f)
    return fail(r, pos, "high tag number form (0x%02x) is not used in CompressedData", id);
  size_t p = pos + 1;
  if (p >= limit) return fail(r, p, "length octets expected but the input ends (truncated?)");
  unsigned l0 = b[p++];
  t->tag = id;
  t->off = pos;
  if (l0 == 0x80) {
    if (!(id & CONSTRUCTED))
      return fail(r, pos, "indefinite length on a primitive element (tag 0x%02x)", id);
    t->body = p;
    size_t q = p;
    for (;;) {
      if (limit - q < 2)
        return fail(r, q, "indefinite-length element (tag 0x%02x at %zu) has no end-of-contents "
                          "octets (truncated?)", id, pos);
      if (b[q] == 0 && b[q + 1] == 0) break;
      struct tlv c;
      if (read_tlv(r, q, limit, depth + 1, &c) < 0) return -1;
      q = c.end;
    }
    t->body_len = q - p;
    t->end = q + 2;
    return 0;
  }
  size_t n = l0;
  if (l0 > 0x80) {
    unsigned k = l0 & 0x7f;
    if (k > 4 || k > sizeof(size_t))
      return fail(r, pos, "length of %u octets is out of range", k);
    if (limit - p < k) return fail(r, p, "length octets run past the end (truncated?)");
    n = 0;
    for (unsigned i = 0; i < k; i++) n = (n << 8) | b[p++];
  }
  if (n > limit - p)
    return fail(r, pos, "length %zu of tag 0x%02x runs past the end of its container "
                        "(%zu bytes left; truncated?)", n, id, limit - p);
  t->body = p;
  t->body_len = n;
  t->end = p + n;
  return 0;
}

static int expect(struct reader *r, size_t pos, size_t limit, int depth, unsigned tag,
                  const char *what, struct tlv *t) {
  if (read_tlv(r, pos, limit, depth, t) < 0) return -1;
  if (t->tag != tag)
    return fail(r, pos, "%s expected (tag 0x%02x), found tag 0x%02x", what, tag, t->tag);
  return 0;
}

/* Dotted text of an OID's contents, for error messages. */
static void oid_text(const unsigned char *c, size_t n, char *out, size_t size) {
  size_t k = 0;
  uint64_t v = 0;
  int first = 1;
  out[0] = '\0';
  for (size_t i = 0; i < n && k + 24 < size; i++) {
    if (v > (UINT64_MAX >> 7)) {
      snprintf(out + k, size - k, "%s?", first ? "" : ".");
      return;
    }
    v = (v << 7) | (c[i] & 0x7f);
    if (c[i] & 0x80) continue;
    if (first) {
      unsigned a = v < 40 ? 0 : v < 80 ? 1 : 2;
      k += (size_t)snprintf(out + k, size - k, "%u.%llu", a, (unsigned long long)(v - 40 * a));
      first = 0;
    } else {
      k += (size_t)snprintf(out + k, size - k, ".%llu", (unsigned long long)v);
    }
    v = 0;
  }
  if (first) snprintf(out, size, "(empty)");
}

static int expect_oid(struct reader *r, const struct tlv *t, const unsigned char *oid,
                      size_t n, const char *what, const char *want) {
  if (t->body_len == n && memcmp(r->buf + t->body, oid, n) == 0) return 0;
  char got[128];
  oid_text(r->buf + t->body, t->body_len, got, sizeof(got));
  return fail(r, t->off, "%s is %s, expected %s", what, got, want);
}

static int no_more(struct reader *r, size_t pos, size_t end, const char *what) {
  if (pos == end) return 0;
  return fail(r, pos, "unexpected element after %s", what);
}

struct inflater {
  z_stream zs;
  unsigned char *out;
  size_t cap, used;
  size_t limit; /* the caller's max + 1: reaching it means too large */
  size_t max;
  int done;
};

/* Inflates one segment of the zlib stream. */
static int feed(struct reader *r, struct inflater *f, size_t off, const unsigned char *in,
                size_t n) {
  while (n > 0) {
    if (f->done)
      return fail(r, off, "data after the end of the zlib stream");
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    f->zs.next_in = (Bytef *)in;
    f->zs.avail_in = chunk;
    for (;;) {
      if (f->used == f->cap) {
        if (f->cap >= f->limit)
          return fail(r, off, "inflated content exceeds the limit of %zu bytes "
                              "(as2_max_uncompressed)", f->max);
        size_t nc = f->cap > f->limit / 2 ? f->limit : f->cap * 2;
        unsigned char *o = realloc(f->out, nc);
        if (!o) return fail(r, off, "out of memory inflating %zu bytes", nc);
        f->out = o;
        f->cap = nc;
      }
      size_t room = f->cap - f->used;
      uInt avail = room > (1u << 30) ? (1u << 30) : (uInt)room;
      f->zs.next_out = f->out + f->used;
      f->zs.avail_out = avail;
      int zrc = inflate(&f->zs, Z_NO_FLUSH);
      f->used += avail - f->zs.avail_out;
      if (zrc == Z_STREAM_END) {
        f->done = 1;
        break;
      }
      if (zrc == Z_NEED_DICT)
        return fail(r, off, "zlib stream needs a preset dictionary");
      if (zrc == Z_DATA_ERROR)
        return fail(r, off, "corrupt zlib stream: %s", f->zs.msg ? f->zs.msg : "data error");
      if (zrc == Z_MEM_ERROR) return fail(r, off, "out of memory in zlib");
      if (zrc != Z_OK && zrc != Z_BUF_ERROR) return fail(r, off, "zlib inflate failed (%d)", zrc);
      /* Z_OK or Z_BUF_ERROR: more output room, or more input, is needed */
      if (f->zs.avail_in == 0 && f->zs.avail_out != 0) break;
    }
    size_t used_in = chunk - f->zs.avail_in;
    if (f->done && f->zs.avail_in != 0)
      return fail(r, off + used_in, "data after the end of the zlib stream");
    in += used_in;
    off += used_in;
    n -= used_in;
  }
  return 0;
}

/* Feeds an OCTET STRING, primitive or constructed from segments (BER). */
static int feed_octets(struct reader *r, struct inflater *f, const struct tlv *t, int depth) {
  if (t->tag == TAG_OCTETS) return feed(r, f, t->body, r->buf + t->body, t->body_len);
  if (t->tag != TAG_OCTETS_CONS)
    return fail(r, t->off, "eContent is tag 0x%02x, not an OCTET STRING", t->tag);
  size_t end = t->body + t->body_len;
  for (size_t q = t->body; q < end;) {
    struct tlv c;
    if (read_tlv(r, q, end, depth + 1, &c) < 0) return -1;
    if (feed_octets(r, f, &c, depth + 1) < 0) return -1;
    q = c.end;
  }
  return 0;
}

int as2_cms_zlib_uncompress(const unsigned char *ber, size_t len, size_t max_out,
                            unsigned char **out, size_t *out_len, char *err,
                            size_t err_size) {
  struct reader rd = {ber, err, err_size}, *r = &rd;
  struct tlv ci, ct, c0, cd, ver, alg, alg_oid, params, eci, ect, ec0, os;
  struct inflater f;
  int rc = -1, z_open = 0;
  memset(&f, 0, sizeof(f));
  if (!ber || len == 0) {
    fail(r, 0, "empty input");
    goto out;
  }
  if (expect(r, 0, len, 0, TAG_SEQUENCE, "ContentInfo SEQUENCE", &ci) < 0) goto out;
  for (size_t i = ci.end; i < len; i++) /* a transport may add a line end */
    if (!strchr("\r\n \t", ber[i]) || ber[i] == '\0') {
      fail(r, i, "trailing data after the ContentInfo");
      goto out;
    }
  size_t ci_end = ci.body + ci.body_len;
  if (expect(r, ci.body, ci_end, 1, TAG_OID, "contentType OID", &ct) < 0 ||
      expect_oid(r, &ct, OID_COMPRESSED_DATA, sizeof(OID_COMPRESSED_DATA), "contentType",
                 "id-ct-compressedData (1.2.840.113549.1.9.16.1.9)") < 0 ||
      expect(r, ct.end, ci_end, 1, TAG_CTX0, "content [0]", &c0) < 0 ||
      no_more(r, c0.end, ci_end, "content [0]") < 0)
    goto out;
  size_t c0_end = c0.body + c0.body_len;
  if (expect(r, c0.body, c0_end, 2, TAG_SEQUENCE, "CompressedData SEQUENCE", &cd) < 0 ||
      no_more(r, cd.end, c0_end, "CompressedData") < 0)
    goto out;
  size_t cd_end = cd.body + cd.body_len;
  if (expect(r, cd.body, cd_end, 3, TAG_INTEGER, "version INTEGER", &ver) < 0) goto out;
  if (ver.body_len != 1 || ber[ver.body] != 0) {
    fail(r, ver.off, "CompressedData version is not 0");
    goto out;
  }
  if (expect(r, ver.end, cd_end, 3, TAG_SEQUENCE, "compressionAlgorithm SEQUENCE", &alg) < 0)
    goto out;
  size_t alg_end = alg.body + alg.body_len;
  if (expect(r, alg.body, alg_end, 4, TAG_OID, "compressionAlgorithm OID", &alg_oid) < 0 ||
      expect_oid(r, &alg_oid, OID_ZLIB, sizeof(OID_ZLIB), "compressionAlgorithm",
                 "id-alg-zlibCompress (1.2.840.113549.1.9.16.3.8)") < 0)
    goto out;
  if (alg_oid.end < alg_end) { /* absent per RFC 3274; some writers put NULL */
    if (read_tlv(r, alg_oid.end, alg_end, 4, &params) < 0) goto out;
    if (params.tag != TAG_NULL || params.body_len != 0) {
      fail(r, params.off, "zlib compression parameters must be absent or NULL");
      goto out;
    }
    if (no_more(r, params.end, alg_end, "compressionAlgorithm parameters") < 0) goto out;
  }
  if (expect(r, alg.end, cd_end, 3, TAG_SEQUENCE, "encapContentInfo SEQUENCE", &eci) < 0 ||
      no_more(r, eci.end, cd_end, "encapContentInfo") < 0)
    goto out;
  size_t eci_end = eci.body + eci.body_len;
  if (expect(r, eci.body, eci_end, 4, TAG_OID, "eContentType OID", &ect) < 0 ||
      expect_oid(r, &ect, OID_DATA, sizeof(OID_DATA), "eContentType",
                 "id-data (1.2.840.113549.1.7.1)") < 0)
    goto out;
  if (ect.end == eci_end) {
    fail(r, eci.off, "encapContentInfo has no eContent (detached content is not supported)");
    goto out;
  }
  if (expect(r, ect.end, eci_end, 4, TAG_CTX0, "eContent [0]", &ec0) < 0 ||
      no_more(r, ec0.end, eci_end, "eContent") < 0)
    goto out;
  size_t ec0_end = ec0.body + ec0.body_len;
  if (read_tlv(r, ec0.body, ec0_end, 5, &os) < 0 ||
      no_more(r, os.end, ec0_end, "the eContent OCTET STRING") < 0)
    goto out;

  if (max_out >= SIZE_MAX - 1) max_out = SIZE_MAX - 2;
  f.max = max_out;
  f.limit = max_out + 1;
  /* a first guess from the input size; grows with what zlib produces */
  f.cap = len < SIZE_MAX / 4 ? len * 4 : len;
  if (f.cap < 16384) f.cap = 16384;
  if (f.cap > f.limit) f.cap = f.limit;
  f.out = malloc(f.cap);
  if (!f.out) {
    fail(r, 0, "out of memory");
    goto out;
  }
  if (inflateInit(&f.zs) != Z_OK) {
    fail(r, 0, "zlib inflateInit failed");
    goto out;
  }
  z_open = 1;
  if (feed_octets(r, &f, &os, 5) < 0) goto out;
  if (!f.done) {
    fail(r, os.end, "zlib stream is truncated (no end of stream after %zu inflated bytes)",
         f.used);
    goto out;
  }
  if (f.used > max_out) {
    fail(r, os.off, "inflated content exceeds the limit of %zu bytes (as2_max_uncompressed)",
         max_out);
    goto out;
  }
  unsigned char *o = realloc(f.out, f.used + 1);
  if (!o) {
    fail(r, 0, "out of memory");
    goto out;
  }
  o[f.used] = '\0';
  *out = o;
  *out_len = f.used;
  f.out = NULL;
  rc = 0;
out:
  if (z_open) inflateEnd(&f.zs);
  free(f.out);
  return rc;
}
