/* cmd_run.c - `dray run` and `dray check`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "runtime.h"
#include "site_config.h"

static const char run_usage[] =
    "usage: dray run -c SITE.yaml\n"
    "\n"
    "Loads the site's plugin instances, starts them and routes messages\n"
    "between them until SIGTERM or SIGINT, then drains within the site's\n"
    "shutdown_timeout_ms. SIGHUP re-reads the file and replaces the routes.\n"
    "Exit status: 0 after a clean drain, 1 on a runtime error or undelivered\n"
    "messages, 2 when the site file has errors.\n";

static const char check_usage[] =
    "usage: dray check -c SITE.yaml\n"
    "\n"
    "Checks a site file without running it: YAML syntax, unknown keys, types,\n"
    "plugins on the plugin path, each instance's config against its plugin's\n"
    "schema, routes to missing instances and routing cycles. Prints every\n"
    "error as FILE:LINE:COL: message and exits 1, or exits 0.\n";

/* -c FILE / --config FILE; returns NULL after printing usage. */
static const char *config_arg(int argc, char **argv, const char *usage,
                              int *help) {
  static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *path = NULL;
  int c;
  *help = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
    if (c == 'c') path = optarg;
    else if (c == 'h') *help = 1;
    else {
      fputs(usage, stderr);
      return NULL;
    }
  }
  if (*help) {
    fputs(usage, stdout);
    return NULL;
  }
  if (!path && optind < argc) path = argv[optind];
  if (!path) fputs(usage, stderr);
  return path;
}

int dray__cmd_run(int argc, char **argv) {
  int help;
  const char *path = config_arg(argc, argv, run_usage, &help);
  if (!path) return help ? 0 : 2;
  return dray__run(path);
}

int dray__cmd_check(int argc, char **argv) {
  int help;
  const char *path = config_arg(argc, argv, check_usage, &help);
  if (!path) return help ? 0 : 2;
  struct dray__registry reg;
  struct dray__diag diag = {0};
  dray__registry_init(&reg);
  struct dray__site *site = dray__site_load(path, &reg, &diag);
  int code = 0;
  if (!site) {
    for (size_t i = 0; i < diag.count; i++) fprintf(stderr, "%s\n", diag.lines[i]);
    fprintf(stderr, "%s: %zu error%s\n", path, diag.count, diag.count == 1 ? "" : "s");
    code = 1;
  } else {
    printf("%s: OK (site %s, %zu instances, %zu routes)\n", path, site->site,
           site->instance_count, site->route_count);
  }
  dray__site_free(&site);
  dray__diag_release(&diag);
  dray__registry_release(&reg);
  return code;
}
