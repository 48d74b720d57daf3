/* Durable spool against real crashes: a child process appends and reports every acknowledged seq
 * on a pipe; the parent kills it with SIGKILL at random moments (or the child dies at a named
 * fault point, _exit(137)) and then checks, with real files and real fsync, that every record the
 * child was told is durable is there with its payload intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "fault.h"
#include "spool_test_util.h"

#define SPAN 500

enum { MSG_ACK = 1, MSG_RELEASED = 2 };
struct report {
  uint64_t seq, id;
  uint32_t kind, pad;
};

static int memory_class; /* children open the spool with durable = 0 */

static dray__spool *open_dir(const char *dir, uint64_t seg_bytes, char *err, size_t n) {
  struct dray__spool_options o = {.dir = dir, .name = "journal", .segment_bytes = seg_bytes,
                                  .durable = !memory_class, .on_event = quiet_events};
  return dray__spool_open(&o, err, n);
}

struct consumer {
  dray__spool *s;
  int out;
};

/* Releases a replayed record and tells the parent, which then stops expecting it. */
static int release_cb(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  (void)data, (void)len;
  struct consumer *c = ctx;
  /* reported first: see child_worker_main */
  struct report r = {.seq = seq, .kind = MSG_RELEASED};
  if (write(c->out, &r, sizeof r) != (ssize_t)sizeof r)
    _exit(5);
  dray__spool_release(c->s, seq);
  return 0;
}

struct child_worker {
  dray__spool *s;
  int out;
  uint64_t first_id;
  int count;
  int release_mod; /* release ids divisible by this after their ack */
};

