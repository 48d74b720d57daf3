/* test_site_config.c - `dray check` semantics: every error is reported
 * with FILE:LINE:COL, secrets never appear in errors, and a good site
 * loads. The testkit plugin (tests/plugins) is on DRAY_PLUGIN_PATH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "site_config.h"

static char dir[256];

static const char *write_site(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

/* Loads `text`; returns the diagnostics joined by '\n' (caller frees). */
static char *check(const char *text, struct dray__site **site_out) {
  const char *path = write_site("site.yaml", text);
  struct dray__registry reg;
  struct dray__diag diag = {0};
  dray__registry_init(&reg);
  struct dray__site *site = dray__site_load(path, &reg, &diag);
  size_t len = 1;
  for (size_t i = 0; i < diag.count; i++) len += strlen(diag.lines[i]) + 1;
  char *all = calloc(1, len);
  for (size_t i = 0; i < diag.count; i++) {
    strcat(all, diag.lines[i]);
    strcat(all, "\n");
  }
  if (site_out) *site_out = site;
  else dray__site_free(&site);
  dray__diag_release(&diag);
  dray__registry_release(&reg);
  return all;
}

static void expect(const char *all, const char *needle) {
  const char *text = all ? all : "(nothing)";
  if (!strstr(text, needle)) fail_msg("expected \"%s\" in:\n%s", needle, text);
}

static void test_valid_site_loads_with_defaults(void **s) {
  (void)s;
  struct dray__site *site = NULL;
  char *errors = check(
      "site: t\n"
      "data_dir: data\n"
      "instances:\n"
      "  src: { plugin: testkit, config: { count: 3 } }\n"
      "  dst: { plugin: testkit, workers: 4, queue_capacity: 10 }\n"
      "routes:\n"
      "  - { from: src, to: dst }\n",
      &site);
  assert_string_equal(errors, "");
  assert_non_null(site);
  assert_int_equal(site->instance_count, 2);
  assert_int_equal(site->instances[1].workers, 4);
  assert_string_equal(site->routes[0].types[0], "*"); /* default: all types */
  assert_non_null(strstr(site->data_dir, "/data"));   /* relative to the file */
  assert_string_equal(dray__config_get_string(&site->instances[0].values, "type"),
                      "dray.test.item.v1"); /* plugin default */
  dray__site_free(&site);
  free(errors);
}

static void test_every_error_is_reported_with_its_position(void **s) {
  (void)s;
  char *errors = check(
      "site: t\n"
      "data_dir: data\n"
      "colour: blue\n"
      "instances:\n"
      "  src:\n"
      "    plugin: testkit\n"
      "    workers: many\n"
      "    config:\n"
      "      count: lots\n"
      "      bogus: 1\n"
      "  other: { plugin: nosuchplugin }\n"
      "routes:\n"
      "  - { from: src, to: [ghost] }\n",
      NULL);
  expect(errors, "site.yaml:3:1: unknown key \"colour\" in the site file");
  expect(errors, "site.yaml:7:14: workers: expected an integer from 1 to 64, got \"many\"");
  expect(errors, "site.yaml:9:14: instance src: count: expected an integer, got \"lots\"");
  expect(errors, "site.yaml:10:7: instance src: unknown key \"bogus\" for plugin testkit");
  expect(errors, "site.yaml:11:20: instance other: unknown plugin \"nosuchplugin\"");
  expect(errors, "site.yaml:13:23: route to unknown instance \"ghost\"");
  free(errors);
}

static void test_wrong_types_are_named(void **s) {
  (void)s;
  char *errors = check(
      "site: [a, b]\n"
      "data_dir: data\n"
      "instances:\n"
      "  x: { plugin: testkit, config: { count: [1, 2] } }\n",
      NULL);
  expect(errors, "site.yaml:1:7: site: expected a scalar, got a list");
  expect(errors, "site.yaml:4:42: instance x: count: expected a int value, got a list");
  free(errors);
}

static void test_yaml_syntax_error_has_a_position(void **s) {
  (void)s;
  char *errors = check("site: t\ninstances: {a: [1, 2}\n", NULL);
  expect(errors, "site.yaml:2:");
  free(errors);
}

