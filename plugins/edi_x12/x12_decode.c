/* x12_decode.c - see x12_decode.h. */
#include "x12_decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A mapped message waiting for its interchange's IEA. */
struct held {
  struct x12_out_msg msg;
  char *type;
  char *body;
};

struct run {
  const struct x12_decode_options *o;
  struct x12_decode_report *rep;
  const char *origin;
  struct held *held;
  size_t nheld, cap_held;
  int failed;
};

static void note(struct run *r, const struct x12_pos *pos, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));
static void note(struct run *r, const struct x12_pos *pos, const char *fmt,
                 ...) {
  if (r->rep->first_error[0]) return;
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  snprintf(r->rep->first_error, sizeof(r->rep->first_error), "%s:%u:%u: %s",
           r->origin ? r->origin : "input", pos ? pos->line : 0,
           pos ? pos->column : 0, what);
}

static void drop_held(struct run *r) {
  for (size_t i = 0; i < r->nheld; i++) {
    free(r->held[i].type);
    free(r->held[i].body);
  }
  r->nheld = 0;
}

static int hold(void *ctx, const struct x12_out_msg *m) {
  struct run *r = ctx;
  if (!r->o->hold_until_iea) {
    r->rep->messages++;
    if (r->o->emit(r->o->ctx, m) < 0) {
      r->failed = 1;
      return -1;
    }
    return 0;
  }
  if (r->nheld == r->cap_held) {
    size_t cap = r->cap_held ? r->cap_held * 2 : 16;
    void *p = realloc(r->held, cap * sizeof(*r->held));
    if (!p) return -1;
    r->held = p;
    r->cap_held = cap;
  }
  struct held *h = &r->held[r->nheld];
  h->msg = *m;
  h->type = strdup(m->type);
  h->body = malloc(m->body_len + 1);
  if (!h->type || !h->body) {
    free(h->type);
    free(h->body);
    return -1;
  }
  memcpy(h->body, m->body, m->body_len);
  h->body[m->body_len] = '\0';
  h->msg.type = h->type;
  h->msg.body = h->body;
  r->nheld++;
  return 0;
}

static void count(void *ctx, const char *name) {
  struct run *r = ctx;
  if (r->o->count) r->o->count(r->o->ctx, name);
}

static void on_set(void *ctx, const struct x12_interchange_result *ic,
                   const struct x12_group_result *g,
                   const struct x12_set_result *s,
                   const struct x12_set_segments *segs) {
  struct run *r = ctx;
  r->rep->sets++;
  if (s->status != 'A') {
    r->rep->rejected_sets++;
    if (s->nerrors) {
      const struct x12_segment_error *e = &s->errors[0];
      const struct x12_pos *p =
          e->nelements ? &e->elements[0].pos : &e->pos;
      char ak4[24] = "";
      if (e->nelements)
        snprintf(ak4, sizeof(ak4), ", AK403=%u", e->elements[0].code);
      note(r, p,
           "%s set ST02=%s rejected: segment %s (position %u in set): %s "
           "(AK304=%u%s)",
           s->st01, s->st02, e->id, e->position, e->message, e->code, ak4);
    } else {
      note(r, &s->pos, "%s set ST02=%s rejected: %s (AK502=%u)", s->st01,
           s->st02, x12_set_error_text(s->ncodes ? s->codes[0] : 5),
           s->ncodes ? s->codes[0] : 5);
    }
    return;
  }
  if (r->failed || !segs) return;
  struct x12_map_env env = {ic, g, s, r->o->currency, r->o->local_tz,
                            count, r};
  char err[256];
  if (x12_map_set(&env, segs, hold, r, err, sizeof(err)) < 0) {
    r->failed = 1;
    note(r, &s->pos, "%s", err);
  }
}

