/* main.c - `dray`: one binary, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include <dray/abi.h>

#include "commands.h"
#include "fault.h"

#ifndef DRAY_VERSION
#define DRAY_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: dray <command> [options]\n"
    "\n"
    "commands:\n"
    "  run -c SITE.yaml          run a site until SIGTERM (SIGHUP reloads routes)\n"
    "  check -c SITE.yaml        check a site file; print FILE:LINE:COL errors\n"
    "  plugins [--path DIR|FILE] [--describe NAME]\n"
    "                            list plugins, or print one plugin's config schema\n"
    "  convert --plugin NAME [--config FILE] --decode|--encode [IN [OUT]]\n"
    "                            run a codec plugin offline (JSON Lines of CloudEvents)\n"
    "  status -c SITE.yaml [--json]\n"
    "                            the running site: breakers, in-flight messages, counters\n"
    "  dlq list|show|replay|purge -c SITE.yaml [filters]\n"
    "                            dead letters: inspect, send again, delete\n"
    "  version                   print the version and the plugin ABI version\n"
    "\n"
    "`dray COMMAND --help` describes a command.\n";

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "run") == 0) return dray__cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "check") == 0) return dray__cmd_check(argc - 1, argv + 1);
  if (strcmp(cmd, "plugins") == 0) return dray__cmd_plugins(argc - 1, argv + 1);
  if (strcmp(cmd, "dlq") == 0) return dray__cmd_dlq(argc - 1, argv + 1);
  if (strcmp(cmd, "status") == 0) return dray__cmd_status(argc - 1, argv + 1);
  if (strcmp(cmd, "convert") == 0) return dray__cmd_convert(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    if (argc > 2 && strcmp(argv[2], "--help") == 0) {
      puts("usage: dray version\n\nPrints dray's version and the plugin ABI version it hosts.");
      return 0;
    }
    printf("dray %s (plugin ABI %d.%d)%s\n", DRAY_VERSION, DRAY_ABI_MAJOR, DRAY_ABI_MINOR,
           DRAY_FAULT_POINTS_ENABLED ? " with fault points" : "");
    return 0;
  }
  fprintf(stderr, "dray: unknown command \"%s\"\n\n%s", cmd, usage);
  return 2;
}