/* Appends `count` records, releasing some after their ack; reports acks and releases. */
static void *child_worker_main(void *arg) {
  struct child_worker *w = arg;
  enum { LAG = 5 };
  uint64_t recent[LAG] = {0};
  for (int i = 0; i < w->count; i++) {
    uint64_t id = w->first_id + (uint64_t)i, seq;
    if (append_id(w->s, id, SPAN, &seq) != 0)
      _exit(4);
    struct report r = {.seq = seq, .id = id, .kind = MSG_ACK};
    if (write(w->out, &r, sizeof r) != (ssize_t)sizeof r)
      _exit(5);
    /* release_mod 1: release everything, LAG acks late, so the low-water mark moves while the
     * last few acked records are always outstanding. Otherwise ids divisible by release_mod. */
    uint64_t victim = 0;
    if (w->release_mod == 1) {
      victim = recent[i % LAG];
      recent[i % LAG] = seq;
    } else if (id % (uint64_t)w->release_mod == 0) {
      victim = seq;
    }
    if (victim) {
      /* The obligation ends when the release starts: once release() runs,
       * the maintenance thread may unlink the segment (and a fault point
       * may kill us there) before we could report it afterwards. */
      r = (struct report){.seq = victim, .kind = MSG_RELEASED};
      if (write(w->out, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(5);
      dray__spool_release(w->s, victim);
    }
  }
  return NULL;
}

/* The child: consume (release) whatever was replayed, then append from `threads` threads until
 * killed or until all records are in. pause_ms: sleep between two halves and before closing, so
 * the lazy checkpoint and segment unlinks run. */
static void child_main(const char *dir, int out, uint64_t first_id, int count, uint64_t seg_bytes,
                       int pause_ms, int threads) {
  char err[512];
  dray__spool *s = open_dir(dir, seg_bytes, err, sizeof err);
  if (!s) {
    fprintf(stderr, "child: %s\n", err);
    _exit(3);
  }
  struct consumer cons = {.s = s, .out = out};
  dray__spool_scan(s, 0, release_cb, &cons);
  for (int half = 0; half < 2; half++) {
    pthread_t th[8];
    struct child_worker w[8];
    for (int t = 0; t < threads; t++) {
      /* With pauses (the fault-point workload) the first half is released entirely, so the
       * low-water mark moves, checkpoints are written and segments unlinked; otherwise every
       * fourth record is released. */
      w[t] = (struct child_worker){.s = s, .out = out, .count = count / 2 / threads,
                                   .release_mod = pause_ms && half == 0 ? 1 : 4,
                                   .first_id = first_id + (uint64_t)(half * count / 2) +
                                               (uint64_t)t * (uint64_t)(count / 2 / threads)};
      pthread_create(&th[t], NULL, child_worker_main, &w[t]);
    }
    for (int t = 0; t < threads; t++)
      pthread_join(th[t], NULL);
    if (pause_ms)
      usleep((useconds_t)pause_ms * 1000);
  }
  dray__spool_close(&s);
  _exit(0);
}

struct obligations {
  uint64_t *seq, *id;
  size_t n, cap;
};

static void ob_add(struct obligations *o, uint64_t seq, uint64_t id) {
  if (o->n == o->cap) {
    o->cap = o->cap ? o->cap * 2 : 256;
    o->seq = realloc(o->seq, o->cap * sizeof *o->seq);
    o->id = realloc(o->id, o->cap * sizeof *o->id);
  }
  o->seq[o->n] = seq;
  o->id[o->n] = id;
  o->n++;
}

static void ob_remove(struct obligations *o, uint64_t seq) {
  for (size_t k = o->n; k-- > 0;)
    if (o->seq[k] == seq) {
      o->seq[k] = o->seq[o->n - 1];
      o->id[k] = o->id[o->n - 1];
      o->n--;
      return;
    }
}

/* Reads every report the (dead) child left in the pipe. */
static void drain(int fd, struct obligations *o, size_t *acks) {
  struct report r;
  for (;;) {
    ssize_t n = read(fd, &r, sizeof r);
    if (n != (ssize_t)sizeof r)
      break;
    if (r.kind == MSG_ACK) {
      ob_add(o, r.seq, r.id);
      (*acks)++;
    } else {
      ob_remove(o, r.seq);
    }
  }
}

/* Reopens the spool in this process and checks every obligation. Returns the number checked. */
static size_t verify(const char *dir, uint64_t seg_bytes, struct obligations *o, const char *when) {
  char err[512] = "";
  dray__spool *s = open_dir(dir, seg_bytes, err, sizeof err);
  if (!s)
    fail_msg("%s: reopen failed: %s", when, err);
  struct collected c = {.span = SPAN};
  assert_int_equal(dray__spool_scan(s, 0, collect_cb, &c), 0);
  if (c.bad)
    fail_msg("%s: %zu replayed records have a damaged payload", when, c.bad);
  for (size_t k = 0; k < o->n; k++) {
    long at = collected_find(&c, o->seq[k]);
    if (at < 0)
      fail_msg("%s: acknowledged seq %llu (id %llu) lost", when, (unsigned long long)o->seq[k],
               (unsigned long long)o->id[k]);
    if (c.id[at] != o->id[k])
      fail_msg("%s: seq %llu holds id %llu, expected %llu", when, (unsigned long long)o->seq[k],
               (unsigned long long)c.id[at], (unsigned long long)o->id[k]);
  }
  /* A fresh append works after recovery. */
  assert_int_equal(append_id(s, 1ull << 40, SPAN, NULL), 0);
  collected_free(&c);
  dray__spool_close(&s);
  return o->n;
}

static pid_t spawn(const char *dir, int *rfd, uint64_t first_id, int count, uint64_t seg_bytes,
                   int pause_ms, const char *fault, int threads) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    if (fault)
      setenv("DRAY_FAULT", fault, 1);
    child_main(dir, p[1], first_id, count, seg_bytes, pause_ms, threads);
  }
  close(p[1]);
  *rfd = p[0];
  return pid;
}

/* Reads reports until the child's first ack of this life (it is past recovery and its replayed
 * releases, and appending). */
static void wait_first_ack(int rfd, struct obligations *ob, size_t *acks, int cycle) {
  size_t before = *acks;
  while (*acks == before) {
    struct pollfd pf = {.fd = rfd, .events = POLLIN};
    if (poll(&pf, 1, 20000) <= 0)
      fail_msg("cycle %d: the child acknowledged nothing within 20 s", cycle);
    struct report r;
    if (read(rfd, &r, sizeof r) != (ssize_t)sizeof r)
      fail_msg("cycle %d: the child died before its first ack", cycle);
    if (r.kind == MSG_ACK) {
      ob_add(ob, r.seq, r.id);
      (*acks)++;
    } else {
      ob_remove(ob, r.seq);
    }
  }
}

