/* as2_mime.c - see as2_mime.h. */
#include "as2_mime.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int as2_entity_split(const char *data, size_t len, struct as2_entity *e) {
  for (size_t i = 0; i + 1 < len; i++) {
    if (data[i] == '\n' && data[i + 1] == '\n') {
      e->headers = data;
      e->headers_len = i;
      e->body = data + i + 2;
      e->body_len = len - i - 2;
      return 0;
    }
    if (i + 3 < len && !memcmp(data + i, "\r\n\r\n", 4)) {
      e->headers = data;
      e->headers_len = i;
      e->body = data + i + 4;
      e->body_len = len - i - 4;
      return 0;
    }
  }
  return -1;
}

int as2_header(const char *h, size_t len, const char *name, char *out,
               size_t size) {
  size_t n = strlen(name);
  size_t i = 0;
  while (i < len) {
    size_t eol = i;
    while (eol < len && h[eol] != '\n') eol++;
    if (eol - i > n && !strncasecmp(h + i, name, n) && h[i + n] == ':') {
      size_t k = 0, j = i + n + 1;
      for (;;) {
        for (; j < eol && k + 1 < size; j++)
          if (h[j] != '\r') out[k++] = h[j];
        /* folded continuation lines start with a blank */
        if (eol + 1 < len && (h[eol + 1] == ' ' || h[eol + 1] == '\t')) {
          j = eol + 1;
          eol = j;
          while (eol < len && h[eol] != '\n') eol++;
          if (k + 1 < size) out[k++] = ' ';
          continue;
        }
        break;
      }
      out[k] = '\0';
      /* trim blanks and one pair of surrounding quotes */
      char *s = out;
      while (*s == ' ' || *s == '\t') s++;
      size_t m = strlen(s);
      while (m && (s[m - 1] == ' ' || s[m - 1] == '\t')) s[--m] = '\0';
      if (m >= 2 && s[0] == '"' && s[m - 1] == '"') {
        s[m - 1] = '\0';
        s++;
        /* \" inside a quoted header value (seen from ph-OpenAS2) */
        char *d = s;
        for (char *c = s; *c; c++) {
          if (c[0] == '\\' && c[1] == '"') c++;
          *d++ = *c;
        }
        *d = '\0';
      }
      memmove(out, s, strlen(s) + 1);
      return 0;
    }
    i = eol + 1;
  }
  return -1;
}

int as2_param(const char *value, const char *name, char *out, size_t size) {
  size_t n = strlen(name);
  const char *p = strchr(value, ';');
  while (p) {
    p++;
    while (*p == ' ' || *p == '\t') p++;
    if (!strncasecmp(p, name, n) && p[n] == '=') {
      p += n + 1;
      size_t k = 0;
      if (*p == '"') {
        p++;
        while (*p && *p != '"' && k + 1 < size) out[k++] = *p++;
      } else {
        while (*p && *p != ';' && *p != ' ' && k + 1 < size) out[k++] = *p++;
      }
      out[k] = '\0';
      return 0;
    }
    p = strchr(p, ';');
  }
  return -1;
}

int as2_type_is(const char *ct, const char *type) {
  size_t n = strlen(type);
  while (*ct == ' ') ct++;
  return !strncasecmp(ct, type, n) &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int as2_multipart_part(const char *body, size_t len, const char *boundary,
                       int index, const char **part, size_t *part_len) {
  size_t bl = strlen(boundary);
  const char *end = body + len;
  const char *p = body;
  int found = -1;
  const char *start = NULL;
  while (p + 2 + bl <= end) {
    /* a delimiter line: "--boundary" at a line start */
    if ((p == body || p[-1] == '\n') && p[0] == '-' && p[1] == '-' &&
        !memcmp(p + 2, boundary, bl)) {
      if (start) {
        /* the CRLF before the delimiter belongs to the delimiter */
        const char *stop = p;
        if (stop > start && stop[-1] == '\n') stop--;
        if (stop > start && stop[-1] == '\r') stop--;
        if (found == index) {
          *part = start;
          *part_len = (size_t)(stop - start);
          return 0;
        }
      }
      const char *q = p + 2 + bl;
      if (q + 1 < end && q[0] == '-' && q[1] == '-') return -1; /* close */
      while (q < end && *q != '\n') q++;
      start = q < end ? q + 1 : end;
      found++;
      p = start;
      continue;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) break;
    p = nl + 1;
  }
  return -1;
}

int as2_base64_decode(const char *in, size_t len, unsigned char **out,
                      size_t *out_len) {
  char *clean = malloc(len + 4);
  if (!clean) return -1;
  size_t k = 0;
  for (size_t i = 0; i < len; i++)
    if (isalnum((unsigned char)in[i]) || in[i] == '+' || in[i] == '/' ||
        in[i] == '=')
      clean[k++] = in[i];
  while (k % 4) clean[k++] = '=';
  unsigned char *buf = malloc(k / 4 * 3 + 1);
  if (!buf) {
    free(clean);
    return -1;
  }
  int n = k ? EVP_DecodeBlock(buf, (unsigned char *)clean, (int)k) : 0;
  if (n < 0) {
    free(clean);
    free(buf);
    return -1;
  }
  /* EVP_DecodeBlock counts padding as zero bytes */
  size_t pad = 0;
  if (k >= 1 && clean[k - 1] == '=') pad++;
  if (k >= 2 && clean[k - 2] == '=') pad++;
  free(clean);
  *out = buf;
  *out_len = (size_t)n - pad;
  return 0;
}

char *as2_base64_encode(const unsigned char *in, size_t len, size_t *out_len) {
  size_t raw = 4 * ((len + 2) / 3);
  char *tmp = malloc(raw + 1);
  char *out = malloc(raw + raw / 76 * 2 + 3);
  if (!tmp || !out) {
    free(tmp);
    free(out);
    return NULL;
  }
  EVP_EncodeBlock((unsigned char *)tmp, in, (int)len);
  size_t k = 0;
  for (size_t i = 0; i < raw; i++) {
    out[k++] = tmp[i];
    if ((i + 1) % 76 == 0 && i + 1 < raw) {
      out[k++] = '\r';
      out[k++] = '\n';
    }
  }
  out[k] = '\0';
  free(tmp);
  *out_len = k;
  return out;
}

char *as2_entity_build(const char *content_type, const char *body, size_t len,
                       size_t *out_len) {
  int canonical = 1;
  for (size_t i = 0; i < len && canonical; i++) {
    unsigned char c = (unsigned char)body[i];
    if (c == '\n' && (i == 0 || body[i - 1] != '\r')) canonical = 0;
    else if (c == '\r' && (i + 1 >= len || body[i + 1] != '\n')) canonical = 0;
    else if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c >= 0x7f) canonical = 0;
  }
  char hdr[300];
  const char *data = body;
  size_t dlen = len;
  char *b64 = NULL;
  if (canonical) {
    snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\nContent-Transfer-Encoding: binary\r\n\r\n",
             content_type);
  } else {
    b64 = as2_base64_encode((const unsigned char *)body, len, &dlen);
    if (!b64) return NULL;
    data = b64;
    snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n\r\n",
             content_type);
  }
  size_t hl = strlen(hdr);
  char *out = malloc(hl + dlen + 3);
  if (out) {
    memcpy(out, hdr, hl);
    memcpy(out + hl, data, dlen);
    *out_len = hl + dlen;
    if (!canonical) { /* end the base64 lines with CRLF */
      memcpy(out + *out_len, "\r\n", 2);
      *out_len += 2;
    }
    out[*out_len] = '\0';
  }
  free(b64);
  return out;
}
