"""Integration tests of `dray run`: real files, real ZeroMQ pipelines,
real HTTP on 127.0.0.1, real signals."""
import json
import re
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import Site, dray, wait_for, SLOW  # noqa: E402


def post(port, path, body, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(),
                                 method="POST")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class FileRouting(unittest.TestCase):
    def test_files_in_are_routed_to_every_destination_and_bad_files_fail_with_a_reason(self):
        site = Site("""
site: it
data_dir: data
shutdown_timeout_ms: 5000
instances:
  inbox: { plugin: file, poll_interval_ms: 50,
           config: { inbound_dir: in, format: body, type: dray.order.created.v1 } }
  orders: { plugin: file, config: { outbound_dir: out/orders } }
  audit: { plugin: file, config: { outbound_dir: out/audit } }
routes:
  - { from: inbox, types: [dray.order.*], to: [orders, audit] }
""").start()
        for i in range(5):
            tmp = site.p("in", f".order{i}.tmp")
            with open(tmp, "w") as f:
                json.dump({"order_no": f"PO-{i}"}, f)
            os.rename(tmp, site.p("in", f"order{i}.json"))
        with open(site.p("in", "broken.json"), "w") as f:
            f.write('{"order_no": "PO-9",\n  oops}')
        wait_for(lambda: len(os.listdir(site.p("out", "audit"))) == 5
                 and os.path.exists(site.p("in", "failed", "broken.json.error")),
                 what="5 files in out/audit and the failed file")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(sorted(os.listdir(site.p("out", "orders"))),
                         sorted(os.listdir(site.p("out", "audit"))))
        orders = []
        for name in os.listdir(site.p("out", "orders")):
            with open(site.p("out", "orders", name)) as f:
                event = json.load(f)
            self.assertEqual(event["specversion"], "1.0")
            self.assertEqual(event["type"], "dray.order.created.v1")
            self.assertEqual(event["source"], "dray://it/inbox")
            self.assertEqual(name, event["id"] + ".json")
            orders.append(event["data"]["order_no"])
        self.assertEqual(sorted(orders), [f"PO-{i}" for i in range(5)])
        self.assertEqual(len(os.listdir(site.p("in", "done"))), 5)
        with open(site.p("in", "failed", "broken.json.error")) as f:
            self.assertRegex(f.read(), r"^broken\.json:2:\d+: invalid JSON")
        self.assertFalse(any(n.startswith(".") for n in os.listdir(site.p("out", "orders"))))


    def test_the_same_event_twice_is_accepted_once(self):
        site = Site("""
site: it
data_dir: data
instances:
  inbox: { plugin: file, poll_interval_ms: 50, config: { inbound_dir: in } }
  out: { plugin: file, config: { outbound_dir: out } }
routes:
  - { from: inbox, to: out }
""").start()
        event = {"specversion": "1.0", "id": "evt-1", "source": "urn:partner:acme",
                 "type": "dray.order.created.v1", "data": {"order_no": "PO-1"}}
        for name in ["a.json", "b.json"]:
            with open(site.p("in", "." + name), "w") as f:
                json.dump(event, f)
            os.rename(site.p("in", "." + name), site.p("in", name))
            wait_for(lambda: os.path.exists(site.p("in", "done", name)), what=name + " done")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(os.listdir(site.p("out")), ["evt-1.json"])
        self.assertIn("inbox.duplicates 1", site.text())
        with open(site.p("out", "evt-1.json")) as f:
            self.assertEqual(json.load(f)["idempotencykey"], "urn:partner:acme/evt-1")


