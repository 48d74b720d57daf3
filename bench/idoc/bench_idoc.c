/* bench_idoc.c - sap_idoc decode throughput beside libxml2's bare
 * xmlTextReader pass over the same document, in the same run.
 *
 * Usage: bench_idoc ORDERS05.xml [repetitions]
 * The XML comes from ../shared/bench/gen_idoc.py. The flat figure uses the
 * same IDocs, converted to flat records by the plugin's encoder first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlreader.h>

#include "idoc.h"

/* CPU time of this thread (user + kernel, page faults included): on a
 * shared machine wall time measures the neighbours as much as the code.
 * IDOC_BENCH_WALL=1 switches to wall-clock time. */
static double now(void) {
  static int wall = -1;
  if (wall < 0) wall = getenv("IDOC_BENCH_WALL") != NULL;
  struct timespec ts;
  clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bare_reader(const char *data, size_t len) {
  double t0 = now();
  /* the same parser options as the plugin's reader */
  xmlTextReaderPtr r = xmlReaderForMemory(data, (int)len, NULL, NULL,
                                          IDOC_XML_PARSE_OPTIONS);
  long nodes = 0;
  while (xmlTextReaderRead(r) == 1) nodes++;
  xmlFreeTextReader(r);
  double dt = now() - t0;
  if (nodes == 0) fprintf(stderr, "bare reader saw no nodes\n");
  return dt;
}

static double best(double a, double b) { return a < b ? a : b; }

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s ORDERS05.xml [repetitions]\n", argv[0]);
    return 2;
  }
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  size_t len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *xml = malloc(len + 1);
  if (fread(xml, 1, len, f) != len) return 1;
  fclose(f);
  xml[len] = 0;

  idoc_registry *reg = idoc_registry_new();
  struct idoc_err err = {""};
  if (idoc_registry_load_shipped(reg, &err) < 0) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  /* the flat twin of the same IDocs */
  idoc_set *set = idoc_set_new();
  if (idoc_xml_decode(reg, xml, len, argv[1], set, &err) < 0 ||
      idoc_validate(set, argv[1], &err) < 0) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  size_t ndocs = set->ndocs, nsegs = set->nsegs;
  char *flat = NULL;
  size_t flen = 0, fcap = 0;
  if (idoc_flat_encode(set, NULL, &flat, &flen, &fcap, &err) < 0) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  idoc_set_destroy(&set);
  /* the same records right-trimmed, as many writers store them: denser */
  char *trim = malloc(flen + 1);
  size_t tlen = 0;
  for (size_t i = 0; i < flen;) {
    const char *nl = memchr(flat + i, '\n', flen - i);
    size_t l = nl ? (size_t)(nl - (flat + i)) : flen - i;
    size_t k = l;
    while (k && flat[i + k - 1] == ' ') k--;
    memcpy(trim + tlen, flat + i, k);
    tlen += k;
    trim[tlen++] = '\n';
    i += l + 1;
  }

  double t_bare = 1e9, t_xml = 1e9, t_flat = 1e9, t_xmlv = 1e9, t_trim = 1e9;
  double t_reuse = 1e9;
  idoc_set *kept = idoc_set_new(); /* the file port's steady state */
  for (int i = 0; i < reps; i++) {
    t_bare = best(t_bare, bare_reader(xml, len));
    double t0 = now();
    set = idoc_set_new();
    if (idoc_xml_decode(reg, xml, len, "x", set, &err) < 0) return 1;
    t_xml = best(t_xml, now() - t0);
    if (idoc_validate(set, "x", &err) < 0) return 1;
    t_xmlv = best(t_xmlv, now() - t0);
    idoc_set_destroy(&set);
    idoc_set_reset(kept);
    t0 = now();
    if (idoc_xml_decode(reg, xml, len, "x", kept, &err) < 0) return 1;
    t_reuse = best(t_reuse, now() - t0);
    t0 = now();
    set = idoc_set_new();
    if (idoc_flat_decode(reg, flat, flen, "f", NULL, set, &err) < 0) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    t_flat = best(t_flat, now() - t0);
    idoc_set_destroy(&set);
    t0 = now();
    set = idoc_set_new();
    if (idoc_flat_decode(reg, trim, tlen, "t", NULL, set, &err) < 0) {
      fprintf(stderr, "%s\n", err.msg);
      return 1;
    }
    t_trim = best(t_trim, now() - t0);
    idoc_set_destroy(&set);
  }
  double mb = (double)len / 1e6, fmb = (double)flen / 1e6;
  printf("document: %s, %zu IDocs, %zu segments, XML %.1f MB, flat %.1f MB, "
         "best of %d (%s time)\n", argv[1], ndocs, nsegs, mb, fmb, reps,
         getenv("IDOC_BENCH_WALL") ? "wall" : "thread CPU");
  printf("bare xmlTextReader pass      %8.1f MB/s\n", mb / t_bare);
  printf("sap_idoc XML decode          %8.1f MB/s  ratio %.2f of bare reader"
         " (goal >= 0.80)\n", mb / t_xml, t_bare / t_xml);
  printf("sap_idoc XML decode+validate %8.1f MB/s  ratio %.2f of bare reader\n",
         mb / t_xmlv, t_bare / t_xmlv);
  printf("sap_idoc XML decode, set kept %8.1f MB/s  ratio %.2f of bare reader "
         "(memory reused between documents, as the file port does)\n",
         mb / t_reuse, t_bare / t_reuse);
  printf("sap_idoc flat decode         %8.1f MB/s  (goal >= 300); %.2fx the "
         "bare XML reader's MB/s\n", fmb / t_flat, (fmb / t_flat) / (mb / t_bare));
  printf("sap_idoc flat decode, trimmed %8.1f MB/s  (%.1f MB; same IDocs); %.2fx "
         "the bare XML reader's MB/s\n", (double)tlen / 1e6 / t_trim,
         (double)tlen / 1e6, ((double)tlen / 1e6 / t_trim) / (mb / t_bare));
  printf("IDocs per second: XML %.0f, flat %.0f\n", (double)ndocs / t_xml,
         (double)ndocs / t_flat);
  idoc_set_destroy(&kept);
  free(trim);
  free(flat);
  free(xml);
  idoc_registry_destroy(&reg);
  return 0;
}
