/* sap_sim.c - a stand-in for SAP's inbound IDoc-XML HTTP service, for
 * tests and the demo. A real HTTP server on 127.0.0.1 that accepts POSTs of
 * IDoc-XML at /sap/bc/idoc_xml (with ?sap-client=NNN), checks Basic auth,
 * and by mode accepts (200), rejects (a 4xx/5xx status you choose) or hangs
 * (never answers until the client gives up). Every accepted body is
 * written to the record directory as NNNNNN.xml.
 *
 * Usage: sap_sim [--port N] [--user U --password P] [--client NNN]
 *                [--mode accept|reject|hang] [--status CODE]
 *                [--retry-after S] [--record-dir DIR] [--port-file FILE]
 *
 * --port 0 (default) picks a free port; the port is printed on stdout as
 * "port N" (and written to --port-file). The mode can be changed while it
 * runs: POST /control?mode=reject&status=503&retry_after=2 (no auth).
 * GET /control/count answers the number of IDoc-XML requests received.
 * Stops on SIGTERM / SIGINT.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum mode { ACCEPT, REJECT, HANG };

static struct {
  enum mode mode;
  unsigned status, retry_after;
  const char *user, *password, *client, *record_dir;
  unsigned long received, recorded;
} sim = {ACCEPT, 500, 0, NULL, NULL, NULL, NULL, 0, 0};

static volatile sig_atomic_t done;

struct req {
  char *body;
  size_t len, cap;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *text, const char *extra_name,
                              const char *extra_value) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", "text/plain");
  if (extra_name) MHD_add_response_header(r, extra_name, extra_value);
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static int parse_mode(const char *m) {
  if (!m) return -1;
  if (!strcmp(m, "accept")) return ACCEPT;
  if (!strcmp(m, "reject")) return REJECT;
  if (!strcmp(m, "hang")) return HANG;
  return -1;
}

/* Written under a temporary name and renamed: a reader never sees half a
 * request. */
static void record(const char *body, size_t len) {
  if (!sim.record_dir) return;
  char tmp[4096], path[4096];
  unsigned long n = ++sim.recorded;
  snprintf(tmp, sizeof tmp, "%s/.tmp-%06lu.xml", sim.record_dir, n);
  snprintf(path, sizeof path, "%s/%06lu.xml", sim.record_dir, n);
  FILE *f = fopen(tmp, "wb");
  if (!f) return;
  size_t w = fwrite(body, 1, len, f);
  if (fclose(f) == 0 && w == len) rename(tmp, path);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)version;
  struct req *rq = *con_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq) return MHD_NO;
    *con_cls = rq;
    return MHD_YES;
  }
  if (*upload_size) {
    if (rq->len + *upload_size > 64u << 20) return MHD_NO;
    if (rq->len + *upload_size + 1 > rq->cap) {
      size_t cap = (rq->len + *upload_size + 1) * 2;
      char *n = realloc(rq->body, cap);
      if (!n) return MHD_NO;
      rq->body = n;
      rq->cap = cap;
    }
    memcpy(rq->body + rq->len, upload, *upload_size);
    rq->len += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  if (!strcmp(url, "/control/count")) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lu\n", sim.received);
    return answer(c, 200, buf, NULL, NULL);
  }
  if (!strcmp(url, "/control")) {
    const char *m = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    const char *ra = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "retry_after");
    int pm = parse_mode(m);
    if (pm < 0) return answer(c, 400, "mode=accept|reject|hang\n", NULL, NULL);
    sim.mode = (enum mode)pm;
    if (s) sim.status = (unsigned)atoi(s);
    sim.retry_after = ra ? (unsigned)atoi(ra) : 0;
    return answer(c, 200, "ok\n", NULL, NULL);
  }
  if (strcmp(url, "/sap/bc/idoc_xml"))
    return answer(c, 404, "no such service\n", NULL, NULL);
  if (strcmp(method, "POST"))
    return answer(c, 405, "POST IDoc-XML\n", "Allow", "POST");
  if (sim.client) {
    const char *cl = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sap-client");
    if (!cl || strcmp(cl, sim.client))
      return answer(c, 400, "wrong or missing sap-client\n", NULL, NULL);
  }
  if (sim.user) {
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    int ok = user && pass && !strcmp(user, sim.user) &&
             !strcmp(pass, sim.password ? sim.password : "");
    if (user) MHD_free(user);
    if (pass) MHD_free(pass);
    if (!ok) {
      struct MHD_Response *r = MHD_create_response_from_buffer(
          13, (void *)"unauthorized\n", MHD_RESPMEM_PERSISTENT);
      enum MHD_Result ret = MHD_queue_basic_auth_fail_response(c, "SAP", r);
      MHD_destroy_response(r);
      return ret;
    }
  }
  sim.received++;
  if (sim.mode == HANG) {
    /* hold the connection until the client times out or we stop */
    while (!done) usleep(20000);
    return MHD_NO;
  }
  if (sim.mode == REJECT) {
    char ra[16];
    snprintf(ra, sizeof ra, "%u", sim.retry_after);
    return answer(c, sim.status, "IDoc not accepted (simulated)\n",
                  sim.retry_after ? "Retry-After" : NULL, ra);
  }
  if (!rq->len || !memchr(rq->body, '<', rq->len))
    return answer(c, 400, "empty or non-XML body\n", NULL, NULL);
  record(rq->body, rq->len);
  return answer(c, 200, "IDoc created\n", NULL, NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  struct req *rq = *con_cls;
  if (rq) {
    free(rq->body);
    free(rq);
  }
  *con_cls = NULL;
}

static void on_signal(int sig) {
  (void)sig;
  done = 1;
}

int main(int argc, char **argv) {
  unsigned port = 0;
  const char *port_file = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      fprintf(stderr, "sap_sim: %s needs a value\n", a);
      return 2;
    }
    if (!strcmp(a, "--port")) port = (unsigned)atoi(v);
    else if (!strcmp(a, "--user")) sim.user = v;
    else if (!strcmp(a, "--password")) sim.password = v;
    else if (!strcmp(a, "--client")) sim.client = v;
    else if (!strcmp(a, "--status")) sim.status = (unsigned)atoi(v);
    else if (!strcmp(a, "--retry-after")) sim.retry_after = (unsigned)atoi(v);
    else if (!strcmp(a, "--record-dir")) sim.record_dir = v;
    else if (!strcmp(a, "--port-file")) port_file = v;
    else if (!strcmp(a, "--mode")) {
      int m = parse_mode(v);
      if (m < 0) {
        fprintf(stderr, "sap_sim: --mode accept|reject|hang\n");
        return 2;
      }
      sim.mode = (enum mode)m;
    } else {
      fprintf(stderr, "sap_sim: unknown option %s\n", a);
      return 2;
    }
    i++;
  }
  if (sim.record_dir && mkdir(sim.record_dir, 0750) != 0 && errno != EEXIST) {
    fprintf(stderr, "sap_sim: %s: %s\n", sim.record_dir, strerror(errno));
    return 1;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
          MHD_USE_ERROR_LOG,
      (uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &addr,
      MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "sap_sim: cannot listen on 127.0.0.1:%u\n", port);
    return 1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  unsigned bound = info ? info->port : port;
  printf("port %u\n", bound);
  fflush(stdout);
  if (port_file) {
    FILE *f = fopen(port_file, "w");
    if (f) {
      fprintf(f, "%u\n", bound);
      fclose(f);
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  while (!done) pause();
  MHD_stop_daemon(d);
  return 0;
}
