/* abi_anchor.c - makes every public ABI type reachable from one exported
 * function, so abidw/abidiff see the whole contract (they only follow
 * types reachable from exported symbols). Never called. */
#include <dray/dray.h>

DRAY_EXPORT size_t dray_abi_anchor(const struct dray_plugin *plugin,
                                   const struct dray_host *host,
                                   const struct dray_param *param,
                                   dray_status status, enum dray_kind kind,
                                   enum dray_log_level level,
                                   enum dray_param_type type,
                                   enum dray_param_flags flags,
                                   enum dray_plugin_flags plugin_flags,
                                   dray_plugin_entry_fn entry,
                                   dray_http_handler handler,
                                   dray_http_auth auth);
DRAY_EXPORT size_t dray_abi_anchor(const struct dray_plugin *plugin,
                                   const struct dray_host *host,
                                   const struct dray_param *param,
                                   dray_status status, enum dray_kind kind,
                                   enum dray_log_level level,
                                   enum dray_param_type type,
                                   enum dray_param_flags flags,
                                   enum dray_plugin_flags plugin_flags,
                                   dray_plugin_entry_fn entry,
                                   dray_http_handler handler,
                                   dray_http_auth auth) {
  (void)status, (void)kind, (void)level, (void)type, (void)flags;
  (void)plugin_flags, (void)entry, (void)handler, (void)auth;
  return sizeof *plugin + sizeof *host + sizeof *param;
}