class Delivery(unittest.TestCase):
    FULL_LANE_SITE = """
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: COUNT, partitions: 7, batch: 16, stats_file: gen.stats } }
  sink: { plugin: testkit, workers: 3, queue_capacity: 4,
          config: { log_file: sink.log, delay_ms: DELAY } }
routes:
  - { from: gen, to: sink, delivery: CLASS }
"""

    def check_order(self, rows, count):
        self.assertEqual(len(rows), count)
        self.assertEqual(len({r[3] for r in rows}), count, "no duplicates")
        last = {}
        for key, seq, _type, _id in rows:
            self.assertGreater(int(seq), last.get(key, -1), f"order broken in {key}")
            last[key] = int(seq)

    def test_a_full_lane_queues_durable_messages_in_the_journal_in_order(self):
        site = Site(self.FULL_LANE_SITE.replace("COUNT", "3000").replace("DELAY", "0")
                    .replace("CLASS", "durable")).start()
        wait_for(lambda: len(site.lines("sink.log")) >= 3000, timeout=60, what="3000 deliveries")
        self.assertEqual(site.stop(), 0)
        stats = dict(l for l in site.lines("gen.stats"))
        self.assertEqual(int(stats["emitted"]), 3000)
        self.assertEqual(int(stats["backpressure"]), 0, "a full lane is not backpressure")
        queued = re.search(r"^gen\.queued_in_backlog (\d+)$", site.text(), re.M)
        self.assertTrue(queued and int(queued.group(1)) > 0, "capacity 4 must queue in the journal")
        self.check_order(site.lines("sink.log"), 3000)

    def test_a_stuck_destination_does_not_hold_up_the_others(self):
        site = Site("""
site: it
data_dir: data
shutdown_timeout_ms: 300
instances:
  gen: { plugin: testkit, config: { count: 500, partitions: 5, batch: 10 } }
  stuck: { plugin: testkit, queue_capacity: 2, config: { log_file: stuck.log, delay_ms: 2000 } }
  fine: { plugin: testkit, queue_capacity: 2, config: { log_file: fine.log } }
routes:
  - { from: gen, to: [stuck, fine] }
""").start()
        wait_for(lambda: len(site.lines("fine.log")) >= 500, timeout=30,
                 what="every message at the healthy destination")
        self.assertLess(len(site.lines("stuck.log")), 10, "the stuck one is still stuck")

        def journal():
            r = dray("status", "-c", site.path, "--json")
            return json.loads(r.stdout)["journal"] if r.returncode == 0 else {}
        wait_for(lambda: journal().get("records", 0) > 480, what="the status to show the backlog")
        self.assertEqual(journal()["backlog_destinations"], 1, "the stuck one's backlog is on disk")
        self.assertEqual(site.stop(), 0)
        self.check_order(site.lines("fine.log"), 500)
        # the next start delivers the stuck destination's backlog, in order
        site.write(site.config.replace("delay_ms: 2000", "delay_ms: 0").replace("count: 500", "count: 0"))
        site.start()
        wait_for(lambda: len({r[3] for r in site.lines("stuck.log")}) >= 500, timeout=60,
                 what="the stuck destination's backlog after a restart")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(len({r[3] for r in site.lines("stuck.log")}), 500)
        # at least once: only the first messages, handed to both lanes before the
        # stuck one's backlog began and unfinished there at the stop, come twice
        self.assertLessEqual(len(site.lines("fine.log")) - 500, 3,
                             "the healthy one does not get the stuck one's backlog again")
        # a backlog whose destination left the site is said at start, not dropped silently
        site.write(site.config.replace("to: [stuck, fine]", "to: [fine]")
                   .replace("  stuck: { plugin: testkit, queue_capacity: 2, config: { log_file: stuck.log, delay_ms: 0 } }\n", ""))
        site.start()
        self.assertEqual(site.stop(), 0)
        self.assertRegex(site.text(), r"backlog/stuck: the backlog of an instance this site no longer has")

    @unittest.skipIf(SLOW > 1, "64 MiB of backlog is too slow to deliver under valgrind")
    def test_a_large_backlog_is_opened_after_the_start_and_delivered(self):
        fill = os.environ.get("DRAY_FILL_JOURNAL", "")
        if not os.access(fill, os.X_OK):
            self.skipTest("DRAY_FILL_JOURNAL (build/bench/restart/fill_journal) not built")
        site = Site("""
site: it
data_dir: data
instances:
  gen: { plugin: testkit }
  sink: { plugin: testkit, queue_capacity: 4096, config: { log_file: sink.log } }
routes:
  - { from: gen, to: sink }
""")
        count = 64000  # about 74 MiB: above the size opened before the start
        subprocess.run([fill, site.p("data"), "gen", str(count), "sink"], check=True,
                       stdout=subprocess.DEVNULL)
        site.start()
        self.assertNotIn("backlog of 64000", site.text().split("running")[0],
                         "a large backlog is not recovered before the start")
        wait_for(lambda: len(site.lines("sink.log")) >= count, timeout=120,
                 what="the backlog's 64000 messages")
        self.assertEqual(site.stop(), 0)
        self.assertIn("sink: backlog of 64000 messages on disk to deliver", site.text())
        self.assertEqual(len({r[3] for r in site.lines("sink.log")}), count)

    def test_a_full_lane_of_the_memory_class_pushes_back_and_never_drops(self):
        site = Site(self.FULL_LANE_SITE.replace("COUNT", "3000").replace("DELAY", "0")
                    .replace("CLASS", "memory")).start()
        wait_for(lambda: len(site.lines("sink.log")) >= 3000, timeout=60, what="3000 deliveries")
        self.assertEqual(site.stop(), 0)
        stats = dict(l for l in site.lines("gen.stats"))
        self.assertEqual(int(stats["emitted"]), 3000)
        self.assertGreater(int(stats["backpressure"]), 0, "capacity 4 must push back")
        self.check_order(site.lines("sink.log"), 3000)

    def test_a_backlog_in_the_journal_survives_a_kill_and_keeps_its_order(self):
        site = Site(self.FULL_LANE_SITE.replace("COUNT", "2000").replace("DELAY", "10")
                    .replace("CLASS", "durable")).start()
        wait_for(lambda: self.emitted(site, "gen") == 2000, what="all 2000 accepted")
        j = json.loads(dray("status", "-c", site.path, "--json").stdout)
        self.assertGreater(j["journal"]["records"], 500, "a slow sink leaves a backlog")
        self.assertEqual(j["journal"]["backlog_destinations"], 1)
        r = dray("status", "-c", site.path)
        self.assertRegex(r.stdout, r"journal: \d+ records unreleased .*backlog for 1 destination")
        site.signal(signal.SIGKILL)
        site.proc.wait(timeout=20)
        delivered_before = len(site.lines("sink.log"))
        self.assertLess(delivered_before, 2000)
        site.write(self.FULL_LANE_SITE.replace("COUNT", "0").replace("DELAY", "0")
                   .replace("CLASS", "durable"))
        site.start()
        wait_for(lambda: len({r[3] for r in site.lines("sink.log")}) >= 2000, timeout=60,
                 what="every message after the restart")
        self.assertEqual(site.stop(), 0)
        rows = site.lines("sink.log")
        ids = {r[3] for r in rows}
        self.assertEqual(len(ids), 2000, "nothing lost")
        # at-least-once: what was in flight at the kill may come twice, but
        # each partition's first deliveries after the restart continue in order
        after = rows[delivered_before:]
        last = {}
        for key, seq, _type, _id in after:
            self.assertGreater(int(seq), last.get(key, -1), f"order broken in {key}")
            last[key] = int(seq)

    def test_retry_honours_the_plugins_retry_after_hint(self):
        site = Site("""
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: 1 } }
  flaky: { plugin: testkit, config: { log_file: flaky.log, retry_first: 3, retry_after_ms: 150 } }
routes:
  - { from: gen, to: flaky }
""")
        started = time.monotonic()
        site.start()
        wait_for(lambda: site.lines("flaky.log"), what="the delivery after retries")
        elapsed = time.monotonic() - started
        self.assertEqual(site.stop(), 0)
        self.assertGreaterEqual(elapsed, 0.45)
        log = site.text()
        self.assertEqual(log.count("retry in 150 ms"), 3)
        self.assertIn("testkit: transient failure 3", log)
        self.assertIn("flaky.delivered 1", log)

    def test_rejected_message_is_logged_with_its_context(self):
        site = Site("""
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: 2, type: dray.bad.thing.v1 } }
  picky: { plugin: testkit, config: { reject_type: dray.bad.thing.v1 } }
routes:
  - { from: gen, to: picky }
""").start()
        wait_for(lambda: site.text().count("dead letter:") == 2, what="2 rejections")
        self.assertEqual(site.stop(), 0)
        self.assertRegex(site.text(), r"\[picky\] dead letter: message \w{26} \(type dray.bad.thing.v1, "
                                      r"source dray://it/gen, plugin testkit 1.0.0\) rejected after 1 attempt: "
                                      r"testkit: type dray.bad.thing.v1 is rejected here")

    def test_breaker_opens_after_five_failures_and_makes_no_calls_while_open(self):
        # calls 1-5 fail: open; after 400 ms probe 6 fails: open again; then
        # probes 7, 8, 9 succeed: closed. Four messages, one lane, in order.
        site = Site("""
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: 4 } }
  down: { plugin: testkit, retry: { base_ms: 1, cap_ms: 5 },
          breaker: { open_ms: 400, open_max_ms: 400 },
          config: { log_file: down.log, retry_first: 6 } }
routes:
  - { from: gen, to: down }
""")
        started = time.monotonic()
        site.start()
        wait_for(lambda: len(site.lines("down.log")) == 4, timeout=20, what="4 deliveries")
        elapsed = time.monotonic() - started
        self.assertEqual(site.stop(), 0)
        log = site.text()
        self.assertEqual(log.count("circuit breaker open"), 2, log)
        self.assertEqual(log.count("circuit breaker closed"), 1, log)
        self.assertIn("down.breaker_opened 2", log)
        self.assertIn("down.delivered 4", log)
        self.assertGreaterEqual(elapsed, 0.8, "two open windows of 400 ms with no calls")
        self.assertEqual([int(r[1]) for r in site.lines("down.log")], [0, 1, 2, 3])

    def test_status_shows_an_open_breaker(self):
        site = Site("""
site: it
data_dir: data
shutdown_timeout_ms: 300
instances:
  gen: { plugin: testkit, config: { count: 1 } }
  down: { plugin: testkit, retry: { base_ms: 1, cap_ms: 2 }, breaker: { open_ms: 60000 },
          config: { retry_first: 1000 } }
routes:
  - { from: gen, to: down }
""").start()
        wait_for(lambda: "circuit breaker open" in site.text(), what="the breaker to open")
        time.sleep(1.2)  # the status file is rewritten every second
        r = dray("status", "-c", site.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"down\s+testkit\s+open\s+1 ")
        j = json.loads(dray("status", "-c", site.path, "--json").stdout)
        down = [i for i in j["instances"] if i["name"] == "down"][0]
        self.assertEqual(down["breaker"], "open")
        self.assertEqual(down["metrics"]["breaker_opened"], 1)
        self.assertEqual(down["metrics"]["retries"], 5)
        self.assertEqual(site.stop(), 0)  # the message is safe in the journal
        self.assertIn("stays in the journal (shutdown while the circuit breaker was open)", site.text())
        self.assertEqual(dray("status", "-c", site.path).returncode, 1)

    SLOW_SITE = """
site: it
data_dir: data
shutdown_timeout_ms: 300
instances:
  gen: { plugin: testkit, config: { count: COUNT } }
  slow: { plugin: testkit, queue_capacity: 100, config: { log_file: slow.log, delay_ms: 100 } }
routes:
  - { from: gen, to: slow, delivery: CLASS }
"""

    def emitted(self, site, name):
        r = dray("status", "-c", site.path, "--json")
        if r.returncode != 0:
            return 0
        inst = [i for i in json.loads(r.stdout)["instances"] if i["name"] == name]
        return inst[0]["metrics"].get("emitted", 0) if inst else 0

    def test_sigterm_drains_within_the_deadline_and_the_journal_keeps_the_rest(self):
        site = Site(self.SLOW_SITE.replace("COUNT", "30").replace("CLASS", "durable")).start()
        wait_for(lambda: site.lines("slow.log"), what="the first delivery")
        wait_for(lambda: self.emitted(site, "gen") == 30, what="all 30 accepted")
        started = time.monotonic()
        self.assertEqual(site.stop(), 0)
        self.assertLess(time.monotonic() - started, 3 * SLOW, "stopped near the deadline")
        delivered = len(site.lines("slow.log"))
        self.assertLess(delivered, 30)
        self.assertEqual(site.text().count("stays in the journal"), 30 - delivered)
        # the next start delivers the rest from the journal
        site.write(self.SLOW_SITE.replace("COUNT", "0").replace("CLASS", "durable"))
        site.start()
        wait_for(lambda: len({r[1] for r in site.lines("slow.log")}) == 30, what="all 30")
        self.assertEqual(site.stop(), 0)
        self.assertIn(f"journal: {30 - delivered} messages not finished", site.text())
        seqs = [int(r[1]) for r in site.lines("slow.log")]
        self.assertEqual(sorted(set(seqs)), list(range(30)), "nothing lost")
        self.assertLessEqual(len(seqs) - 30, 1, "at most the message in hand is repeated")

    def test_memory_class_loses_what_is_in_flight_and_says_so(self):
        site = Site(self.SLOW_SITE.replace("COUNT", "30").replace("CLASS", "memory")).start()
        wait_for(lambda: site.lines("slow.log"), what="the first delivery")
        wait_for(lambda: self.emitted(site, "gen") == 30, what="all 30 accepted")
        self.assertEqual(site.stop(), 1)
        lost = site.text().count("(memory delivery class)")
        self.assertEqual(lost + len(site.lines("slow.log")), 30)
        self.assertFalse(os.listdir(site.p("data", "journal")) and
                         any(f.endswith(".seg") and os.path.getsize(site.p("data", "journal", f)) > 0
                             for f in os.listdir(site.p("data", "journal"))),
                         "memory-class messages are not journaled")

    def test_unrouted_types_are_reported(self):
        site = Site("""
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: 1, type: dray.nobody.cares.v1 } }
  sink: { plugin: testkit }
routes:
  - { from: gen, types: [dray.order.*], to: sink }
""").start()
        wait_for(lambda: "matches no route" in site.text(), what="the unrouted warning")
        self.assertEqual(site.stop(), 0)
        self.assertIn("of type dray.nobody.cares.v1 matches no route", site.text())


