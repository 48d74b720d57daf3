/* dray-sdk/validate.h - validation of canonical messages against the JSON
 * Schemas in docs/schemas/ (compiled into libdray-sdk).
 *
 * Errors name the failing field by JSON path, e.g.
 *   "$.data.lines[2].qty: expected number, got string"
 * Thread-safe: the compiled schemas are immutable once loaded.
 */
#ifndef DRAY_SDK_VALIDATE_H
#define DRAY_SDK_VALIDATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Name of the business object schema ("order", "milestone", ...) that
 * carries the body of canonical type `type` (dray.<object>.<event>.v<N>),
 * or NULL when the type is not a known canonical type. */
const char *dray_validate_schema_for_type(const char *type);

/* Validates a body (the CloudEvents `data`) of canonical type `type`.
 * Returns 0 when valid; -1 with the first error (JSON path + reason) in
 * err. A type outside the dray.* namespace is accepted unchecked (0);
 * an unknown dray.* type is an error. Paths start at "$.data". */
int dray_validate_body(const char *type, const char *json, size_t len,
                       char *err, size_t err_size);

/* Validates a whole structured CloudEvent: the envelope schema, then the
 * body by its type. Paths start at "$". */
int dray_validate_event(const char *json, size_t len, char *err,
                        size_t err_size);

#ifdef __cplusplus
}
#endif
#endif
