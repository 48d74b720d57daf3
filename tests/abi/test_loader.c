/* test_loader.c - every refusal of the plugin loader has its own clear
 * message, and a good plugin loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plugin_loader.h"

static void expect_refusal(const char *path, const char *needle) {
  struct dray__plugin *p = NULL;
  char err[1024] = "";
  assert_int_equal(dray__plugin_open(path, &p, err, sizeof err), -1);
  assert_null(p);
  if (!strstr(err, needle)) fail_msg("expected \"%s\" in \"%s\"", needle, err);
  assert_non_null(strstr(err, path)); /* names the file */
}

static void test_good_plugin_loads(void **s) {
  (void)s;
  struct dray__plugin *p = NULL;
  char err[1024] = "";
  assert_int_equal(dray__plugin_open(FIXTURE_GOOD, &p, err, sizeof err), 0);
  assert_string_equal(p->desc->name, "fixture");
  dray__plugin_free(&p);
}

static void test_missing_file_is_refused(void **s) {
  (void)s;
  expect_refusal("/nonexistent/dir/plugin.so", "cannot open: No such file");
}

static void test_non_elf_file_is_refused(void **s) {
  (void)s;
  expect_refusal(FIXTURE_NOT_SO, "not a loadable shared object");
}

static void test_missing_entry_symbol_is_refused(void **s) {
  (void)s;
  expect_refusal(FIXTURE_NO_ENTRY, "entry symbol dray_plugin_entry not found");
}

static void test_entry_borrowed_from_a_dependency_is_refused(void **s) {
  (void)s;
  expect_refusal(FIXTURE_FOREIGN_ENTRY, "libentrydep.so, not this file");
}

static void test_plugin_refusing_the_host_is_reported(void **s) {
  (void)s;
  char want[128];
  snprintf(want, sizeof want, "plugin refused host ABI %d.%d (entry returned -22)",
           DRAY_ABI_MAJOR, DRAY_ABI_MINOR);
  expect_refusal(FIXTURE_REFUSES_HOST, want);
}

static void test_wrong_major_is_refused(void **s) {
  (void)s;
  expect_refusal(FIXTURE_WRONG_MAJOR, "built for ABI major 2, host is 1");
}

static void test_newer_minor_is_refused(void **s) {
  (void)s;
  char want[128];
  snprintf(want, sizeof want, "built for ABI %d.%d, newer than host %d.%d", DRAY_ABI_MAJOR,
           DRAY_ABI_MINOR + 1, DRAY_ABI_MAJOR, DRAY_ABI_MINOR);
  expect_refusal(FIXTURE_NEWER_MINOR, want);
}

static void test_short_descriptor_is_refused(void **s) {
  (void)s;
  expect_refusal(FIXTURE_SHORT_STRUCT, "descriptor struct_size 24 is smaller than ABI 1.0's");
}

static void test_missing_required_callback_is_refused(void **s) {
  (void)s;
  expect_refusal(FIXTURE_MISSING_CALLBACK, "required callback process (destination) missing");
}

static void test_invalid_schema_is_refused(void **s) {
  (void)s;
  expect_refusal(FIXTURE_BAD_SCHEMA, "invalid config schema: parameter mode: enum without values");
}

static void test_duplicate_name_is_refused(void **s) {
  (void)s;
  struct dray__registry reg;
  dray__registry_init(&reg);
  assert_int_equal(dray__registry_add_file(&reg, FIXTURE_DUP_A), 0);
  assert_int_equal(dray__registry_add_file(&reg, FIXTURE_DUP_B), -1);
  assert_int_equal(reg.count, 1);
  assert_int_equal(reg.error_count, 1);
  assert_non_null(strstr(reg.errors[0], "duplicate plugin name \"dup\""));
  assert_non_null(strstr(reg.errors[0], FIXTURE_DUP_A));
  dray__registry_release(&reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_plugin_loads),
      cmocka_unit_test(test_missing_file_is_refused),
      cmocka_unit_test(test_non_elf_file_is_refused),
      cmocka_unit_test(test_missing_entry_symbol_is_refused),
      cmocka_unit_test(test_entry_borrowed_from_a_dependency_is_refused),
      cmocka_unit_test(test_plugin_refusing_the_host_is_reported),
      cmocka_unit_test(test_wrong_major_is_refused),
      cmocka_unit_test(test_newer_minor_is_refused),
      cmocka_unit_test(test_short_descriptor_is_refused),
      cmocka_unit_test(test_missing_required_callback_is_refused),
      cmocka_unit_test(test_invalid_schema_is_refused),
      cmocka_unit_test(test_duplicate_name_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