class FinancialEffects(unittest.TestCase):
    SITE = """
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: 3, idempotency_prefix: "INV-" } }
  erp: { plugin: PLUGIN, effects: financial, retry: { base_ms: 10, cap_ms: 20 },
         config: { effects_file: effects.log, log_file: erp.log, in_doubt_first: DOUBT } }
routes:
  - { from: gen, to: erp }
"""

    def effects(self, site):
        return [l[0] for l in site.lines("effects.log")]

    def test_in_doubt_effect_is_reconciled_by_lookup_never_sent_twice(self):
        site = Site(self.SITE.replace("PLUGIN", "testkit").replace("DOUBT", "1")).start()
        wait_for(lambda: len(site.lines("erp.log")) == 2, what="2 direct deliveries")
        wait_for(lambda: "reconciled in-doubt key INV-0" in site.text(), what="reconciliation")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(sorted(self.effects(site)), ["INV-0", "INV-1", "INV-2"])
        self.assertIn("erp.in_doubt_reconciled 1", site.text())

    def test_in_doubt_effect_without_lookup_is_parked(self):
        site = Site(self.SITE.replace("PLUGIN", "testkit_nolookup").replace("DOUBT", "1")).start()
        wait_for(lambda: "dead letter:" in site.text() and len(site.lines("erp.log")) == 2,
                 what="the parked message and 2 deliveries")
        self.assertEqual(site.stop(), 0)
        self.assertRegex(site.text(), r"dead letter: message \w+ .* in_doubt after \d+ attempts?: "
                                      r"outcome of an earlier attempt is unknown")
        self.assertEqual(sorted(self.effects(site)), ["INV-0", "INV-1", "INV-2"])

    def test_replaying_committed_keys_is_a_logged_no_op(self):
        site = Site(self.SITE.replace("PLUGIN", "testkit").replace("DOUBT", "0")).start()
        wait_for(lambda: len(site.lines("erp.log")) == 3, what="3 deliveries")
        self.assertEqual(site.stop(), 0)
        site.start()  # same data_dir, same idempotency keys again
        wait_for(lambda: site.text().count("already committed") == 3, what="3 no-ops")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(sorted(self.effects(site)), ["INV-0", "INV-1", "INV-2"])
        self.assertIn("already committed (reference REF-", site.text())


