/* fill_journal.c - writes N journal records of ~1 KiB (as `dray run`
 * would for messages from instance SOURCE) into DATA_DIR/journal, or,
 * with DEST, into the backlog spool of destination DEST
 * (DATA_DIR/backlog/DEST, records naming DEST), for the restart-to-ready
 * benchmark.
 *
 *   fill_journal DATA_DIR SOURCE N [DEST]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "spool.h"

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: fill_journal DATA_DIR SOURCE N [DEST]\n");
    return 2;
  }
  char dir[4096], err[512], body[1024];
  const char *dest = argc == 5 ? argv[4] : NULL;
  if (dest)
    snprintf(dir, sizeof dir, "%s/backlog/%s", argv[1], dest);
  else
    snprintf(dir, sizeof dir, "%s/journal", argv[1]);
  long n = atol(argv[3]);
  struct dray__spool_options o = {.dir = dir, .name = dest ? "backlog" : "journal",
                                  .durable = 1, .segment_bytes = 64u << 20};
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  if (!s) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  memset(body, 'x', sizeof body);
  int blen = snprintf(body, sizeof body, "{\"pad\":\"");
  memset(body + blen, 'x', 900);
  blen += 900;
  blen += snprintf(body + blen, sizeof body - (size_t)blen, "\"}");
  enum { BATCH = 256 };
  dray_buf bufs[BATCH];
  struct dray__spool_rec recs[BATCH];
  for (long i = 0; i < n;) {
    int k = 0;
    for (; k < BATCH && i < n; k++, i++) {
      char id[32];
      snprintf(id, sizeof id, "fill-%ld", i);
      dray_msg *m = dray__msg_new("dray://restart/gen", "dray.test.item.v1", body, (size_t)blen);
      dray__msg_set_header(m, "id", id);
      dray__buf_init(&bufs[k]);
      dray__journal_encode(&bufs[k], argv[2], dest ? &dest : NULL, dest ? 1 : 0, m);
      recs[k] = (struct dray__spool_rec){bufs[k].data, (uint32_t)bufs[k].len};
      dray__msg_free(&m);
    }
    int rc = dray__spool_append_many(s, recs, (size_t)k, NULL);
    for (int j = 0; j < k; j++) dray__buf_release(&bufs[j]);
    if (rc != 0) {
      fprintf(stderr, "append failed: %d\n", rc);
      return 1;
    }
  }
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  printf("%llu records, %llu bytes\n", (unsigned long long)st.records,
         (unsigned long long)st.bytes);
  dray__spool_close(&s);
  return 0;
}
