/* cmd_status.c - `dray status`: the running site's instances, breakers
 * and counters, from DATA_DIR/status.json. */
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "site_config.h"

static const char usage[] =
    "usage: dray status -c SITE.yaml [--json]\n"
    "\n"
    "Shows the running site: each instance's plugin, circuit breaker state,\n"
    "messages in flight and counters (delivered, retries, dead letters, ...).\n"
    "Reads DATA_DIR/status.json, which `dray run` rewrites every second.\n"
    "Exit status 1 when the site is not running.\n";

int dray__cmd_status(int argc, char **argv) {
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *config = NULL;
  int as_json = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
    if (c == 'c') config = optarg;
    else if (c == 'j') as_json = 1;
    else if (c == 'h') { fputs(usage, stdout); return 0; }
    else { fputs(usage, stderr); return 2; }
  }
  if (!config) {
    fputs(usage, stderr);
    return 2;
  }
  struct dray__registry reg;
  dray__registry_init(&reg);
  struct dray__site *site = dray__site_load_or_report(config, &reg);
  int code = 1;
  if (!site) goto out;
  char path[4096];
  snprintf(path, sizeof path, "%s/status.json", site->data_dir);
  struct json_object *root = json_object_from_file(path);
  struct stat st;
  int pid = 0;
  if (root) pid = json_object_get_int(json_object_object_get(root, "pid"));
  if (!root || stat(path, &st) != 0 || time(NULL) - st.st_mtime > 5 ||
      (pid > 0 && kill(pid, 0) != 0)) {
    fprintf(stderr, "dray status: site %s is not running (no fresh %s)\n", site->site, path);
    json_object_put(root);
    goto out;
  }
  if (as_json) {
    puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
  } else {
    printf("site %s, pid %d, updated %s\n\n", site->site, pid,
           json_object_get_string(json_object_object_get(root, "updated")));
    printf("%-16s %-16s %-10s %-8s %s\n", "INSTANCE", "PLUGIN", "BREAKER", "INFLIGHT", "COUNTERS");
    struct json_object *list = json_object_object_get(root, "instances");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
      struct json_object *o = json_object_array_get_idx(list, i), *v;
      const char *breaker = json_object_object_get_ex(o, "breaker", &v) ? json_object_get_string(v) : "-";
      char inflight[24] = "-";
      if (json_object_object_get_ex(o, "inflight", &v))
        snprintf(inflight, sizeof inflight, "%lld", (long long)json_object_get_int64(v));
      if (json_object_get_boolean(json_object_object_get(o, "failed"))) breaker = "FAILED";
      printf("%-16s %-16s %-10s %-8s", json_object_get_string(json_object_object_get(o, "name")),
             json_object_get_string(json_object_object_get(o, "plugin")), breaker, inflight);
      json_object_object_foreach(json_object_object_get(o, "metrics"), key, val)
          printf(" %s=%.15g", key, json_object_get_double(val));
      printf("\n");
    }
    struct json_object *j;
    if (json_object_object_get_ex(root, "journal", &j))
      printf("\njournal: %lld records unreleased (%lld bytes); backlog for %d destination(s); "
             "%lld messages queued in it since start\n",
             (long long)json_object_get_int64(json_object_object_get(j, "records")),
             (long long)json_object_get_int64(json_object_object_get(j, "bytes")),
             json_object_get_int(json_object_object_get(j, "backlog_destinations")),
             (long long)json_object_get_int64(json_object_object_get(j, "queued_total")));
  }
  json_object_put(root);
  code = 0;
out:
  dray__site_free(&site);
  dray__registry_release(&reg);
  return code;
}