class DeadLetters(unittest.TestCase):
    SITE = """
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: 3, type: dray.order.created.v1, idempotency_prefix: "PO-" } }
  picky: { plugin: testkit, config: { log_file: picky.log REJECT } }
routes:
  - { from: gen, to: picky }
"""

    def test_list_show_replay_purge_online_and_offline(self):
        site = Site(self.SITE.replace("REJECT", ", reject_type: dray.order.created.v1")).start()
        wait_for(lambda: site.text().count("dead letter:") == 3, what="3 dead letters")
        # online: the running site answers
        r = dray("dlq", "list", "-c", site.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 4)  # header + 3
        self.assertIn("rejected", r.stdout)
        rows = [json.loads(l) for l in dray("dlq", "list", "-c", site.path, "--json").stdout.splitlines()]
        self.assertEqual(len(rows), 3)
        ctx = rows[0]["context"]
        self.assertEqual(ctx["instance"], "picky")
        self.assertEqual(ctx["plugin"], "testkit")
        self.assertEqual(ctx["plugin_version"], "1.0.0")
        self.assertEqual(ctx["error_class"], "rejected")
        self.assertEqual(ctx["attempts"], 1)
        self.assertIn("is rejected here", ctx["error"])
        self.assertRegex(ctx["idempotency_key"], r"^PO-\d$")
        self.assertEqual(rows[0]["message"]["type"], "dray.order.created.v1")
        first_id = rows[0]["context"]["id"]
        show = dray("dlq", "show", "-c", site.path, "--id", first_id)
        self.assertEqual(show.returncode, 0)
        self.assertIn('"id": "%s"' % first_id, show.stdout)
        self.assertEqual(dray("dlq", "purge", "-c", site.path).returncode, 2, "purge needs a filter")
        purged = dray("dlq", "purge", "-c", site.path, "--id", first_id)
        self.assertEqual(purged.returncode, 0, purged.stderr)
        self.assertIn("purged", purged.stdout)
        self.assertEqual(site.stop(), 0)
        # offline: the command opens the spools itself
        r = dray("dlq", "list", "-c", site.path, "--class", "rejected")
        self.assertEqual(len(r.stdout.splitlines()), 3)  # header + 2
        # fix the destination, replay with the same ids and keys, start again
        site.write(self.SITE.replace("REJECT", "").replace("count: 3", "count: 0"))
        r = dray("dlq", "replay", "-c", site.path, "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("replayed 2 of 2", r.stderr)
        site.start()
        wait_for(lambda: len(site.lines("picky.log")) == 2, what="2 replayed deliveries")
        self.assertEqual(site.stop(), 0)
        replayed_ids = {row[3] for row in site.lines("picky.log")}
        self.assertEqual(replayed_ids, {row["context"]["id"] for row in rows[1:]})
        self.assertEqual(len(dray("dlq", "list", "-c", site.path).stdout.splitlines()), 1)

    def test_replaying_an_in_doubt_effect_never_doubles_it(self):
        site = Site("""
site: it
data_dir: data
instances:
  gen: { plugin: testkit, config: { count: 1, idempotency_prefix: "INV-" } }
  erp: { plugin: testkit_nolookup, effects: financial,
         config: { effects_file: effects.log, in_doubt_first: 1 } }
routes:
  - { from: gen, to: erp }
""").start()
        wait_for(lambda: "dead letter:" in site.text(), what="the parked effect")
        r = dray("dlq", "replay", "-c", site.path, "--class", "in_doubt")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: site.text().count("dead letter:") == 2, what="parked again")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(site.lines("effects.log"), [["INV-0"]], "one effect, never two")