static void on_interchange(void *ctx, struct x12_interchange_result *ic) {
  struct run *r = ctx;
  const struct x12_decode_options *o = r->o;
  r->rep->interchanges++;
  r->rep->warnings += ic->warnings;
  if (o->expect_sender && *o->expect_sender && ic->isa06[0] &&
      strcmp(o->expect_sender, ic->isa06) != 0 && ic->ta1_status != 'R') {
    memcpy(ic->ta1_code, "006", 4);
    ic->ta1_status = 'R';
    ic->error_pos = ic->pos;
    snprintf(ic->message, sizeof(ic->message),
             "ISA06 sender \"%s\" is not the configured partner \"%s\"",
             ic->isa06, o->expect_sender);
  }
  if (!x12_interchange_ok(ic))
    note(r, &ic->error_pos, "interchange ISA13=%s rejected, TA1 %s (%s): %s",
         ic->isa13, ic->ta1_code, x12_ta1_text(ic->ta1_code), ic->message);
  for (uint32_t g = 0; g < ic->ngroups; g++)
    if (ic->groups[g].status != 'A' && ic->groups[g].ncodes) {
      const struct x12_group_result *gr = &ic->groups[g];
      note(r, &gr->pos, "functional group GS06=%s rejected: %s (AK905=%u)",
           gr->gs06, x12_group_error_text(gr->codes[0]), gr->codes[0]);
    }
  if (!x12_interchange_ok(ic)) {
    r->rep->rejected_interchanges++;
    drop_held(r);
  } else if (!r->failed) {
    /* inbound TA1s become canonical acks */
    if (ic->ta1_count) {
      struct x12_map_env env = {ic, NULL, NULL, o->currency, o->local_tz,
                                count, r};
      char err[128];
      if (x12_map_ta1(&env, hold, r, err, sizeof(err)) < 0) r->failed = 1;
    }
    for (size_t i = 0; i < r->nheld && !r->failed; i++) {
      r->rep->messages++;
      if (o->emit(o->ctx, &r->held[i].msg) < 0) r->failed = 1;
    }
    drop_held(r);
    if (!r->failed && o->isa_record && ic->isa13[0])
      o->isa_record(o->ctx, ic->isa05, ic->isa06, ic->isa13);
  }
  /* acknowledgments */
  if (r->failed || !o->ack || (o->ack_kind == X12_ACK_NONE && !o->ta1))
    return;
  /* one durable counter per ack interchange: ISA13 and GS06 share it
   * (each kv_next is a durable write) */
  long isa13 = 1, gs06;
  if (o->next_control && o->next_control(o->ctx, "doc", &isa13) < 0) {
    r->failed = 1;
    return;
  }
  gs06 = isa13;
  struct x12_delimiters d;
  x12_default_delimiters(&d);
  struct x12_writer w;
  x12w_init(&w, &d, "\n");
  struct x12_ack_options ao = {o->ack_kind, o->ta1, o->our_qual, o->our_id,
                               isa13, gs06,
                               o->ack_date8 ? o->ack_date8 : "20000101",
                               o->ack_time4 ? o->ack_time4 : "0000"};
  int built = x12_ack_build(ic, &ao, &w);
  if (built > 0) {
    char kind[16] = "";
    if (strstr(w.data, "\nTA1*")) snprintf(kind, sizeof(kind), "TA1");
    if (strstr(w.data, "ST*997*"))
      snprintf(kind + strlen(kind), sizeof(kind) - strlen(kind), "%s997",
               kind[0] ? "+" : "");
    if (strstr(w.data, "ST*999*"))
      snprintf(kind + strlen(kind), sizeof(kind) - strlen(kind), "%s999",
               kind[0] ? "+" : "");
    char *body = x12_map_ack_sent(ic, kind, isa13, w.data);
    if (!body || o->ack(o->ctx, ic, kind, w.data, w.len, body, isa13) < 0)
      r->failed = 1;
    free(body);
  } else if (built < 0) {
    r->failed = 1;
  }
  x12w_release(&w);
}

static int isa_seen_hook(void *ctx, const char *q, const char *id,
                         const char *n) {
  struct run *r = ctx;
  return r->o->isa_seen ? r->o->isa_seen(r->o->ctx, q, id, n) : 0;
}

int x12_decode_buffer(const char *buf, size_t len, const char *origin,
                      const struct x12_decode_options *o,
                      struct x12_decode_report *rep) {
  struct run r = {o, rep, origin, NULL, 0, 0, 0};
  memset(rep, 0, sizeof(*rep));
  struct x12_validator_ops ops = {o->isa_seen ? isa_seen_hook : NULL, on_set,
                                  on_interchange};
  struct x12_validator v;
  struct x12_tokenizer t;
  /* ~2 KB of spans: heap, so deep callers and fuzzers keep a small stack */
  struct x12_segment *seg = malloc(sizeof(*seg));
  if (!seg) return -1;
  x12_validator_init(&v, &ops, &r, X12_VAL_COLLECT);
  x12_tok_init(&t, o->tok_flags);
  x12_tok_feed(&t, buf, len, 1);
  int tr;
  while (!r.failed && (tr = x12_tok_next(&t, seg)) == X12_TOK_SEGMENT) {
    if (x12_validator_segment(&v, seg, &t.delims) < 0) {
      r.failed = 1;
      break;
    }
  }
  if (!r.failed && tr == X12_TOK_ERROR) x12_validator_syntax_error(&v, &t);
  if (!r.failed) x12_validator_finish(&v);
  rep->warnings += t.warnings;
  x12_validator_release(&v);
  x12_tok_release(&t);
  drop_held(&r);
  free(r.held);
  free(seg);
  x12_map_thread_release(); /* reused within one input, not kept after */
  if (len == 0 && !rep->first_error[0])
    note(&r, NULL, "empty input (no ISA segment)");
  if (r.failed) {
    rep->stopped = 1;
    return -1;
  }
  return (rep->rejected_interchanges || rep->rejected_sets ||
          rep->first_error[0])
             ? 1
             : 0;
}
