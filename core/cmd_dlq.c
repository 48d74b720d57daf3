/* cmd_dlq.c - `dray dlq list|show|replay|purge`. When no runtime holds
 * the data_dir, the command opens the spools itself; when one does, it
 * leaves a request in DATA_DIR/requests/ and prints the runtime's answer
 * as it is written. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "dlq_ops.h"
#include <dray-sdk/files.h>
#include "msg_internal.h"
#include "site_config.h"

static const char usage[] =
    "usage: dray dlq list|show|replay|purge -c SITE.yaml [filters] [--json]\n"
    "\n"
    "Dead letters are messages no attempt could deliver, kept with the failure\n"
    "context (instance, plugin, error class, error, attempts, first and last\n"
    "failure, idempotency key).\n"
    "  list     one line per dead letter (--json: one JSON object per line)\n"
    "  show     each matching dead letter in full, with its message\n"
    "  replay   sends each matching message again to the instance that\n"
    "           refused it, with its original id and idempotency key\n"
    "  purge    deletes the matching dead letters\n"
    "filters: --instance NAME  --type GLOB  --class ERROR_CLASS  --id MESSAGE_ID\n"
    "         --seq N  --since RFC3339  --until RFC3339 (last failure)\n"
    "replay and purge need a filter or --all. Works with the site running\n"
    "(through the runtime) or stopped (directly on DATA_DIR).\n";

static int run_offline(const struct dray__site *site, const struct dray__dlq_op *op) {
  char dir[4096], err[512] = "";
  snprintf(dir, sizeof dir, "%s/journal", site->data_dir);
  struct dray__spool_options jo = {.dir = dir, .name = "journal", .durable = 1};
  dray__spool *journal = dray__spool_open(&jo, err, sizeof err);
  snprintf(dir, sizeof dir, "%s/dlq", site->data_dir);
  struct dray__spool_options dlo = {.dir = dir, .name = "dlq", .durable = 1};
  dray__spool *dlq = journal ? dray__spool_open(&dlo, err, sizeof err) : NULL;
  long n = -1;
  if (dlq) n = dray__dlq_run(dlq, journal, op, NULL, NULL, stdout, stderr, err, sizeof err);
  if (n < 0) fprintf(stderr, "dray dlq: %s\n", err);
  else if (op->action == DRAY_DLQ_REPLAY)
    fprintf(stderr, "%ld replayed into the journal; delivered when the site starts\n", n);
  dray__spool_close(&dlq);
  dray__spool_close(&journal);
  return n < 0 ? 1 : 0;
}

/* Streams what the runtime writes to PATH.partial until PATH.status
 * appears (bounded wait). */
static int run_online(const struct dray__site *site, const struct dray__dlq_op *op) {
  char dir[4096], base[4200], tmp[4300], path[4300], id[27];
  snprintf(dir, sizeof dir, "%s/requests", site->data_dir);
  if (dray_files_mkdirs(dir) != 0) {
    fprintf(stderr, "dray dlq: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  dray__ulid_new(id);
  snprintf(base, sizeof base, "%s/%s", dir, id);
  snprintf(tmp, sizeof tmp, "%s.req.tmp", base);
  snprintf(path, sizeof path, "%s.req", base);
  struct json_object *req = dray__dlq_op_to_json(op);
  int rc = json_object_to_file(tmp, req);
  json_object_put(req);
  if (rc != 0 || rename(tmp, path) != 0) {
    fprintf(stderr, "dray dlq: cannot write %s\n", path);
    return 1;
  }
  char partial[4300], status[4300];
  snprintf(partial, sizeof partial, "%s.out", base);
  snprintf(status, sizeof status, "%s.status", base);
  long offset = 0;
  for (int waited = 0; waited < 600; waited++) { /* up to 2 minutes to start */
    FILE *f = fopen(partial, "r");
    if (f) {
      fseek(f, offset, SEEK_SET);
      char buf[8192];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        fwrite(buf, 1, n, stdout);
        offset += (long)n;
        waited = 0;
      }
      fclose(f);
      fflush(stdout);
    }
    struct json_object *st = json_object_from_file(status);
    if (st) {
      int code = json_object_get_int(json_object_object_get(st, "code"));
      const char *e = json_object_get_string(json_object_object_get(st, "error"));
      if (e && *e) fprintf(stderr, "dray dlq: %s\n", e);
      json_object_put(st);
      unlink(partial);
      unlink(status);
      return code;
    }
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "dray dlq: the running site did not answer (request %s)\n", path);
  return 1;
}

int dray__cmd_dlq(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, 0, 'c'}, {"instance", required_argument, 0, 'i'},
      {"type", required_argument, 0, 't'},   {"class", required_argument, 0, 'C'},
      {"id", required_argument, 0, 'I'},     {"seq", required_argument, 0, 'n'},
      {"since", required_argument, 0, 's'},  {"until", required_argument, 0, 'u'},
      {"json", no_argument, 0, 'j'},         {"all", no_argument, 0, 'a'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  struct dray__dlq_op op;
  const char *config = NULL;
  int all = 0, c;
  memset(&op, 0, sizeof op);
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  static const char *const actions[] = {"list", "show", "replay", "purge"};
  int found = 0;
  for (int i = 0; i < 4; i++)
    if (strcmp(argv[1], actions[i]) == 0) {
      op.action = (enum dray__dlq_action)i;
      found = 1;
    }
  if (!found) {
    fprintf(stderr, "dray dlq: unknown action \"%s\"\n\n%s", argv[1], usage);
    return 2;
  }
  optind = 1;
  argc--, argv++;
  while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    switch (c) {
      case 'c': config = optarg; break;
      case 'i': op.filter.instance = optarg; break;
      case 't': op.filter.type_glob = optarg; break;
      case 'C': op.filter.error_class = optarg; break;
      case 'I': op.filter.id = optarg; break;
      case 'n': op.filter.seq = strtoull(optarg, NULL, 10); break;
      case 's': op.filter.since = optarg; break;
      case 'u': op.filter.until = optarg; break;
      case 'j': op.json = 1; break;
      case 'a': all = 1; break;
      case 'h': fputs(usage, stdout); return 0;
      default: fputs(usage, stderr); return 2;
    }
  }
  const struct dray__dlq_filter *f = &op.filter;
  int filtered = f->instance || f->type_glob || f->error_class || f->id || f->seq || f->since ||
                 f->until;
  if ((op.action == DRAY_DLQ_REPLAY || op.action == DRAY_DLQ_PURGE) && !filtered && !all) {
    fprintf(stderr, "dray dlq %s: give a filter, or --all for every dead letter\n", argv[0]);
    return 2;
  }
  if (!config) {
    fputs(usage, stderr);
    return 2;
  }
  struct dray__registry reg;
  dray__registry_init(&reg);
  struct dray__site *site = dray__site_load_or_report(config, &reg);
  int code = 1;
  if (site) {
    char lock_path[4096];
    snprintf(lock_path, sizeof lock_path, "%s/dray.lock", site->data_dir);
    dray_files_mkdirs(site->data_dir);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
      code = run_offline(site, &op);
    } else {
      code = run_online(site, &op);
    }
    if (fd >= 0) close(fd);
  }
  dray__site_free(&site);
  dray__registry_release(&reg);
  return code;
}
