/* buf.c - growable byte buffers and message batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"

void dray__buf_init(dray_buf *buf) {
  buf->data = NULL;
  buf->len = 0;
  buf->cap = 0;
}

void dray__buf_release(dray_buf *buf) {
  free(buf->data);
  dray__buf_init(buf);
}

int dray__buf_reserve(dray_buf *buf, size_t extra) {
  if (extra > SIZE_MAX - buf->len - 1) return -1;
  size_t need = buf->len + extra + 1;
  if (need <= buf->cap) return 0;
  size_t cap = buf->cap ? buf->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *data = realloc(buf->data, cap);
  if (!data) return -1;
  buf->data = data;
  buf->cap = cap;
  return 0;
}

int dray__buf_append(dray_buf *buf, const void *data, size_t len) {
  if (dray__buf_reserve(buf, len) != 0) return -1;
  if (len) memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
  return 0;
}

int dray__buf_vprintf(dray_buf *buf, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0 || dray__buf_reserve(buf, (size_t)n) != 0) return -1;
  vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
  buf->len += (size_t)n;
  return 0;
}

int dray__buf_printf(dray_buf *buf, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = dray__buf_vprintf(buf, fmt, ap);
  va_end(ap);
  return rc;
}

int dray__buf_json_string(dray_buf *buf, const char *s) {
  static const char hex[] = "0123456789abcdef";
  if (dray__buf_append(buf, "\"", 1) != 0) return -1;
  const unsigned char *p = (const unsigned char *)s;
  const unsigned char *run = p;
  for (; *p; p++) {
    if (*p >= 0x20 && *p != '"' && *p != '\\') continue;
    if (dray__buf_append(buf, run, (size_t)(p - run)) != 0) return -1;
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (*p) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[*p >> 4];
        esc[5] = hex[*p & 15];
        n = 6;
    }
    if (dray__buf_append(buf, esc, n) != 0) return -1;
    run = p + 1;
  }
  if (dray__buf_append(buf, run, (size_t)(p - run)) != 0) return -1;
  return dray__buf_append(buf, "\"", 1);
}

void dray__batch_init(dray_batch *batch) {
  batch->msgs = NULL;
  batch->count = 0;
  batch->cap = 0;
}

void dray__batch_release(dray_batch *batch) {
  for (size_t i = 0; i < batch->count; i++) dray__msg_free(&batch->msgs[i]);
  free(batch->msgs);
  dray__batch_init(batch);
}

int dray__batch_add(dray_batch *batch, dray_msg **msg_p) {
  if (!msg_p || !*msg_p) return -1;
  if (batch->count == batch->cap) {
    size_t cap = batch->cap ? batch->cap * 2 : 16;
    dray_msg **msgs = realloc(batch->msgs, cap * sizeof *msgs);
    if (!msgs) return -1;
    batch->msgs = msgs;
    batch->cap = cap;
  }
  batch->msgs[batch->count++] = *msg_p;
  *msg_p = NULL;
  return 0;
}

const char *dray__buf_data(const dray_buf *buf, size_t *len) {
  if (len) *len = buf->len;
  return buf->data ? buf->data : "";
}
