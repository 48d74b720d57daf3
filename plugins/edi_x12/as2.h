/* as2.h - AS2 (RFC 4130) transport of the edi_x12 plugin: receive over the
 * host's HTTP listener, send with libcurl, S/MIME layering with OpenSSL CMS
 * (as2_smime.c), MDNs (as2_mdn.c).
 *
 * The payload handed in by as2_receive is passed to
 * edi_x12_receive_payload() (edi_x12.c), which decodes it and emits.
 */
#ifndef EDI_AS2_H
#define EDI_AS2_H

#include <dray/dray.h>
#include <stddef.h>

struct as2;

/* Reads the as2_* config of inst, loads certificates and registers the
 * receive route. plugin_state is the edi_x12 state passed back to
 * edi_x12_receive_payload. NULL with a reason in err on failure. */
struct as2 *as2_new(const struct dray_host *host, dray_instance *inst,
                    void *plugin_state, char *err, size_t err_size);
void as2_destroy(struct as2 **self_p);

/* Sends one payload to the partner (as2_url), waits for a synchronous MDN
 * when configured and checks it. Returns 0 when delivered (and the MDN, if
 * any, says processed with the right MIC), a positive value when the
 * partner refused it (permanent), negative on a transient failure. */
int as2_send(struct as2 *self, const char *payload, size_t len, char *err,
             size_t err_size);

/* Decodes a payload received over AS2 (implemented in edi_x12.c). Returns
 * 0 accepted, 1 rejected (err set), -1 failure. */
int edi_x12_receive_payload(void *state, const void *payload, size_t len,
                            const char *origin, char *err, size_t err_size);

#endif
