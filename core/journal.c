/* journal.c - ingress journal records (see journal.h). */
#include "journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put_str(dray_buf *out, const char *s) {
  size_t n = strlen(s);
  unsigned char len[2] = {(unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
  return n > 0xffff || dray__buf_append(out, len, 2) != 0 || dray__buf_append(out, s, n) != 0
             ? -1 : 0;
}

int dray__journal_encode(dray_buf *out, const char *source, const char *const *dests,
                         size_t dest_count, unsigned flags, const dray_msg *msg) {
  unsigned char count[2] = {(unsigned char)(dest_count & 0xff), (unsigned char)(dest_count >> 8)};
  unsigned char head[5] = {'D', 'R', 'J', '2', (unsigned char)flags};
  if (dest_count > 0xffff || flags > 0xff || dray__buf_append(out, head, 5) != 0 ||
      put_str(out, source) != 0 ||
      dray__buf_append(out, count, 2) != 0)
    return -1;
  for (size_t i = 0; i < dest_count; i++)
    if (put_str(out, dests[i]) != 0) return -1;
  return dray__msg_pack(msg, out);
}

static int get_str(const unsigned char **p, size_t *left, char **out) {
  if (*left < 2) return -1;
  size_t n = (size_t)(*p)[0] | (size_t)(*p)[1] << 8;
  if (*left - 2 < n) return -1;
  *out = strndup((const char *)*p + 2, n);
  if (!*out || strlen(*out) != n) return -1;
  *p += 2 + n;
  *left -= 2 + n;
  return 0;
}

void dray__journal_record_release(struct dray__journal_record *rec) {
  free(rec->source);
  for (size_t i = 0; rec->dests && i < rec->dest_count; i++) free(rec->dests[i]);
  free(rec->dests);
  dray__msg_free(&rec->msg);
  memset(rec, 0, sizeof *rec);
}

int dray__journal_peek_flags(const void *data, size_t len) {
  const unsigned char *p = data;
  if (len >= 4 && memcmp(p, "DRJ1", 4) == 0) return 0;
  if (len >= 5 && memcmp(p, "DRJ2", 4) == 0) return p[4];
  return -1;
}

int dray__journal_decode(const void *data, size_t len, struct dray__journal_record *rec,
                         char *err, size_t err_size) {
  const unsigned char *p = data;
  size_t left = len;
  memset(rec, 0, sizeof *rec);
  int flags = dray__journal_peek_flags(data, len);
  if (flags < 0) {
    snprintf(err, err_size, "journal record: bad magic");
    return -1;
  }
  rec->flags = (unsigned)flags;
  size_t head = p[3] == '1' ? 4 : 5;
  p += head;
  left -= head;
  if (get_str(&p, &left, &rec->source) != 0 || left < 2) goto truncated;
  size_t count = (size_t)p[0] | (size_t)p[1] << 8;
  p += 2;
  left -= 2;
  rec->dests = calloc(count + 1, sizeof *rec->dests);
  if (!rec->dests) goto truncated;
  for (size_t i = 0; i < count; i++) {
    if (get_str(&p, &left, &rec->dests[i]) != 0) goto truncated;
    rec->dest_count++;
  }
  rec->msg = dray__msg_unpack(p, left, err, err_size);
  if (!rec->msg) {
    dray__journal_record_release(rec);
    return -1;
  }
  return 0;
truncated:
  snprintf(err, err_size, "journal record: truncated or malformed header");
  dray__journal_record_release(rec);
  return -1;
}
