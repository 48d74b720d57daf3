/* cmd_convert.c - `dray convert`: any codec plugin, ours or a third
 * party's, run offline on a file. decode writes canonical messages as
 * JSON Lines of CloudEvents; encode reads them and writes native bytes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "instance.h"
#include "msg_internal.h"
#include "plugin_loader.h"
#include "site_config.h"
#include "state_store.h"

static const char usage[] =
    "usage: dray convert --plugin NAME [--config FILE] [--plugin-path DIR]\n"
    "                    [--data-dir DIR] --decode|--encode [IN [OUT]]\n"
    "\n"
    "Runs a codec plugin offline. --decode reads native bytes (an X12\n"
    "interchange, an IDoc file, ...) and writes one CloudEvent per line;\n"
    "--encode reads CloudEvents (one JSON object per line) and writes the\n"
    "native form. IN and OUT default to stdin and stdout. --config is a YAML\n"
    "mapping of the plugin's config keys (as under `config:` in a site file).\n"
    "--data-dir keeps the plugin's state (control numbers) between runs;\n"
    "without it the state lives in memory. Errors name the input and where;\n"
    "the exit status is 1 if any input was rejected.\n";

int dray__read_file(const char *path, char **data, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) return -1;
  char *buf = NULL;
  size_t n = 0;
  FILE *mem = open_memstream(&buf, &n);
  char chunk[65536];
  size_t got;
  while (mem && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
    fwrite(chunk, 1, got, mem);
  int read_error = ferror(f);
  if (f != stdin) fclose(f);
  if (!mem || fclose(mem) != 0 || read_error) {
    free(buf);
    errno = read_error ? EIO : ENOMEM;
    return -1;
  }
  *data = buf;
  *len = n;
  return 0;
}

static int do_decode(struct dray_instance *inst, const char *in_name,
                     const char *data, size_t len, FILE *out) {
  dray_batch batch;
  dray__batch_init(&batch);
  pthread_mutex_lock(&inst->call_lock);
  dray__callback_begin();
  dray_status st = inst->desc->decode(inst->state, data, len, in_name, &batch);
  pthread_mutex_unlock(&inst->call_lock);
  dray_buf line;
  dray__buf_init(&line);
  for (size_t i = 0; i < batch.count; i++) {
    line.len = 0;
    if (dray__msg_serialize(batch.msgs[i], &line) == 0) {
      fwrite(line.data, 1, line.len, out);
      fputc('\n', out);
    }
  }
  dray__buf_release(&line);
  int code = 0;
  if (st != DRAY_OK) {
    fprintf(stderr, "%s: %s%s\n", in_name,
            st == DRAY_REJECT ? "rejected: " : "failed: ",
            *dray__callback_error() ? dray__callback_error() : "(no reason given)");
    code = 1;
  }
  fprintf(stderr, "%s: %zu message%s decoded\n", in_name, batch.count,
          batch.count == 1 ? "" : "s");
  dray__batch_release(&batch);
  return code;
}

static int do_encode(struct dray_instance *inst, const char *in_name,
                     char *data, size_t len, FILE *out) {
  int code = 0;
  size_t line_no = 0, encoded = 0;
  dray_buf native;
  dray__buf_init(&native);
  char *p = data, *end = data + len;
  while (p < end) {
    char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
    line_no++;
    char *line = p;
    p = eol ? eol + 1 : end;
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ')) n--;
    if (n == 0) continue;
    char err[512];
    dray_msg *msg = dray__msg_parse(line, n, err, sizeof err);
    if (!msg) {
      fprintf(stderr, "%s:%zu: %s\n", in_name, line_no, err);
      code = 1;
      continue;
    }
    native.len = 0;
    pthread_mutex_lock(&inst->call_lock);
    dray__callback_begin();
    dray_status st = inst->desc->encode(inst->state, msg, &native);
    pthread_mutex_unlock(&inst->call_lock);
    if (st == DRAY_OK) {
      fwrite(native.data ? native.data : "", 1, native.len, out);
      encoded++;
    } else {
      fprintf(stderr, "%s:%zu: message %s (type %s) %s: %s\n", in_name, line_no,
              dray__msg_header(msg, "id"), dray__msg_header(msg, "type"),
              st == DRAY_REJECT ? "rejected" : "failed",
              *dray__callback_error() ? dray__callback_error() : "(no reason given)");
      code = 1;
    }
    dray__msg_free(&msg);
  }
  dray__buf_release(&native);
  fprintf(stderr, "%s: %zu message%s encoded\n", in_name, encoded,
          encoded == 1 ? "" : "s");
  return code;
}

int dray__cmd_convert(int argc, char **argv) {
  static const struct option opts[] = {
      {"plugin", required_argument, 0, 'p'}, {"config", required_argument, 0, 'c'},
      {"plugin-path", required_argument, 0, 'P'}, {"data-dir", required_argument, 0, 'D'},
      {"decode", no_argument, 0, 'd'}, {"encode", no_argument, 0, 'e'},
      {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *plugin_name = NULL, *config_path = NULL, *data_dir = NULL;
  int mode = 0, c, code = 1;
  struct dray__registry reg;
  struct dray__diag diag = {0};
  struct dray__instance_config ic;
  struct dray_instance *inst = NULL;
  struct dray__state *store = NULL;
  struct dray__node *cfg_root = NULL;
  char *data = NULL;
  size_t len = 0;
  FILE *out = stdout;
  char err[1024];

  memset(&ic, 0, sizeof ic);
  dray__registry_init(&reg);
  optind = 1;
  while ((c = getopt_long(argc, argv, "p:c:P:D:deh", opts, NULL)) != -1) {
    switch (c) {
      case 'p': plugin_name = optarg; break;
      case 'c': config_path = optarg; break;
      case 'P': dray__registry_scan_dir(&reg, optarg); break;
      case 'D': data_dir = optarg; break;
      case 'd': mode = 'd'; break;
      case 'e': mode = 'e'; break;
      case 'h': fputs(usage, stdout); code = 0; goto out;
      default: fputs(usage, stderr); code = 2; goto out;
    }
  }
  if (!plugin_name || !mode) {
    fputs(usage, stderr);
    code = 2;
    goto out;
  }
  const char *in_path = optind < argc ? argv[optind] : "-";
  const char *out_path = optind + 1 < argc ? argv[optind + 1] : NULL;
  char **dirs = dray__default_plugin_path();
  for (size_t i = 0; dirs && dirs[i]; i++) {
    dray__registry_scan_dir(&reg, dirs[i]);
    free(dirs[i]);
  }
  free(dirs);
  const struct dray__plugin *plugin = dray__registry_find(&reg, plugin_name);
  if (!plugin) {
    fprintf(stderr, "dray convert: no plugin named \"%s\" on the plugin path\n", plugin_name);
    for (size_t i = 0; i < reg.error_count; i++) fprintf(stderr, "refused: %s\n", reg.errors[i]);
    goto out;
  }
  if (!(plugin->desc->kinds & DRAY_KIND_CODEC) ||
      (mode == 'e' && !plugin->desc->encode)) {
    fprintf(stderr, "dray convert: plugin %s has no %s callback\n", plugin_name,
            mode == 'd' ? "decode" : "encode");
    goto out;
  }
  if (config_path) {
    cfg_root = dray__yaml_load(config_path, err, sizeof err);
    if (!cfg_root) {
      fprintf(stderr, "%s\n", err);
      goto out;
    }
  }
  if (dray__plugin_config_read(config_path ? config_path : "(no config)",
                               plugin_name, plugin, cfg_root, &ic, &diag) != 0) {
    for (size_t i = 0; i < diag.count; i++) fprintf(stderr, "%s\n", diag.lines[i]);
    goto out;
  }
  char state_path[4096];
  if (data_dir) snprintf(state_path, sizeof state_path, "%s/state.db", data_dir);
  store = dray__state_open(data_dir ? state_path : ":memory:", err, sizeof err);
  if (!store) {
    fprintf(stderr, "dray convert: %s\n", err);
    goto out;
  }
  inst = dray__instance_new("convert", plugin_name, plugin->desc, &ic.values, data_dir);
  if (!inst) goto out;
  inst->state_store = store;
  if (dray__instance_create(inst, err, sizeof err) != 0) {
    fprintf(stderr, "dray convert: %s\n", err);
    goto out;
  }
  if (dray__read_file(in_path, &data, &len) != 0) {
    fprintf(stderr, "dray convert: cannot read %s: %s\n", in_path, strerror(errno));
    goto out;
  }
  if (out_path && !(out = fopen(out_path, "wb"))) {
    fprintf(stderr, "dray convert: cannot write %s: %s\n", out_path, strerror(errno));
    out = stdout;
    goto out;
  }
  const char *in_name = strcmp(in_path, "-") == 0 ? "(stdin)" : in_path;
  code = mode == 'd' ? do_decode(inst, in_name, data, len, out)
                     : do_encode(inst, in_name, data, len, out);
  if (fflush(out) != 0 || ferror(out)) {
    fprintf(stderr, "dray convert: write error: %s\n", strerror(errno));
    code = 1;
  }
out:
  if (out != stdout) fclose(out);
  free(data);
  dray__instance_destroy(&inst);
  dray__state_close(&store);
  dray__config_release(&ic.values);
  free(ic.name);
  dray__node_free(&cfg_root);
  dray__diag_release(&diag);
  dray__registry_release(&reg);
  return code;
}
