/* instance.c - an instance's life cycle around the plugin's callbacks,
 * with the ABI's serialization rules (see dray/plugin.h). */
#include "instance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dray-sdk/files.h>
#include "http_listener.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"

struct dray_instance *dray__instance_new(const char *site, const char *name,
                                         const struct dray_plugin *desc,
                                         const dray__config *config,
                                         const char *data_dir) {
  struct dray_instance *inst = calloc(1, sizeof *inst);
  if (!inst) return NULL;
  inst->name = strdup(name);
  inst->site = site ? strdup(site) : NULL;
  inst->data_dir = data_dir ? strdup(data_dir) : NULL;
  if (asprintf(&inst->source_uri, "dray://%s/%s", site ? site : "local",
               name) < 0)
    inst->source_uri = NULL;
  if (!inst->name || !inst->source_uri || (data_dir && !inst->data_dir) ||
      (site && !inst->site)) {
    dray__instance_destroy(&inst);
    return NULL;
  }
  inst->desc = desc;
  inst->config = config;
  inst->m_emitted = dray__metric_cell(inst->name, "emitted");
  inst->m_delivered = dray__metric_cell(inst->name, "delivered");
  inst->poll_interval_ms = 200;
  pthread_mutex_init(&inst->call_lock, NULL);
  pthread_mutex_init(&inst->process_lock, NULL);
  return inst;
}

int dray__instance_create(struct dray_instance *inst, char *err,
                          size_t err_size) {
  if (inst->data_dir && dray_files_mkdirs(inst->data_dir) != 0) {
    snprintf(err, err_size, "instance %s: cannot create %s: %s", inst->name,
             inst->data_dir, strerror(errno));
    return -1;
  }
  pthread_mutex_lock(&inst->call_lock);
  dray__callback_begin();
  inst->in_create = 1;
  int rc = inst->desc->create(dray__host_table(), inst, &inst->state);
  inst->in_create = 0;
  pthread_mutex_unlock(&inst->call_lock);
  if (rc != 0) {
    snprintf(err, err_size, "instance %s: plugin %s refused to create: %s",
             inst->name, inst->desc->name,
             *dray__callback_error() ? dray__callback_error()
                                     : "(no reason given)");
    return -1;
  }
  inst->created = 1;
  for (size_t i = 0; i < inst->pending_route_count; i++) {
    struct dray__pending_route *r = &inst->pending_routes[i];
    if (dray__http_route(dray__runtime_http(inst->rt), r->method, r->prefix,
                         r->handler, r->auth, inst->state, inst->name, err,
                         err_size) != 0)
      return -1;
  }
  return 0;
}

int dray__instance_start(struct dray_instance *inst, char *err,
                         size_t err_size) {
  atomic_store(&inst->emit_open, 1);
  if (!inst->desc->start) {
    inst->started = 1;
    return 0;
  }
  pthread_mutex_lock(&inst->call_lock);
  dray__callback_begin();
  int rc = inst->desc->start(inst->state);
  pthread_mutex_unlock(&inst->call_lock);
  if (rc != 0) {
    atomic_store(&inst->emit_open, 0);
    snprintf(err, err_size, "instance %s: start failed: %s", inst->name,
             *dray__callback_error() ? dray__callback_error()
                                     : "(no reason given)");
    return -1;
  }
  inst->started = 1;
  return 0;
}

void dray__instance_stop(struct dray_instance *inst) {
  atomic_store(&inst->stop_requested, 1);
  if (!inst->started) return;
  inst->started = 0;
  if (inst->desc->stop) {
    pthread_mutex_lock(&inst->call_lock);
    inst->desc->stop(inst->state);
    pthread_mutex_unlock(&inst->call_lock);
  }
  atomic_store(&inst->emit_open, 0);
}

void dray__instance_destroy(struct dray_instance **inst_p) {
  if (!inst_p || !*inst_p) return;
  struct dray_instance *inst = *inst_p;
  *inst_p = NULL;
  if (inst->created) {
    dray__instance_stop(inst);
    pthread_mutex_lock(&inst->call_lock);
    inst->desc->destroy(inst->state);
    pthread_mutex_unlock(&inst->call_lock);
  }
  for (size_t i = 0; i < inst->pending_route_count; i++) {
    free(inst->pending_routes[i].method);
    free(inst->pending_routes[i].prefix);
  }
  free(inst->pending_routes);
  pthread_mutex_destroy(&inst->call_lock);
  pthread_mutex_destroy(&inst->process_lock);
  free(inst->name);
  free(inst->site);
  free(inst->source_uri);
  free(inst->data_dir);
  free(inst);
}
