/* fuzz_packed.c - the binary message form read back from spools: any
 * input is refused cleanly or round-trips exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  dray_msg *msg = dray__msg_unpack(data, size, err, sizeof err);
  if (!msg) return 0;
  dray_buf buf;
  dray__buf_init(&buf);
  if (dray__msg_pack(msg, &buf) != 0) abort();
  /* attributes are unique after set_attr, so a re-pack of input with
   * duplicates may be shorter; it must still unpack to the same message */
  dray_msg *back = dray__msg_unpack(buf.data, buf.len, err, sizeof err);
  if (!back || back->body_len != msg->body_len ||
      memcmp(back->body, msg->body, msg->body_len) != 0)
    abort();
  dray__buf_release(&buf);
  dray__msg_free(&back);
  dray__msg_free(&msg);
  return 0;
}
