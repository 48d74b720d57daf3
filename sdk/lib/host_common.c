/* host_common.c - the host table members every host shares: the same
 * message, buffer and batch implementation behind the runtime, `dray
 * convert` and the mock host. */
#include <stdlib.h>
#include <time.h>

#include <dray/host.h>

#include "msg_internal.h"

static dray_msg *host_msg_clone(const dray_msg *msg) {
  return dray__msg_clone(msg);
}

static const char *host_msg_type(const dray_msg *msg) {
  return dray__msg_header(msg, "type");
}

static int host_buf_printf(dray_buf *buf, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = dray__buf_vprintf(buf, fmt, ap);
  va_end(ap);
  return rc;
}

static dray_buf *host_buf_new(void) {
  dray_buf *b = malloc(sizeof *b);
  if (b) dray__buf_init(b);
  return b;
}

static void host_buf_free(dray_buf **buf_p) {
  if (!buf_p || !*buf_p) return;
  dray__buf_release(*buf_p);
  free(*buf_p);
  *buf_p = NULL;
}

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t host_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
static int64_t host_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

void dray__host_fill_common(struct dray_host *h) {
  h->struct_size = sizeof *h;
  h->abi_major = DRAY_ABI_MAJOR;
  h->abi_minor = DRAY_ABI_MINOR;
  h->alloc = malloc;
  h->realloc = realloc;
  h->free = free;
  h->msg_clone = host_msg_clone;
  h->msg_free = dray__msg_free;
  h->msg_type = host_msg_type;
  h->msg_body = dray__msg_body;
  h->msg_set_body = dray__msg_set_body;
  h->msg_header = dray__msg_header;
  h->msg_set_header = dray__msg_set_header;
  h->msg_serialize = dray__msg_serialize;
  h->batch_add = dray__batch_add;
  h->buf_append = dray__buf_append;
  h->buf_printf = host_buf_printf;
  h->buf_data = dray__buf_data;
  h->buf_new = host_buf_new;
  h->buf_free = host_buf_free;
  h->monotonic_ns = host_monotonic_ns;
  h->realtime_ns = host_realtime_ns;
}
