/* test_files.c - the SDK's folder-port helpers that the file, edi_x12 and
 * sap_idoc plugins share. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <dray-sdk/files.h>

static char base[] = "/tmp/dray-files-XXXXXX";

static char *slurp(const char *path) {
  static char buf[256];
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static int entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (e->d_name[0] != '.' || (e->d_name[1] && e->d_name[1] != '.' )) n++;
  if (d) closedir(d);
  return n;
}

static void test_inbound_folders_are_made_with_their_parents(void **s) {
  (void)s;
  char dir[256], sub[300];
  struct stat st;
  snprintf(dir, sizeof dir, "%s/a/b/in", base);
  assert_int_equal(dray_files_prepare_inbound(dir), 0);
  const char *subs[] = {"processing", "done", "failed"};
  for (int i = 0; i < 3; i++) {
    snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
    assert_int_equal(stat(sub, &st), 0);
  }
  assert_int_equal(dray_files_prepare_inbound(dir), 0); /* again: fine */
}

static void test_atomic_write_leaves_only_the_finished_file(void **s) {
  (void)s;
  char dir[256], path[300];
  snprintf(dir, sizeof dir, "%s/out", base);
  assert_int_equal(dray_files_mkdirs(dir), 0);
  assert_int_equal(dray_files_write_atomic(dir, "doc.x12", "ISA~", 4, 1), 0);
  snprintf(path, sizeof path, "%s/doc.x12", dir);
  assert_string_equal(slurp(path), "ISA~");
  assert_int_equal(entries(dir), 1); /* no temporary file left */
  snprintf(path, sizeof path, "%s/missing", base);
  assert_int_equal(dray_files_write_atomic(path, "x", "y", 1, 1), -1);
  assert_int_equal(errno, ENOENT);
}

static void test_finish_files_away_with_the_reason(void **s) {
  (void)s;
  char dir[256], claimed[300], path[300];
  snprintf(dir, sizeof dir, "%s/in2", base);
  assert_int_equal(dray_files_prepare_inbound(dir), 0);
  snprintf(claimed, sizeof claimed, "%s/processing", dir);
  assert_int_equal(dray_files_write_atomic(claimed, "bad.edi", "x", 1, 0), 0);
  assert_int_equal(dray_files_write_atomic(claimed, "good.edi", "y", 1, 0), 0);
  snprintf(claimed, sizeof claimed, "%s/processing/bad.edi", dir);
  assert_int_equal(dray_files_finish(dir, claimed, "bad.edi", "bad.edi:1:1: no ISA"), 0);
  snprintf(path, sizeof path, "%s/failed/bad.edi.error", dir);
  assert_string_equal(slurp(path), "bad.edi:1:1: no ISA\n");
  snprintf(path, sizeof path, "%s/failed/bad.edi", dir);
  assert_string_equal(slurp(path), "x");
  snprintf(claimed, sizeof claimed, "%s/processing/good.edi", dir);
  assert_int_equal(dray_files_finish(dir, claimed, "good.edi", NULL), 0);
  snprintf(path, sizeof path, "%s/done/good.edi", dir);
  assert_string_equal(slurp(path), "y");
  snprintf(path, sizeof path, "%s/processing", dir);
  assert_int_equal(entries(path), 0);
}

int main(void) {
  if (!mkdtemp(base)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inbound_folders_are_made_with_their_parents),
      cmocka_unit_test(test_atomic_write_leaves_only_the_finished_file),
      cmocka_unit_test(test_finish_files_away_with_the_reason),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", base);
  if (system(cmd) != 0) return 1;
  return rc;
}