class Http(unittest.TestCase):
    SITE = """
site: it
data_dir: data
http: { listen: "127.0.0.1:0" }
instances:
  hook: { plugin: testkit, config: { http_path: /hooks/orders, token: "${env:HOOK_TOKEN}",
          type: dray.order.created.v1 } }
  a: { plugin: testkit, config: { log_file: a.log } }
  b: { plugin: testkit, config: { log_file: b.log } }
routes:
  - { from: hook, to: ROUTE_TO }
"""

    def test_webhook_answers_after_acceptance_and_checks_the_token(self):
        site = Site(self.SITE.replace("ROUTE_TO", "a"), env={"HOOK_TOKEN": "tok-123-secret"}).start()
        port = site.http_port()
        self.assertEqual(post(port, "/hooks/orders", '{"n":1}', token="wrong")[0], 401)
        self.assertEqual(post(port, "/hooks/orders", '{"n":1}')[0], 401)
        self.assertEqual(post(port, "/hooks/orders", '{"n":2}', token="tok-123-secret"),
                         (202, "accepted\n"))
        self.assertEqual(post(port, "/nothing/here", "{}")[0], 404)
        wait_for(lambda: site.lines("a.log"), what="delivery to a")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(len(site.lines("a.log")), 1)
        self.assertNotIn("tok-123-secret", site.text())

    def test_sighup_reloads_routes(self):
        site = Site(self.SITE.replace("ROUTE_TO", "a"), env={"HOOK_TOKEN": "t"}).start()
        port = site.http_port()
        self.assertEqual(post(port, "/hooks/orders", '{"n":1}', token="t")[0], 202)
        wait_for(lambda: site.lines("a.log"), what="delivery to a")
        site.write(self.SITE.replace("ROUTE_TO", "b"))
        site.signal(signal.SIGHUP)
        wait_for(lambda: "reloaded routes" in site.text(), what="the reload")
        self.assertEqual(post(port, "/hooks/orders", '{"n":2}', token="t")[0], 202)
        wait_for(lambda: site.lines("b.log"), what="delivery to b")
        self.assertEqual(site.stop(), 0)
        self.assertEqual(len(site.lines("a.log")), 1)
        self.assertEqual(len(site.lines("b.log")), 1)

    def test_bad_reload_keeps_the_running_routes(self):
        site = Site(self.SITE.replace("ROUTE_TO", "a"), env={"HOOK_TOKEN": "t"}).start()
        port = site.http_port()
        site.write(self.SITE.replace("ROUTE_TO", "nowhere"))
        site.signal(signal.SIGHUP)
        wait_for(lambda: "reload of" in site.text(), what="the refused reload")
        self.assertIn('route to unknown instance "nowhere"', site.text())
        self.assertEqual(post(port, "/hooks/orders", '{"n":1}', token="t")[0], 202)
        wait_for(lambda: site.lines("a.log"), what="delivery to a")
        self.assertEqual(site.stop(), 0)


