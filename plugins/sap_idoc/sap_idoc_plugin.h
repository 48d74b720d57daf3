/* sap_idoc_plugin.h - the sap_idoc instance state shared by the plugin
 * glue (sap_idoc.c), the file port, the HTTP port and the outbox. */
#ifndef SAP_IDOC_PLUGIN_H
#define SAP_IDOC_PLUGIN_H

#include <limits.h>
#include <pthread.h>

#include <dray/dray.h>

#include "idoc.h"
#include "idoc_map.h"

struct sap_outbox;

/* At most this many idle sets are kept, holding at most
 * SAP_SET_POOL_BYTES together (a bigger document's set is freed). */
#define SAP_SET_POOL 4
#define SAP_SET_POOL_BYTES ((size_t)256 << 20)

struct sap_idoc {
  const struct dray_host *host;
  dray_instance *inst;
  idoc_registry *reg;

  int port_http;  /* port: http, else file */
  int format_xml; /* format: xml, else flat */
  int per_batch;  /* file_mode: per_batch */
  int validate;
  struct idoc_flat_opts flat;
  struct idoc_map_opts map;
  char tz[8];

  const char *inbound_dir, *outbound_dir;
  int64_t stable_age_ms;
  char processing[PATH_MAX]; /* inbound_dir/processing: claimed files */
  /* messages of the file being emitted, resumed after backpressure */
  dray_msg **pending;
  size_t npending, pending_next;
  char current[NAME_MAX + 1];
  /* Idle IDoc sets, reused by every decode (file port, HTTP port, codec
   * decode): the first touch of fresh pages costs a large part of an XML
   * decode. Guarded by `lock`. */
  idoc_set *pool[SAP_SET_POOL];
  size_t npool, pool_bytes;

  /* toward SAP */
  char mandt[4];
  const char *sndpor, *sndprt, *sndprn, *rcvpor, *rcvprt, *rcvprn;
  const char *sap_url, *username, *password, *ca_file;
  int tls_verify;
  int64_t http_timeout_ms;
  const char *http_path, *in_user, *in_password;
  int64_t batch_max, batch_interval_ms;
  double rate_limit_per_s;
  double tokens;     /* rate limit bucket */
  int64_t tokens_at; /* monotonic ns of the last refill */
  pthread_mutex_t lock;
  struct sap_outbox *outbox; /* batching: NULL when batch_max <= 1 */
};

/* --- sap_idoc.c ----------------------------------------------------- */

/* Decodes a document (flat or XML, told apart by its first byte), validates
 * it and maps every IDoc. Each canonical message goes to `sink` (which
 * takes ownership) as a dray_msg with its headers set. Returns DRAY_OK, or
 * DRAY_REJECT with the error set and copied to errbuf (messages already
 * handed over stay). The IDocs are decoded into a set taken from the
 * instance's pool (its memory kept between documents) and given back.
 * Safe to call from several threads. */
typedef int (*sap_msg_sink)(void *ctx, dray_msg **msg);
dray_status sap_idoc_decode_doc(struct sap_idoc *s, const char *data,
                                size_t len, const char *origin,
                                sap_msg_sink sink, void *ctx, char *errbuf,
                                size_t errsize);
/* The pool: take returns an empty set (NULL when out of memory); give
 * keeps it for the next decode, or frees it when the pool is full or the
 * set is too big. */
idoc_set *sap_set_take(struct sap_idoc *s);
void sap_set_give(struct sap_idoc *s, idoc_set **set_p);
void sap_set_pool_free(struct sap_idoc *s);
/* Builds the native form (per `format`) of one canonical message into a
 * malloc'd buffer. DRAY_OK; DRAY_REJECT with the error set on bad input;
 * *skipped = 1 (and DRAY_OK) when the message is not relevant to the ERP.
 * *set_out receives the IDoc set (caller destroys) when non-NULL. */
dray_status sap_idoc_build(struct sap_idoc *s, const dray_msg *msg,
                           idoc_set **set_out, int *skipped);
/* Serializes a set in the configured format. 0 or -1 (err set). */
int sap_idoc_serialize(struct sap_idoc *s, const idoc_set *set, int xml,
                       char **out, size_t *len);
/* Takes a token from the rate limiter; 0, or the milliseconds to wait. */
int64_t sap_idoc_rate_wait(struct sap_idoc *s);

/* --- idoc_port_file.c ----------------------------------------------- */
int sap_file_init(struct sap_idoc *s);
dray_status sap_file_poll(struct sap_idoc *s, int *worked);
/* Writes one outbound document (temp file, fsync, rename, dir fsync). */
dray_status sap_file_write(struct sap_idoc *s, const char *data, size_t len,
                           const char *stem);
void sap_file_cleanup(struct sap_idoc *s);

/* --- idoc_port_http.c ----------------------------------------------- */
int sap_http_init(struct sap_idoc *s); /* registers the inbound route */
/* POSTs IDoc-XML to SAP. OK; RETRY (retry-after set) on 5xx, 429,
 * timeouts and connection errors; REJECT on other 4xx. */
dray_status sap_http_post(struct sap_idoc *s, const char *xml, size_t len);

/* --- idoc_outbox.c -------------------------------------------------- */
/* Batching toward SAP: accepted IDocs are spooled durably in the data
 * directory; a thread sends them batch_max at a time (or after
 * batch_interval_ms), within the rate limit. */
struct sap_outbox *sap_outbox_new(struct sap_idoc *s);
int sap_outbox_start(struct sap_outbox *o);
void sap_outbox_stop(struct sap_outbox *o);
void sap_outbox_destroy(struct sap_outbox **o);
/* Spools one IDoc set (as XML). DRAY_OK once durable. */
dray_status sap_outbox_put(struct sap_outbox *o, const idoc_set *set,
                           const char *stem);
/* Sends what is due now (also called by the thread); returns the number
 * of IDocs sent, or -1. */
int sap_outbox_flush(struct sap_outbox *o, int force);

#endif
