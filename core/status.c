/* status.c - DATA_DIR/status.json for `dray status` (see status.h). */
#include "status.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "instance.h"
#include "metrics.h"
#include "msg_internal.h"
#include "pipeline.h"
#include "runtime.h"

static void add_metric(void *ctx, const char *name, double value) {
  json_object_object_add(ctx, name, json_object_new_double(value));
}

int dray__status_write(struct dray__runtime *rt, const char *path) {
  struct json_object *root = json_object_new_object();
  char when[40], tmp[4096];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  dray__rfc3339((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, when, sizeof when);
  json_object_object_add(root, "site", json_object_new_string(dray__runtime_site(rt)));
  json_object_object_add(root, "pid", json_object_new_int(getpid()));
  json_object_object_add(root, "updated", json_object_new_string(when));
  struct json_object *list = json_object_new_array();
  for (size_t i = 0; i < dray__runtime_instance_count(rt); i++) {
    struct dray_instance *inst = dray__runtime_instance(rt, i);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(inst->name));
    json_object_object_add(o, "plugin", json_object_new_string(inst->desc->name));
    json_object_object_add(o, "failed", json_object_new_boolean(atomic_load(&inst->failed)));
    if (inst->pipeline) {
      struct dray__breaker *b = dray__pipeline_breaker(inst->pipeline);
      json_object_object_add(o, "breaker",
                             json_object_new_string(dray__breaker_state_name(dray__breaker_state(b))));
      json_object_object_add(o, "inflight",
                             json_object_new_int64((int64_t)dray__pipeline_inflight(inst->pipeline)));
    }
    struct json_object *metrics = json_object_new_object();
    dray__metrics_each(inst->name, add_metric, metrics);
    json_object_object_add(o, "metrics", metrics);
    json_object_array_add(list, o);
  }
  json_object_object_add(root, "instances", list);
  struct dray__journal_status js;
  dray__runtime_journal_status(rt, &js);
  struct json_object *j = json_object_new_object();
  json_object_object_add(j, "records", json_object_new_int64((int64_t)js.records));
  json_object_object_add(j, "bytes", json_object_new_int64((int64_t)js.bytes));
  json_object_object_add(j, "backlog_destinations", json_object_new_int(js.backlog));
  json_object_object_add(j, "queued_total", json_object_new_int64((int64_t)js.queued_total));
  json_object_object_add(root, "journal", j);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  int rc = -1;
  if (f) {
    fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY), f);
    fputc('\n', f);
    rc = fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
  }
  json_object_put(root);
  return rc;
}
