/* x12_ack.c - see x12_ack.h. */
#include "x12_ack.h"

#include <stdio.h>
#include <string.h>

static int group_kind(const struct x12_group_result *g, int kind) {
  if (kind == X12_ACK_AUTO)
    return strncmp(g->gs08, "005", 3) >= 0 ? X12_ACK_999 : X12_ACK_997;
  return kind;
}

static void codes(struct x12_writer *w, const uint8_t *c, uint8_t n) {
  for (uint8_t i = 0; i < n; i++) x12w_elf(w, "%u", c[i]);
}

/* Echoed values must be valid in the ack itself: an AK2 needs ST01 of 3
 * alphanumerics and ST02 of 4-9 printable characters; an AK1 a GS01 from
 * the 479 list. Sets or groups whose identifiers cannot be echoed are left
 * out of the AK2 loops (still counted in AK9) or of the 997. */
static int echoable(const char *s, size_t min, size_t max, int alnum) {
  size_t n = strlen(s);
  if (n < min || n > max) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x21 || c > 0x7e) return 0;
    if (alnum && !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return 0;
    if (strchr("*>~^|:", c)) return 0;
  }
  return 1;
}

static int gs01_ok(const char *gs01) {
  const struct x12_segment_def *ak1 = x12_segment_def_find("AK1", 3);
  return strlen(gs01) == 2 && ak1 && ak1->count &&
         x12_element_code_ok(&ak1->el[0], gs01, 2);
}