class Cli(unittest.TestCase):
    def test_check_prints_every_error_with_file_line_col(self):
        site = Site("""site: it
data_dir: data
instances:
  x: { plugin: nope }
  y: { plugin: testkit, config: { count: -5, colour: red } }
routes:
  - { from: y, to: [z] }
""")
        r = dray("check", "-c", site.path)
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.splitlines()
        self.assertIn(f'{site.path}:4:16: instance x: unknown plugin "nope"', r.stderr)
        self.assertIn(f"{site.path}:5:42: instance y: count: -5 is below the minimum 0", r.stderr)
        self.assertIn(f'{site.path}:5:46: instance y: unknown key "colour" for plugin testkit', r.stderr)
        self.assertIn(f'{site.path}:7:21: route to unknown instance "z"', r.stderr)
        self.assertEqual(lines[-1], f"{site.path}: 4 errors")

    def test_check_accepts_a_good_site(self):
        site = Site("site: it\ndata_dir: d\ninstances:\n  x: { plugin: testkit }\n")
        r = dray("check", "-c", site.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("OK (site it, 1 instances, 0 routes)", r.stdout)

    def test_plugins_lists_and_describes_without_secrets(self):
        r = dray("plugins")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"testkit\s+1\.0\.0\s+1\.2\s+source,destination,codec\s+/")
        r = dray("plugins", "--describe", "testkit")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"token\s+string\s+secret")
        self.assertRegex(r.stdout, r"count\s+int\s+default=0 min=0 max=100000000")

    def test_plugins_reports_refused_files(self):
        site = Site("site: x\n")
        bogus = site.p("bogus.so")
        with open(bogus, "w") as f:
            f.write("not a plugin")
        r = dray("plugins", "--path", site.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"refused: {bogus}: not a loadable shared object", r.stderr)

    def test_convert_decodes_and_encodes_and_reports_bad_input(self):
        r = dray("convert", "--plugin", "testkit", "--decode",
                 input='dray.order.created.v1 {"order_no":"A"}\ndray.order.created.v1 {"order_no":"B"}\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual([e["data"]["order_no"] for e in events], ["A", "B"])
        self.assertTrue(all(e["specversion"] == "1.0" and e["id"] for e in events))
        back = dray("convert", "--plugin", "testkit", "--encode", input=r.stdout)
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertEqual(back.stdout, 'dray.order.created.v1 {"order_no":"A"}\n'
                                      'dray.order.created.v1 {"order_no":"B"}\n')
        bad = dray("convert", "--plugin", "testkit", "--decode",
                   input='dray.order.created.v1 {}\nno-space-here\n')
        self.assertEqual(bad.returncode, 1)
        self.assertIn("(stdin): rejected: (stdin):2: expected \"TYPE JSON\"", bad.stderr)
        bad = dray("convert", "--plugin", "testkit", "--encode", input='{"specversion":"1.0"}\n')
        self.assertEqual(bad.returncode, 1)
        self.assertIn("(stdin):1: $.id: required attribute missing", bad.stderr)
        none = dray("convert", "--plugin", "file", "--decode", input="x")
        self.assertEqual(none.returncode, 1)
        self.assertIn("plugin file has no decode callback", none.stderr)

    def test_every_command_has_help(self):
        for cmd in ["run", "check", "plugins", "convert", "status", "version"]:
            r = dray(cmd, "--help")
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("usage: dray " + cmd, r.stdout)
        r = dray("version")
        self.assertRegex(r.stdout, r"^dray \d+\.\d+\.\d+ \(plugin ABI 1\.2\)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
