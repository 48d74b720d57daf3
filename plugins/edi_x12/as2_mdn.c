/* as2_mdn.c - see as2_mdn.h. */
#include "as2_mdn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "as2_mime.h"
#include "as2_smime.h"

char *as2_mdn_build(const struct as2_mdn_fields *f, X509 *cert, EVP_PKEY *key,
                    const EVP_MD *md, size_t *out_len, char *err, size_t size) {
  const char *b = "----=_dray_mdn_report";
  size_t cap = 4096 + (f->text ? strlen(f->text) : 0);
  char *report = malloc(cap);
  if (!report) return NULL;
  int n = snprintf(report, cap,
                   "Content-Type: multipart/report; report-type=disposition-notification; "
                   "boundary=\"%s\"\r\n\r\n--%s\r\nContent-Type: text/plain\r\n\r\n%s\r\n"
                   "--%s\r\nContent-Type: message/disposition-notification\r\n"
                   "Content-Transfer-Encoding: 7bit\r\n\r\n"
                   "Reporting-UA: %s\r\nOriginal-Recipient: rfc822; %s\r\n"
                   "Final-Recipient: rfc822; %s\r\nOriginal-Message-ID: %s\r\n"
                   "Disposition: automatic-action/MDN-sent-automatically; %s\r\n",
                   b, b, f->text ? f->text : "", b,
                   f->reporting_ua ? f->reporting_ua : "Dray edi_x12", f->recipient,
                   f->recipient, f->original_message_id, f->disposition);
  if (f->mic && *f->mic)
    n += snprintf(report + n, cap - (size_t)n, "Received-Content-MIC: %s\r\n", f->mic);
  n += snprintf(report + n, cap - (size_t)n, "\r\n--%s--\r\n", b);
  if (!key) {
    *out_len = (size_t)n;
    return report;
  }
  char *s = as2_sign(report, (size_t)n, cert, key, md, out_len, err, size);
  free(report);
  return s;
}

/* Field of the message/disposition-notification part. */
static void field(const char *block, size_t len, const char *name, char *out,
                  size_t size) {
  out[0] = '\0';
  as2_header(block, len, name, out, size);
}

int as2_mdn_parse(const char *content_type, const char *body, size_t len,
                  X509 *signer, time_t at, struct as2_mdn *m, char *err,
                  size_t size) {
  char boundary[256];
  memset(m, 0, sizeof(*m));
  const char *report = body;
  size_t report_len = len;
  char report_ct[512];
  snprintf(report_ct, sizeof(report_ct), "%s", content_type);
  if (as2_type_is(content_type, "multipart/signed")) {
    const char *p0, *p1;
    size_t l0, l1;
    if (as2_param(content_type, "boundary", boundary, sizeof(boundary)) < 0 ||
        as2_multipart_part(body, len, boundary, 0, &p0, &l0) < 0 ||
        as2_multipart_part(body, len, boundary, 1, &p1, &l1) < 0) {
      snprintf(err, size, "signed MDN: multipart/signed without two parts");
      return -1;
    }
    m->signed_mdn = 1;
    if (signer) {
      struct as2_entity sig;
      char cte[64] = "";
      if (as2_entity_split(p1, l1, &sig) < 0) {
        snprintf(err, size, "signed MDN: signature part has no headers");
        return -1;
      }
      as2_header(sig.headers, sig.headers_len, "Content-Transfer-Encoding", cte, sizeof(cte));
      int r = as2_verify(p0, l0, sig.body, sig.body_len, !strcasecmp(cte, "base64"),
                         signer, at, err, size);
      if (r != AS2_VERIFY_OK) return -1;
      m->verified = 1;
    }
    struct as2_entity inner;
    if (as2_entity_split(p0, l0, &inner) < 0 ||
        as2_header(inner.headers, inner.headers_len, "Content-Type", report_ct,
                   sizeof(report_ct)) < 0) {
      snprintf(err, size, "signed MDN: first part has no Content-Type");
      return -1;
    }
    report = inner.body;
    report_len = inner.body_len;
  }
  if (!as2_type_is(report_ct, "multipart/report")) {
    snprintf(err, size, "MDN is not multipart/report (Content-Type: %.100s)", report_ct);
    return -1;
  }
  if (as2_param(report_ct, "boundary", boundary, sizeof(boundary)) < 0) {
    snprintf(err, size, "MDN: multipart/report without boundary");
    return -1;
  }
  for (int i = 0; i < 8; i++) {
    const char *p;
    size_t l;
    struct as2_entity e;
    char ct[256];
    if (as2_multipart_part(report, report_len, boundary, i, &p, &l) < 0) break;
    if (as2_entity_split(p, l, &e) < 0 ||
        as2_header(e.headers, e.headers_len, "Content-Type", ct, sizeof(ct)) < 0 ||
        !as2_type_is(ct, "message/disposition-notification"))
      continue;
    field(e.body, e.body_len, "Original-Message-ID", m->original_message_id,
          sizeof(m->original_message_id));
    field(e.body, e.body_len, "Disposition", m->disposition, sizeof(m->disposition));
    field(e.body, e.body_len, "Received-Content-MIC", m->mic, sizeof(m->mic));
    /* "processed" with no "/error" or "/failure" modifier (any case) */
    const char *semi = strchr(m->disposition, ';');
    const char *d = semi ? semi + 1 : m->disposition;
    while (*d == ' ') d++;
    m->processed = !strncasecmp(d, "processed", 9) && !strcasestr(d, "error") &&
                   !strcasestr(d, "failure") && !strcasestr(d, "failed");
    if (!m->disposition[0]) {
      snprintf(err, size, "MDN: disposition-notification part has no Disposition");
      return -1;
    }
    return 0;
  }
  snprintf(err, size, "MDN: no message/disposition-notification part");
  return -1;
}
