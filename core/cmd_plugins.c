/* cmd_plugins.c - `dray plugins`: what is on the plugin path, and one
 * plugin's config schema. Secrets are flagged, never shown. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "params.h"
#include "plugin_loader.h"

static const char usage[] =
    "usage: dray plugins [--path DIR|FILE]... [--describe NAME]\n"
    "\n"
    "Lists the plugins found on the plugin path (default: $DRAY_PLUGIN_PATH,\n"
    "then the installed plugin directory) with name, version, ABI version,\n"
    "kinds and file; files that were refused are listed on stderr with the\n"
    "reason, and the exit status is then 1. --describe prints NAME's config\n"
    "schema.\n";

static void describe(const struct dray__plugin *p) {
  const struct dray_plugin *d = p->desc;
  char kinds[64];
  dray__kinds_text(d->kinds, kinds, sizeof kinds);
  printf("%s %s (ABI %u.%u) - %s\n", d->name, d->version ? d->version : "?",
         d->abi_major, d->abi_minor, d->description ? d->description : "");
  printf("kinds: %s\nfile: %s\n\nconfig:\n", kinds, p->path);
  if (!d->param_count) printf("  (no parameters)\n");
  for (size_t i = 0; i < d->param_count; i++) {
    const struct dray_param *pr = &d->params[i];
    printf("  %-22s %-7s%s%s", pr->name, dray__param_type_name(pr->type),
           (pr->flags & DRAY_PARAM_REQUIRED) ? " required" : "",
           (pr->flags & DRAY_PARAM_SECRET) ? " secret" : "");
    if (pr->default_value && !(pr->flags & DRAY_PARAM_SECRET))
      printf(" default=%s", pr->default_value);
    if (pr->flags & DRAY_PARAM_HAS_MIN) printf(" min=%.15g", pr->min);
    if (pr->flags & DRAY_PARAM_HAS_MAX) printf(" max=%.15g", pr->max);
    if (pr->type == DRAY_PARAM_ENUM && pr->enum_values) {
      printf(" one of:");
      for (size_t j = 0; pr->enum_values[j]; j++)
        printf("%s%s", j ? "," : " ", pr->enum_values[j]);
    }
    printf("\n  %-22s %s\n", "", pr->description ? pr->description : "");
  }
}

int dray__cmd_plugins(int argc, char **argv) {
  static const struct option opts[] = {{"path", required_argument, 0, 'p'},
                                       {"describe", required_argument, 0, 'd'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  struct dray__registry reg;
  const char *name = NULL;
  int c, explicit_path = 0;
  dray__registry_init(&reg);
  optind = 1;
  while ((c = getopt_long(argc, argv, "p:d:h", opts, NULL)) != -1) {
    struct stat st;
    switch (c) {
      case 'p':
        explicit_path = 1;
        if (stat(optarg, &st) == 0 && S_ISDIR(st.st_mode))
          dray__registry_scan_dir(&reg, optarg);
        else
          dray__registry_add_file(&reg, optarg);
        break;
      case 'd': name = optarg; break;
      case 'h': fputs(usage, stdout); dray__registry_release(&reg); return 0;
      default: fputs(usage, stderr); dray__registry_release(&reg); return 2;
    }
  }
  if (!explicit_path) {
    char **dirs = dray__default_plugin_path();
    for (size_t i = 0; dirs && dirs[i]; i++) {
      dray__registry_scan_dir(&reg, dirs[i]);
      free(dirs[i]);
    }
    free(dirs);
  }
  int code = reg.error_count ? 1 : 0;
  for (size_t i = 0; i < reg.error_count; i++)
    fprintf(stderr, "refused: %s\n", reg.errors[i]);
  if (name) {
    const struct dray__plugin *p = dray__registry_find(&reg, name);
    if (!p) {
      fprintf(stderr, "dray plugins: no plugin named \"%s\" on the plugin path\n", name);
      code = 1;
    } else {
      describe(p);
    }
  } else {
    printf("%-16s %-9s %-5s %-28s %s\n", "NAME", "VERSION", "ABI", "KINDS", "FILE");
    for (size_t i = 0; i < reg.count; i++) {
      const struct dray_plugin *d = reg.plugins[i]->desc;
      char kinds[64], abi[16];
      dray__kinds_text(d->kinds, kinds, sizeof kinds);
      snprintf(abi, sizeof abi, "%u.%u", d->abi_major, d->abi_minor);
      printf("%-16s %-9s %-5s %-28s %s\n", d->name, d->version ? d->version : "?",
             abi, kinds, reg.plugins[i]->path);
    }
  }
  dray__registry_release(&reg);
  return code;
}