static void test_kill9_at_random_moments_loses_no_acknowledged_record(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  const uint64_t seg = 65536;
  struct obligations ob = {0};
  unsigned seed = (unsigned)time(NULL);
  print_message("      seed %u\n", seed);
  size_t acks = 0;
  int cycles = 60;
  uint64_t next_id = 1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int cycle = 0; cycle < cycles; cycle++) {
    int rfd;
    pid_t pid = spawn(dir, &rfd, next_id, 1000000, seg, 0, NULL, 3);
    next_id += 1000000;
    /* Wait for the first ack of this life (the child is past recovery and appending; the
     * replayed releases come first), then kill at a random moment. */
    wait_first_ack(rfd, &ob, &acks, cycle);
    usleep((useconds_t)(rand_r(&seed) % 80000));
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    drain(rfd, &ob, &acks);
    close(rfd);
    char when[64];
    snprintf(when, sizeof when, "after kill cycle %d", cycle);
    verify(dir, seg, &ob, when);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  print_message("      %d kill -9 cycles, %zu acknowledged records checked, %.1f s\n", cycles, acks,
                (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  assert_true(acks >= (size_t)cycles);
  free(ob.seq);
  free(ob.id);
  rm_rf(dir);
  free(dir);
}

/* Builds a spool with a corrupt sealed segment and a torn last segment, so that the recovery fault
 * points are reached on the next open. */
static void prepare_damaged(const char *dir) {
  char err[512];
  dray__spool *s = open_dir(dir, 4096, err, sizeof err);
  assert_non_null(s);
  for (int i = 0; i < 40; i++)
    assert_int_equal(append_id(s, (uint64_t)(900000 + i), SPAN, NULL), 0);
  dray__spool_close(&s);
  char p[1024];
  snprintf(p, sizeof p, "%s/journal-%020d.seg", dir, 1);
  FILE *f = fopen(p, "r+b");
  assert_non_null(f);
  fseek(f, 50, SEEK_SET);
  fputc(0x77, f);
  fclose(f);
  /* A torn tail on the last segment: some garbage after the data. */
  DIR *d = opendir(dir);
  char last[512] = "";
  for (struct dirent *e; (e = readdir(d));)
    if (strstr(e->d_name, ".seg") && !strstr(e->d_name, ".bad") && strcmp(e->d_name, last) > 0)
      snprintf(last, sizeof last, "%s", e->d_name);
  closedir(d);
  snprintf(p, sizeof p, "%s/%s", dir, last);
  f = fopen(p, "r+b");
  assert_non_null(f);
  /* Find the end of the data: the file is preallocated with zeros after it. */
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  unsigned char *b = malloc((size_t)size);
  fseek(f, 0, SEEK_SET);
  assert_int_equal(fread(b, 1, (size_t)size, f), (size_t)size);
  long end = size;
  while (end > 0 && b[end - 1] == 0)
    end--;
  fseek(f, end, SEEK_SET);
  fwrite("torn-garbage", 1, 12, f);
  fclose(f);
  free(b);
}

static void test_crash_at_every_named_fault_point_then_recover(void **state) {
  (void)state;
  if (!DRAY_FAULT_POINTS_ENABLED) {
    skip(); /* needs a build with -Dfault_points=true */
    return;
  }
  static const struct {
    const char *point;
    int damaged; /* prepare a corrupt sealed segment and a torn tail first */
    int repeat;  /* also crash at the 3rd hit */
  } points[] = {
    {"spool.checkpoint_created", 0, 0},   {"spool.segment_created", 0, 1},
    {"spool.segment_dir_synced", 0, 1},   {"spool.after_write", 0, 1},
    {"spool.after_sync", 0, 1},           {"spool.rotate_synced", 0, 1},
    {"spool.rotate_sealed", 0, 1},        {"spool.checkpoint_written", 0, 0},
    {"spool.checkpoint_synced", 0, 0},    {"spool.before_unlink", 0, 1},
    {"spool.after_unlink", 0, 1},         {"spool.recovery_truncated", 1, 0},
    {"spool.quarantine_renamed", 1, 0},
  };
  size_t checked = 0;
  int runs = 0;
  for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
    for (int rep = 0; rep <= points[i].repeat; rep++) {
      char *dir = make_tmpdir();
      if (points[i].damaged)
        prepare_damaged(dir);
      char fault[128];
      snprintf(fault, sizeof fault, rep ? "%s:3" : "%s", points[i].point);
      struct obligations ob = {0};
      size_t acks = 0;
      int rfd;
      pid_t pid = spawn(dir, &rfd, 1, 240, 4096, 40, fault, 2);
      int st;
      waitpid(pid, &st, 0);
      drain(rfd, &ob, &acks);
      close(rfd);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 137)
        fail_msg("fault point %s was never reached (child status %d)", fault, st);
      char when[160];
      snprintf(when, sizeof when, "after a crash at %s", fault);
      checked += verify(dir, 4096, &ob, when);
      /* And a clean second life: replay (releasing), run the workload to the end. */
      pid = spawn(dir, &rfd, 5000, 30, 4096, 0, NULL, 1);
      waitpid(pid, &st, 0);
      drain(rfd, &ob, &acks);
      close(rfd);
      assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
      verify(dir, 4096, &ob, "after the run following the crash");
      free(ob.seq);
      free(ob.id);
      rm_rf(dir);
      free(dir);
      runs++;
    }
  }
  print_message("      %d crashes at named points, %zu acknowledged records checked\n", runs, checked);
}


