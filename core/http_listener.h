/* core/http_listener.h - the shared inbound HTTP(S) listener plugins
 * register routes on (host table: http_route and the http_* exchange
 * accessors, see dray/host.h).
 *
 * One libmicrohttpd daemon per site: one polling thread does the network
 * I/O (and TLS), and a fixed set of handler threads runs the plugins. A
 * request is dispatched by path prefix (longest wins) and method; its whole
 * body is read first (bounded by max_body_bytes, 413 past it), then, on a
 * handler thread, the route's auth hook runs (a non-zero answer is sent as
 * the status and the handler is never called), then the handler, which
 * answers synchronously with dray__http_ex_respond before returning.
 * Handlers may block (emit waits for durability): a blocked handler holds
 * its handler thread only, never another client's connection; requests
 * beyond `threads` running handlers wait in a queue.
 *
 * Status answers the listener gives by itself:
 *   404  no route's prefix matches the path
 *   405  a prefix matches but not the method (Allow lists the methods)
 *   413  body larger than max_body_bytes (known from Content-Length: sent
 *        before the body is read; chunked: after it, and a chunked body
 *        running past twice the limit has its connection closed instead)
 *   500  handler returned DRAY_OK or DRAY_FATAL without answering
 *   503  handler returned DRAY_RETRY without answering (Retry-After: 1
 *        unless the handler added its own), or the listener is stopping
 *   400  handler returned DRAY_REJECT without answering
 */
#ifndef DRAY_CORE_HTTP_LISTENER_H
#define DRAY_CORE_HTTP_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include <dray/host.h>

struct dray__http_options {
  /* "HOST:PORT": an IPv4 address, a host name, "[IPv6]", or "*" / "" for
   * every address. Port 0 binds an ephemeral port (dray__http_port). */
  const char *listen;
  /* PEM files; both NULL for plain HTTP, both set for HTTPS. */
  const char *tls_cert_file;
  const char *tls_key_file;
  size_t max_body_bytes; /* 413 above this; 0 means 16 MiB */
  unsigned threads;      /* handler threads; 0 means 4, at most 256 */
};

typedef struct dray__http dray__http;

/* Checks the options (listen address syntax, TLS files readable and TLS
 * compiled into libmicrohttpd) without binding yet. Caller owns the result
 * (dray__http_destroy). NULL with the reason, naming the option, in err. */
dray__http *dray__http_new(const struct dray__http_options *opt, char *err,
                           size_t err_size);

/* Registers `handler` (and the optional `auth` hook) for requests whose
 * path starts with `path_prefix` at a segment boundary ("/hooks" matches
 * "/hooks" and "/hooks/ups", not "/hooksx"; a prefix ending in '/' matches
 * anything below it) and whose method is `method` (NULL: any; compared
 * case-insensitively at registration, stored upper-case; HEAD requests
 * also match GET routes). The longest matching prefix wins; among its
 * routes an exact method beats NULL.
 * plugin_state is passed to handler and auth; owner_name (the instance
 * name, copied) appears in errors. Routes may be added before or after
 * dray__http_start, from any thread. Returns -1 with err set if the prefix
 * belongs to another owner, the same (prefix, method) is registered twice,
 * or an argument is malformed (prefix must start with '/'). */
int dray__http_route(dray__http *h, const char *method,
                     const char *path_prefix, dray_http_handler handler,
                     dray_http_auth auth, void *plugin_state,
                     const char *owner_name, char *err, size_t err_size);

/* Binds and starts serving. Returns 0, or -1 with err naming the address
 * (e.g. "http.listen 127.0.0.1:8080: cannot start listener: ... Address
 * already in use"). Call once. */
int dray__http_start(dray__http *h, char *err, size_t err_size);

/* The bound port once started (the real one when listen asked for 0);
 * 0 before start. */
uint16_t dray__http_port(const dray__http *h);

/* Stops the listener: new and still queued requests get 503, running
 * handlers are waited for (however long they take), answers already built
 * get up to 2 s to reach their clients, then the daemon and its threads
 * stop and every route is freed.
 * Sets *self_p to NULL; NULL is a no-op. Must not be called from a
 * handler. */
void dray__http_destroy(dray__http **self_p);

/* Exchange accessors, with exactly the host table's signatures (the
 * runtime's host table points at them). Valid only inside the auth hook or
 * the handler, on the thread that called it; returned strings live until
 * the handler returns. An answer given by the auth hook before it refuses
 * replaces the default refusal text. */
const char *dray__http_ex_method(dray_http_exchange *ex);
/* Decoded path without the query string. */
const char *dray__http_ex_path(dray_http_exchange *ex);
/* Raw query string without '?', or "". */
const char *dray__http_ex_query(dray_http_exchange *ex);
/* Request header by case-insensitive name, or NULL. */
const char *dray__http_ex_header(dray_http_exchange *ex, const char *name);
/* The whole request body (len may be NULL); never NULL: "" when empty. */
const void *dray__http_ex_body(dray_http_exchange *ex, size_t *len);
/* Client address as text ("127.0.0.1", "::1"). */
const char *dray__http_ex_remote_addr(dray_http_exchange *ex);
/* Adds a response header (copied); before dray__http_ex_respond. Returns
 * -1 for a name that is not an HTTP token, a framing header the listener
 * owns (Content-Length, Transfer-Encoding, Connection), a value with CR/LF
 * (header injection) or an empty value (libmicrohttpd cannot send one),
 * or after the answer was sent. */
int dray__http_ex_add_header(dray_http_exchange *ex, const char *name,
                             const char *value);
/* Sends the answer (status 100..599; body copied; content_type may be
 * NULL). Once per exchange: a second call returns -1. */
int dray__http_ex_respond(dray_http_exchange *ex, int status,
                          const char *content_type, const void *body,
                          size_t len);

#endif
