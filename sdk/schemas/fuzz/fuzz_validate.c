/* fuzz_validate.c - libFuzzer target for the canonical validator.
 *
 * Includes validate.c so it can reach the compiled schemas: each input is
 * (1) validated as a whole CloudEvent, (2) validated as the body of a
 * canonical type picked by its first byte, and (3) matched against every
 * schema pattern by both the built-in class matcher and regexec, which
 * must agree (the built-in matcher is an optimisation, never a change in
 * meaning). Build: meson setup -Dfuzz=true with CC=clang. */
#include "../../lib/validate.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  struct registry *reg = get_registry();
  if (!reg)
    abort(); /* the embedded schemas must always compile */

  dray_validate_event((const char *)data, size, err, sizeof err);
  if (size > 1)
    dray_validate_body(reg->types[data[0] % reg->ntypes].type,
                       (const char *)data + 1, size - 1, err, sizeof err);

  char *s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  size_t len = strlen(s);
  for (size_t i = 0; i < reg->ncompiled; i++) {
    const struct snode *n = reg->compiled[i].node;
    if (!n->simple)
      continue;
    int fast = simple_match_from(n->simple, 0, (const unsigned char *)s, len);
    int slow = regexec(n->re, s, 0, NULL, 0) == 0;
    if (fast != slow) {
      fprintf(stderr, "pattern %s: built-in %d, regexec %d\n", n->pattern,
              fast, slow);
      abort();
    }
  }
  free(s);
  return 0;
}