static void test_routing_cycle_is_an_error(void **s) {
  (void)s;
  char *errors = check(
      "site: t\n"
      "data_dir: data\n"
      "instances:\n"
      "  a: { plugin: testkit }\n"
      "  b: { plugin: testkit }\n"
      "routes:\n"
      "  - { from: a, types: [dray.order.*], to: b }\n"
      "  - { from: b, types: [\"*\"], to: a }\n",
      NULL);
  expect(errors, "routing cycle: messages of type");
  free(errors);
}

static void test_loop_of_disjoint_types_is_not_a_cycle(void **s) {
  (void)s;
  char *errors = check(
      "site: t\n"
      "data_dir: data\n"
      "instances:\n"
      "  sap: { plugin: testkit }\n"
      "  carrier: { plugin: testkit }\n"
      "  billing: { plugin: testkit }\n"
      "routes:\n"
      "  - { from: sap, types: [dray.order.*], to: carrier }\n"
      "  - { from: carrier, types: [dray.shipment.milestone.*], to: billing }\n"
      "  - { from: billing, types: [dray.invoice.*], to: sap }\n",
      NULL);
  assert_string_equal(errors, "");
  free(errors);
}

static void test_references_resolve_and_secrets_stay_hidden(void **s) {
  (void)s;
  char secret_path[512];
  snprintf(secret_path, sizeof secret_path, "%s/token", dir);
  FILE *f = fopen(secret_path, "w");
  fputs("s3cr3t-value\n", f);
  fclose(f);
  setenv("DRAY_TEST_COUNT", "7", 1);
  char text[2048];
  snprintf(text, sizeof text,
           "site: t\n"
           "data_dir: data\n"
           "instances:\n"
           "  x: { plugin: testkit, config: { count: \"${env:DRAY_TEST_COUNT}\","
           " token: \"${file:%s}\" } }\n",
           secret_path);
  struct dray__site *site = NULL;
  char *errors = check(text, &site);
  assert_string_equal(errors, "");
  assert_int_equal(dray__config_get_int(&site->instances[0].values, "count", 0), 7);
  assert_null(dray__config_get_string(&site->instances[0].values, "token"));
  assert_string_equal(dray__config_get_secret(&site->instances[0].values, "token"),
                      "s3cr3t-value");
  dray__site_free(&site);
  free(errors);

  /* an invalid value of a secret parameter is reported without the value */
  errors = check(
      "site: t\ndata_dir: d\ninstances:\n"
      "  x: { plugin: testkit, config: { token: [s3cr3t] } }\n", NULL);
  expect(errors, "token");
  assert_null(strstr(errors, "s3cr3t"));
  free(errors);
  errors = check(
      "site: t\ndata_dir: d\ninstances:\n"
      "  x: { plugin: testkit, config: { count: \"${env:DRAY_TEST_UNSET_VAR}\" } }\n",
      NULL);
  expect(errors, "site.yaml:4:42: environment variable DRAY_TEST_UNSET_VAR is not set");
  free(errors);
}

static void test_glob_matching_and_intersection(void **s) {
  (void)s;
  assert_true(dray__glob_match("dray.order.*", "dray.order.created.v1"));
  assert_false(dray__glob_match("dray.order.*", "dray.invoice.finalized.v1"));
  assert_true(dray__glob_match("*.milestone.*", "dray.shipment.milestone.v1"));
  assert_true(dray__glob_match("*", ""));
  assert_true(dray__glob_intersect("dray.order.*", "*.created.v1"));
  assert_false(dray__glob_intersect("dray.order.*", "dray.invoice.*"));
  assert_true(dray__glob_intersect("*", "dray.invoice.*"));
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/dray-site-test-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_site_loads_with_defaults),
      cmocka_unit_test(test_every_error_is_reported_with_its_position),
      cmocka_unit_test(test_wrong_types_are_named),
      cmocka_unit_test(test_yaml_syntax_error_has_a_position),
      cmocka_unit_test(test_routing_cycle_is_an_error),
      cmocka_unit_test(test_loop_of_disjoint_types_is_not_a_cycle),
      cmocka_unit_test(test_references_resolve_and_secrets_stay_hidden),
      cmocka_unit_test(test_glob_matching_and_intersection),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) rc = rc ? rc : 0;
  return rc;
}