static void set_ack(struct x12_writer *w, const struct x12_set_result *s,
                    int k999) {
  if (!echoable(s->st01, 3, 3, 1) || !echoable(s->st02, 4, 9, 0)) return;
  x12w_begin(w, "AK2");
  x12w_el(w, s->st01);
  x12w_el(w, s->st02);
  if (k999 && s->st03[0]) x12w_el(w, s->st03);
  x12w_end(w);
  for (uint16_t i = 0; i < s->nerrors; i++) {
    const struct x12_segment_error *e = &s->errors[i];
    /* AK301 is 2-3 alphanumerics: an unreadable tag is echoed as far as
     * it can be, else as "ZZ" */
    char id[4];
    size_t k = 0;
    for (const char *c = e->id; *c && k < 3; c++)
      if ((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')) id[k++] = *c;
    id[k] = '\0';
    x12w_begin(w, k999 ? "IK3" : "AK3");
    x12w_el(w, k >= 2 ? id : "ZZ");
    x12w_elf(w, "%u", e->position);
    x12w_el(w, NULL);
    x12w_elf(w, "%u", e->code);
    x12w_end(w);
    for (uint16_t j = 0; j < e->nelements; j++) {
      const struct x12_element_error *el = &e->elements[j];
      x12w_begin(w, k999 ? "IK4" : "AK4");
      if (k999 && el->component) {
        char pos[16];
        snprintf(pos, sizeof(pos), "%u", el->element);
        x12w_comp(w, pos, 1);
        snprintf(pos, sizeof(pos), "%u", el->component);
        x12w_comp(w, pos, 0);
      } else {
        x12w_elf(w, "%u", el->element);
      }
      if (el->ref)
        x12w_elf(w, "%u", el->ref);
      else
        x12w_el(w, NULL);
      x12w_elf(w, "%u", el->code);
      x12w_el(w, el->bad);
      x12w_end(w);
    }
  }
  x12w_begin(w, k999 ? "IK5" : "AK5");
  x12w_eln(w, &s->status, 1);
  codes(w, s->codes, s->ncodes);
  x12w_end(w);
}

/* An ID we can echo: printable, not blank, no delimiter of the writer,
 * else the fallback. */
static const char *usable(const struct x12_writer *w, const char *id,
                          const char *fallback) {
  int visible = 0;
  if (!id) return fallback;
  for (const char *c = id; *c; c++) {
    unsigned char u = (unsigned char)*c;
    if (u < 0x20 || u == 0x7f || u == w->d.element || u == w->d.component ||
        u == w->d.repetition || u == w->d.terminator[0])
      return fallback;
    if (*c != ' ') visible = 1;
  }
  return visible ? id : fallback;
}

/* An ISA qualifier we can echo: two alphanumerics, else ZZ. */
static const char *qual_or_zz(const char *q) {
  if (strlen(q) != 2) return "ZZ";
  for (int i = 0; i < 2; i++)
    if (!((q[i] >= '0' && q[i] <= '9') || (q[i] >= 'A' && q[i] <= 'Z')))
      return "ZZ";
  return q;
}

int x12_ack_build(const struct x12_interchange_result *ic,
                  const struct x12_ack_options *o, struct x12_writer *w) {
  int want_ta1 = o->ta1 && (strcmp(ic->isa14, "1") == 0 ||
                            ic->ta1_status == 'R');
  uint32_t nack = 0;
  if (ic->ta1_status != 'R' && o->kind != X12_ACK_NONE)
    for (uint32_t g = 0; g < ic->ngroups; g++)
      if (strcmp(ic->groups[g].gs01, "FA") != 0 && gs01_ok(ic->groups[g].gs01) &&
          echoable(ic->groups[g].gs06, 1, 9, 1))
        nack++;
  if (!want_ta1 && nack == 0) return 0;

  int any999 = 0;
  for (uint32_t g = 0; g < ic->ngroups && nack; g++)
    if (group_kind(&ic->groups[g], o->kind) == X12_ACK_999) any999 = 1;
  /* An interchange refused before its ISA could be read has empty
   * fields: fall back so that our TA1 is still a valid interchange. */
#define OR(a, b) ((a) && (a)[0] ? (a) : (b))
  struct x12_isa_fields f = {
      .sender_qual = o->our_qual ? o->our_qual : qual_or_zz(ic->isa07),
      .sender_id = OR(o->our_id, usable(w, ic->isa08, "UNKNOWN")),
      .receiver_qual = qual_or_zz(ic->isa05),
      .receiver_id = usable(w, ic->isa06, "UNKNOWN"),
      .date6 = o->date8 + 2,
      .time4 = o->time4,
      .version = any999 ? "00501" : "00401",
      .control_number = o->isa13,
      .ack_requested = 0,
      .usage = ic->isa15[0] == 'T' ? 'T' : 'P',
  };
#undef OR
  x12w_isa(w, &f);
  if (want_ta1) {
    x12w_begin(w, "TA1");
    /* TA1 echoes ISA13/09/10; unreadable ones become zeros / our date */
    int ok13 = strlen(ic->isa13) == 9 && strspn(ic->isa13, "0123456789") == 9;
    int ok09 = strlen(ic->isa09) == 6 && x12_valid_date(ic->isa09, 6);
    int ok10 = strlen(ic->isa10) == 4 && x12_valid_time(ic->isa10, 4);
    x12w_el(w, ok13 ? ic->isa13 : "000000000");
    x12w_el(w, ok09 && ok10 ? ic->isa09 : o->date8 + 2);
    x12w_el(w, ok09 && ok10 ? ic->isa10 : o->time4);
    char st = ic->ta1_status == 'R' ? 'R' : 'A';
    x12w_eln(w, &st, 1);
    x12w_el(w, ic->ta1_code);
    x12w_end(w);
  }
  uint32_t groups_out = 0;
  if (nack) {
    groups_out = 1;
    x12w_begin(w, "GS");
    x12w_el(w, "FA");
    /* GS02/GS03 are 2-15 characters; a shorter ISA ID cannot be used */
    x12w_el(w, strlen(f.sender_id) >= 2 ? f.sender_id : "UNKNOWN");
    x12w_el(w, strlen(f.receiver_id) >= 2 ? f.receiver_id : "UNKNOWN");
    x12w_el(w, o->date8);
    x12w_el(w, o->time4);
    x12w_elf(w, "%ld", o->gs06);
    x12w_el(w, "X");
    x12w_el(w, any999 ? "005010X231" : "004010");
    x12w_end(w);
    uint32_t st = 0;
    for (uint32_t gi = 0; gi < ic->ngroups; gi++) {
      const struct x12_group_result *g = &ic->groups[gi];
      if (strcmp(g->gs01, "FA") == 0 || !gs01_ok(g->gs01) || !echoable(g->gs06, 1, 9, 1))
        continue;
      int k999 = group_kind(g, o->kind) == X12_ACK_999;
      char stn[10];
      snprintf(stn, sizeof(stn), "%04u", ++st);
      x12w_begin(w, "ST");
      w->set_segments = 0;
      x12w_el(w, k999 ? "999" : "997");
      x12w_el(w, stn);
      if (k999) x12w_el(w, "005010X231");
      x12w_end(w);
      x12w_begin(w, "AK1");
      x12w_el(w, g->gs01);
      x12w_el(w, g->gs06);
      if (k999 && g->gs08[0]) x12w_el(w, g->gs08);
      x12w_end(w);
      for (uint32_t si = 0; si < g->nsets; si++)
        set_ack(w, &g->sets[si], k999);
      x12w_begin(w, "AK9");
      x12w_eln(w, &g->status, 1);
      x12w_elf(w, "%u", g->included ? g->included : g->nsets);
      x12w_elf(w, "%u", g->received);
      x12w_elf(w, "%u", g->accepted);
      codes(w, g->codes, g->ncodes);
      x12w_end(w);
      x12w_begin(w, "SE");
      x12w_elf(w, "%u", w->set_segments + 1);
      x12w_el(w, stn);
      x12w_end(w);
    }
    x12w_begin(w, "GE");
    x12w_elf(w, "%u", st);
    x12w_elf(w, "%ld", o->gs06);
    x12w_end(w);
  }
  x12w_begin(w, "IEA");
  x12w_elf(w, "%u", groups_out);
  x12w_elf(w, "%09ld", o->isa13 % 1000000000L);
  x12w_end(w);
  return w->oom ? -1 : 1;
}