/* The memory class acks before the record reaches the file: a process crash may lose the last
 * ~1 ms of acked records, but what survives is a clean prefix: no gap, no damaged payload. */
static void test_memory_class_kill9_loses_at_most_a_tail_and_never_corrupts(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  const uint64_t seg = 1 << 20;
  unsigned seed = (unsigned)time(NULL);
  size_t acks = 0, lost = 0;
  for (int cycle = 0; cycle < 10; cycle++) {
    struct obligations ob = {0};
    int rfd;
    memory_class = 1;
    pid_t pid = spawn(dir, &rfd, (uint64_t)cycle * 10000000 + 1, 1000000, seg, 0, NULL, 2);
    memory_class = 0;
    wait_first_ack(rfd, &ob, &acks, cycle);
    usleep((useconds_t)(rand_r(&seed) % 20000));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    drain(rfd, &ob, &acks);
    close(rfd);
    char err[512];
    dray__spool *s = open_dir(dir, seg, err, sizeof err);
    assert_non_null(s);
    struct collected c = {.span = SPAN};
    assert_int_equal(dray__spool_scan(s, 0, collect_cb, &c), 0);
    assert_int_equal(c.bad, 0);
    for (size_t k = 1; k < c.n; k++)
      assert_true(c.seq[k] > c.seq[k - 1]);
    uint64_t max_seq = c.n ? c.seq[c.n - 1] : 0;
    for (size_t k = 0; k < ob.n; k++) {
      long at = collected_find(&c, ob.seq[k]);
      if (at >= 0) {
        assert_int_equal(c.id[at], ob.id[k]);
      } else {
        /* Only records after everything that survived may be missing. */
        assert_true(ob.seq[k] > max_seq);
        lost++;
      }
    }
    collected_free(&c);
    dray__spool_close(&s);
    free(ob.seq);
    free(ob.id);
  }
  print_message("      memory class: %zu acked, %zu lost in the unsynced window over 10 kills\n",
                acks, lost);
  rm_rf(dir);
  free(dir);
}

int main(int argc, char **argv) {
  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_kill9_at_random_moments_loses_no_acknowledged_record),
    cmocka_unit_test(test_crash_at_every_named_fault_point_then_recover),
    cmocka_unit_test(test_memory_class_kill9_loses_at_most_a_tail_and_never_corrupts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
