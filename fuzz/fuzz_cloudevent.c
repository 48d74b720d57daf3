/* fuzz_cloudevent.c - the CloudEvent parser: whatever it accepts must
 * serialize and parse back to the same attributes and body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  dray_msg *msg = dray__msg_parse((const char *)data, size, err, sizeof err);
  if (!msg) return 0;
  dray_buf buf;
  dray__buf_init(&buf);
  if (dray__msg_serialize(msg, &buf) != 0) abort();
  dray_msg *back = dray__msg_parse(buf.data, buf.len, err, sizeof err);
  if (!back) abort(); /* our own output must parse */
  if (back->attr_count != msg->attr_count) abort();
  for (size_t i = 0; i < msg->attr_count; i++) {
    const char *v = dray__msg_header(back, msg->attrs[i].name);
    if (!v || strcmp(v, msg->attrs[i].value) != 0) abort();
  }
  dray__buf_release(&buf);
  dray__msg_free(&back);
  dray__msg_free(&msg);
  return 0;
}
