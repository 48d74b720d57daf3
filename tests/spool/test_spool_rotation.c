/* test_spool_rotation.c - group commits that rotate segments while other
 * threads release records and the maintenance thread unlinks released
 * segments: no segment may be freed while a group in flight still
 * publishes into it (a use-after-free found by the routing benchmark;
 * ASan reports it, plain builds may crash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spool.h"

struct shared {
  dray__spool *s;
  atomic_ullong appended_to; /* every seq below it was appended */
  atomic_int done;
};

static void *releaser(void *arg) {
  struct shared *sh = arg;
  unsigned long long next = 1;
  while (!atomic_load(&sh->done) || next < atomic_load(&sh->appended_to)) {
    unsigned long long end = atomic_load(&sh->appended_to);
    for (; next < end; next++) assert_int_equal(dray__spool_release(sh->s, next), 0);
    usleep(50);
  }
  return NULL;
}

static void test_rotation_under_release_and_unlink_keeps_every_segment_alive(void **state) {
  (void)state;
  char dir[] = "/tmp/dray-spool-rot-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char err[256];
  struct dray__spool_options o = {.dir = dir, .name = "j", .durable = 0,
                                  .segment_bytes = 16384, .group_max_records = 64};
  struct shared sh = {.s = dray__spool_open(&o, err, sizeof err)};
  assert_non_null(sh.s);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, releaser, &sh), 0);
  static char payload[1000];
  memset(payload, 'r', sizeof payload);
  struct dray__spool_rec recs[64];
  uint64_t seqs[64];
  for (int i = 0; i < 64; i++) recs[i] = (struct dray__spool_rec){payload, sizeof payload};
  for (int round = 0; round < 300; round++) {
    assert_int_equal(dray__spool_append_many(sh.s, recs, 64, seqs), 0);
    for (int i = 1; i < 64; i++) assert_int_equal(seqs[i], seqs[i - 1] + 1);
    atomic_store(&sh.appended_to, seqs[63] + 1);
  }
  atomic_store(&sh.done, 1);
  pthread_join(t, NULL);
  struct dray__spool_stats st;
  dray__spool_stats(sh.s, &st);
  assert_int_equal(st.records, 0);
  assert_int_equal(st.failed, 0);
  dray__spool_close(&sh.s);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rotation_under_release_and_unlink_keeps_every_segment_alive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
