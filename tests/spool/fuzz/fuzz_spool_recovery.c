/* libFuzzer target: spool recovery (record, segment and checkpoint decoding) on arbitrary files.
 *
 * Input layout: byte 0 = mode. Bit 0 set: a valid checkpoint with low-water mark 1 + (mode >> 4)
 * is written; clear: the next min(1024, n) input bytes are the checkpoint file as is. Then up to
 * four segment files, each as <u16 little-endian length><u8 seq step><bytes>; segment k is named
 * after first seq = previous first + step (+1). The spool is opened (recovery), scanned, read
 * back, appended to and closed. Nothing may crash, leak or trip a sanitizer; every record handed
 * to the scan must respect max_record_bytes. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "spool.h"

#define MAX_REC 4096

static char dir[128];

static void clear_dir(void) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(d);
}

static void remove_dir(void) {
  clear_dir();
  rmdir(dir);
}

static void write_file(const char *name, const uint8_t *b, size_t n) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    abort();
  if (n && write(fd, b, n) != (ssize_t)n)
    abort();
  close(fd);
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void valid_checkpoint(uint64_t low_water) {
  uint8_t f[1024] = {0};
  for (int slot = 0; slot < 2; slot++) {
    uint8_t *b = f + slot * 512;
    put32(b, 0x314B4344u);
    put32(b + 4, 1);
    put64(b + 8, (uint64_t)slot);
    put64(b + 16, low_water);
    put64(b + 24, low_water);
    put32(b + 60, dray__crc32c(0, b, 60));
  }
  write_file("journal.ckpt", f, sizeof f);
}

static int check_cb(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  (void)seq;
  if (len > MAX_REC)
    abort(); /* recovery let an oversized record through */
  volatile uint8_t sink = 0;
  for (uint32_t i = 0; i < len; i++)
    sink ^= ((const uint8_t *)data)[i];
  (void)sink;
  ++*(int *)ctx;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *line) {
  (void)ctx, (void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "%s/dray-fuzz-spool-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir))
      abort();
    atexit(remove_dir);
  }
  clear_dir();
  if (size < 1)
    return 0;
  uint8_t mode = data[0];
  data++, size--;
  if (mode & 1) {
    valid_checkpoint(1 + (mode >> 4));
  } else {
    size_t n = size < 1024 ? size : 1024;
    write_file("journal.ckpt", data, n);
    data += n, size -= n;
  }
  uint64_t first = 0;
  for (int k = 0; k < 4 && size >= 3; k++) {
    size_t len = (size_t)data[0] | ((size_t)data[1] << 8);
    first += 1 + data[2];
    data += 3, size -= 3;
    if (len > size)
      len = size;
    char name[64];
    snprintf(name, sizeof name, "journal-%020llu.seg", (unsigned long long)first);
    write_file(name, data, len);
    data += len, size -= len;
  }
  struct dray__spool_options o = {.dir = dir, .name = "journal", .segment_bytes = 4096,
                                  .max_record_bytes = MAX_REC, .durable = 0, .on_event = quiet};
  char err[512];
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  if (!s)
    return 0;
  int n = 0;
  dray__spool_scan(s, 0, check_cb, &n);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  void *rec;
  uint32_t len;
  if (dray__spool_get(s, st.low_water, &rec, &len) == 0)
    free(rec);
  uint64_t seq;
  if (dray__spool_append(s, "fuzz", 4, &seq) == 0)
    dray__spool_release(s, seq);
  dray__spool_release(s, st.low_water);
  dray__spool_close(&s);
  return 0;
}
