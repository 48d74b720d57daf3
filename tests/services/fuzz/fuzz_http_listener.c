/* libFuzzer target for the shared HTTP listener: each input is sent as
 * raw bytes on a fresh TCP connection to a listener running in-process
 * (routes with auth, echo, no-answer handlers; small body limit), the
 * write side is shut, and the answer is read to EOF. What this finds is a
 * crash, sanitizer report or hang in the request path a network client
 * controls: request line, headers, chunked bodies, 413 handling, routing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http_listener.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dray__http *listener;
static uint16_t port;

static dray_status echo(void *state, dray_http_exchange *ex) {
  size_t len = 0;
  const void *body = dray__http_ex_body(ex, &len);
  const char *q = dray__http_ex_query(ex);
  const char *ua = dray__http_ex_header(ex, "user-agent");
  if (q[0] != '\0') dray__http_ex_add_header(ex, "X-Query", q);
  if (ua != NULL) dray__http_ex_add_header(ex, "X-UA", ua);
  dray__http_ex_add_header(ex, "X-Remote", dray__http_ex_remote_addr(ex));
  dray__http_ex_respond(ex, 200, dray__http_ex_header(ex, "content-type"),
                        body, len);
  return DRAY_OK;
}

static dray_status no_answer(void *state, dray_http_exchange *ex) {
  (void)dray__http_ex_path(ex);
  return (dray_status)(dray__http_ex_method(ex)[0] % 5);
}

static int token_auth(void *state, dray_http_exchange *ex) {
  const char *t = dray__http_ex_header(ex, "x-token");
  return t != NULL && strcmp(t, "ok") == 0 ? 0 : 401;
}

static void start_once(void) {
  char err[512];
  struct dray__http_options opt = {"127.0.0.1:0", NULL, NULL, 4096, 2};
  listener = dray__http_new(&opt, err, sizeof err);
  if (listener == NULL ||
      dray__http_route(listener, NULL, "/", echo, NULL, NULL, "root", err,
                       sizeof err) != 0 ||
      dray__http_route(listener, "POST", "/hooks", echo, token_auth, NULL,
                       "hooks", err, sizeof err) != 0 ||
      dray__http_route(listener, NULL, "/none", no_answer, NULL, NULL, "none",
                       err, sizeof err) != 0 ||
      dray__http_start(listener, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_http_listener: %s\n", err);
    abort();
  }
  port = dray__http_port(listener);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (listener == NULL) start_once();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* A complete request is answered and closed at once (the write side is
   * shut below); an incomplete one waits for bytes that never come, so the
   * read gives up after 100 ms. A listener that stops answering shows up
   * as the seed corpus's complete requests timing out (-timeout). */
  struct timeval tv = {0, 100000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return 0;
  }
  size_t off = 0;
  while (off < size) {
    ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (n <= 0) break; /* the listener may close early (413, bad request) */
    off += (size_t)n;
  }
  shutdown(fd, SHUT_WR);
  char buf[4096];
  while (recv(fd, buf, sizeof buf, 0) > 0) {
  }
  /* Reset rather than close: after a half-close libmicrohttpd's epoll loop
   * may not notice a plain close of a connection with an incomplete
   * request and would hold it until its 60 s timeout; a reset it sees at
   * once, so connections do not pile up over a long run. */
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
  return 0;
}
