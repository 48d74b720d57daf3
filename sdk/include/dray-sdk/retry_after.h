/* dray-sdk/retry_after.h - reading an HTTP Retry-After value, for plugins
 * that talk HTTP (carriers, SAP's HTTP port, AS2) and pass the hint on
 * with host->set_retry_after(). Part of libdray-sdk, not of the ABI. */
#ifndef DRAY_SDK_RETRY_AFTER_H
#define DRAY_SDK_RETRY_AFTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds to wait for a Retry-After value (RFC 9110 §10.2.3): either
 * delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT";
 * the obsolete RFC 850 and asctime forms too), relative to now_unix_ms.
 * A date in the past gives 0. Garbage, a negative number or an absurd
 * value (more than a day) gives -1: the caller falls back to its own
 * backoff rather than trusting it. Thread-safe. */
int64_t dray_retry_after_ms(const char *value, int64_t now_unix_ms);

#ifdef __cplusplus
}
#endif
#endif
