/* msg_internal.h - the one implementation of dray_msg, dray_buf and
 * dray_batch, shared by the core runtime and the SDK's mock host so both
 * hosts behave the same. Not installed; not part of the ABI. */
#ifndef DRAY_MSG_INTERNAL_H
#define DRAY_MSG_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <dray/abi.h>

/* One envelope attribute (CloudEvents context attribute or extension).
 * name and value share one allocation, owned through `name`. */
struct dray__attr {
  char *name;
  char *value;
};

struct dray_msg {
  struct dray__attr *attrs; /* "id", "source", "type", ... never "data" */
  size_t attr_count;
  size_t attr_cap;
  char *body; /* JSON text of `data`, NUL-terminated */
  size_t body_len;
  atomic_int refs; /* fan-out shares one message between destinations */
  int minted_id;   /* the id was made by dray__msg_new in this process: it
                    * cannot be a duplicate, ingress de-duplication skips it */
  /* dray__msg_new allocates the message, an attribute array of
   * DRAY__MSG_INLINE_ATTRS and its first attributes in one block: those
   * are not freed one by one (see message.c). */
  int attrs_inline;
  const char *arena_lo, *arena_hi; /* that block's strings, slack and body */
  char *slack, *slack_end;         /* its unused room for later attributes */
  struct dray_msg *next_freed;     /* dray__msg_free_later's stack */
};

#define DRAY__MSG_INLINE_ATTRS 12

struct dray_buf {
  char *data; /* always NUL-terminated when len > 0 */
  size_t len;
  size_t cap;
};

struct dray_batch {
  dray_msg **msgs;
  size_t count;
  size_t cap;
};

/* Writes a new ULID (26 characters + NUL) into out; monotonic within one
 * millisecond; thread-safe. */
void dray__ulid_new(char out[27]);

/* Formats a realtime nanosecond timestamp as RFC 3339 UTC with
 * milliseconds into out (at least 32 bytes). */
void dray__rfc3339(int64_t realtime_ns, char *out, size_t size);

/* Message life cycle. dray__msg_create returns a message with the given
 * attributes unset and an empty body "null"; caller owns it. */
dray_msg *dray__msg_create(void);
/* A new message of `type` from `source`, with id, time, recordedtime and
 * specversion set. Caller owns it; NULL on allocation failure. */
dray_msg *dray__msg_new(const char *source, const char *type,
                        const char *json, size_t json_len);
dray_msg *dray__msg_clone(const dray_msg *msg);
/* Adds a reference (fan-out); each reference is released by msg_free. */
dray_msg *dray__msg_ref(dray_msg *msg);
void dray__msg_free(dray_msg **msg_p);
/* Drops a reference like dray__msg_free, but the last one only queues the
 * message; dray__msg_free_pending frees what is queued. The runtime's
 * delivery workers drop messages this way and the accepting threads free
 * them: glibc frees fastest in the thread (arena) that allocated, and a
 * worker freeing a source's blocks contends with that source's mallocs. */
void dray__msg_free_later(dray_msg **msg_p);
void dray__msg_free_pending(void);
const char *dray__msg_header(const dray_msg *msg, const char *name);
int dray__msg_set_header(dray_msg *msg, const char *name, const char *value);
const char *dray__msg_body(const dray_msg *msg, size_t *len);
int dray__msg_set_body(dray_msg *msg, const char *json, size_t len);
/* Appends the CloudEvents structured JSON form. */
int dray__msg_serialize(const dray_msg *msg, dray_buf *buf);
/* Parses a structured CloudEvent; NULL with a JSON-path error in err. */
dray_msg *dray__msg_parse(const char *json, size_t len, char *err,
                          size_t err_size);
/* Binary form for spools and ipc: "DRM1", u16 attribute count, each
 * attribute as u16 name length + name + u32 value length + value, then
 * u32 body length + body; integers little-endian. Appends to buf. */
int dray__msg_pack(const dray_msg *msg, dray_buf *buf);
/* Reads the binary form; every length is checked against the input before
 * use. NULL with the reason in err. Caller owns the result. */
dray_msg *dray__msg_unpack(const void *data, size_t len, char *err,
                           size_t err_size);
/* Checks the envelope rules a routed message must satisfy (required
 * attributes, names, type form). 0, or -1 with the reason in err. */
int dray__msg_check_envelope(const dray_msg *msg, char *err, size_t size);
/* Nonzero if `name` is a valid attribute name ([a-z0-9]{1,20}). */
int dray__attr_name_valid(const char *name);

/* Buffers and batches. */
void dray__buf_init(dray_buf *buf);
void dray__buf_release(dray_buf *buf);
int dray__buf_append(dray_buf *buf, const void *data, size_t len);
/* Makes room for `extra` more bytes. 0 or -1. */
int dray__buf_reserve(dray_buf *buf, size_t extra);
int dray__buf_vprintf(dray_buf *buf, const char *fmt, va_list ap);
int dray__buf_printf(dray_buf *buf, const char *fmt, ...)
    DRAY_PRINTF(2, 3);
/* Appends `s` as a JSON string literal (quotes and escapes). */
int dray__buf_json_string(dray_buf *buf, const char *s);

const char *dray__buf_data(const dray_buf *buf, size_t *len);

void dray__batch_init(dray_batch *batch);
void dray__batch_release(dray_batch *batch);
int dray__batch_add(dray_batch *batch, dray_msg **msg_p);

/* Fills the members of a host table that do not depend on the instance
 * (allocator, message accessors, buffers, batches, clocks). Each host fills
 * the rest: logging, config, msg_new/msg_parse, emit, errors, metrics,
 * state, HTTP. */
struct dray_host;
void dray__host_fill_common(struct dray_host *host);

#endif
