"""Crash tests of `dray run` with real files, real fsync and real
processes: kill -9 at random moments under load, and a crash at every
named durable step (debug builds with -Dfault_points=true). After each
run of crashes, the oracle must find nothing lost, nothing invented,
no damaged payload and no financial effect done twice.

DRAY_KILL_CYCLES sets the number of kill -9 cycles (default 50; the long
run documented in docs/RELIABILITY.md uses 1000)."""
import os
import random
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
sys.path.insert(0, os.path.dirname(__file__))
from harness import Site, dray, wait_for, SLOW, DRAY, WRAPPER  # noqa: E402
from oracle import verdict  # noqa: E402

SITE = """
site: crash
data_dir: data
shutdown_timeout_ms: 2000
journal: { segment_bytes: 64K }
instances:
  gen: { plugin: testkit, config: { count: COUNT, partitions: 4, batch: 64, oracle_dir: oracle } }
  erp: { plugin: testkit, effects: financial, workers: 2, queue_capacity: 32,
         retry: { base_ms: 5, cap_ms: 50 },
         config: { oracle_dir: oracle, effects_file: oracle/effects.log } }
  # refuses everything: a steady stream of dead letters
  audit: { plugin: testkit, config: { reject_type: dray.test.item.v1 } }
routes:
  - { from: gen, to: [erp, audit] }
"""


class Crash(unittest.TestCase):
    def setUp(self):
        self.site = Site(SITE.replace("COUNT", os.environ.get("DRAY_CRASH_COUNT", "6000")))
        os.makedirs(self.site.p("oracle"))

    def check(self, final_count):
        """Runs once more without crashing until every message is
        delivered, then asks the oracle."""
        site = self.site
        site.start()
        wait_for(lambda: verdict(site.p("oracle"))["delivered"] >= final_count, timeout=120,
                 what=f"all {final_count} messages delivered")
        self.assertEqual(site.stop(), 0, site.text()[-3000:])
        v = verdict(site.p("oracle"), site.p("oracle", "effects.log"))
        self.assertEqual(v["acked"], final_count, v)
        self.assertEqual(v["lost_count"], 0, v)
        self.assertEqual(v["phantom"], [], v)
        self.assertEqual(v["mismatch"], 0, v)
        self.assertEqual(v["duplicate_effects"], 0, v)
        self.assertEqual(v["effects"], final_count, v)
        return v

    def test_kill_9_at_random_moments_under_load_loses_nothing(self):
        cycles = int(os.environ.get("DRAY_KILL_CYCLES", "50"))
        rng = random.Random(int(os.environ.get("DRAY_KILL_SEED", "12345")))
        log = open(self.site.p("kills.log"), "w")
        for i in range(cycles):
            p = subprocess.Popen(WRAPPER + [DRAY, "run", "-c", self.site.path],
                                 stdout=log, stderr=subprocess.STDOUT, env=self.site.env)
            time.sleep(rng.uniform(0.02, 0.35) * SLOW)
            p.send_signal(signal.SIGKILL)
            p.wait()
        log.close()
        before = verdict(self.site.p("oracle"))
        self.assertGreater(before["acked"], 0, "the cycles ran under load")
        print(f"\nafter the kill cycles: {before['acked']} acknowledged, "
              f"{before['delivered']} delivered", file=sys.stderr)
        v = self.check(int(os.environ.get("DRAY_CRASH_COUNT", "6000")))
        print(f"\n{cycles} kill -9 cycles: {v}", file=sys.stderr)

    def test_a_crash_at_every_named_durable_step_loses_nothing(self):
        probe = dray("version")
        if "fault points" not in probe.stdout:
            self.skipTest("dray was built without -Dfault_points=true (the ASan build has them)")
        core = os.path.join(os.environ["DRAY_SOURCE_ROOT"], "core")
        points = sorted({m for f in os.listdir(core) if f.endswith(".c")
                         for m in re.findall(r'DRAY_FAULT_POINT\("([^"]+)"\)',
                                             open(os.path.join(core, f)).read())})
        self.assertGreater(len(points), 8)
        crashed = []
        count = 0
        for point in points:
            for nth in (1, 3):
                count += 100  # every run has fresh work to crash in
                self.site.write(SITE.replace("COUNT", str(count)))
                env = dict(self.site.env, DRAY_FAULT=f"{point}:{nth}")
                with open(self.site.p("fault.log"), "w") as log:
                    p = subprocess.Popen(WRAPPER + [DRAY, "run", "-c", self.site.path], env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
                    try:
                        code = p.wait(timeout=2 * SLOW)
                    except subprocess.TimeoutExpired:  # this point was not reached in 2 s
                        p.send_signal(signal.SIGTERM)
                        code = p.wait(timeout=30 * SLOW)
                with open(self.site.p("fault.log")) as log:
                    err = log.read()
                if code == 137:
                    crashed.append(f"{point}:{nth}")
                elif code != 0:
                    self.fail(f"{point}:{nth}: exit {code}\n{err[-2000:]}")
        print(f"\ncrashed at {len(crashed)} points: {crashed}", file=sys.stderr)
        self.assertGreater(len(crashed), 8)
        self.check(count)


    def test_fsync_failure_stops_acknowledging_exits_non_zero_and_recovers(self):
        if "fault points" not in dray("version").stdout:
            self.skipTest("dray was built without -Dfault_points=true (the ASan build has them)")
        self.site.env["DRAY_FAULT_IO"] = "fdatasync_eio:40"
        self.site.write(SITE.replace("COUNT", "2000"))
        p = subprocess.run(WRAPPER + [DRAY, "run", "-c", self.site.path], env=self.site.env,
                           capture_output=True, text=True, timeout=60 * SLOW)
        self.assertEqual(p.returncode, 3, p.stderr[-2000:])
        self.assertIn("journal write failed (Input/output error): no more messages are acknowledged",
                      p.stderr)
        acked_at_failure = verdict(self.site.p("oracle"))["acked"]
        self.assertLess(acked_at_failure, 2000)
        del self.site.env["DRAY_FAULT_IO"]
        self.check(2000)  # restart: recovers, nothing acknowledged is lost

    def test_full_journal_is_backpressure_then_work_resumes(self):
        self.site.write(SITE.replace("COUNT", "4000").replace(
            "journal: { segment_bytes: 64K }", "journal: { segment_bytes: 64K, max_disk_bytes: 1M }")
            .replace("workers: 2, queue_capacity: 32,", "workers: 1, queue_capacity: 100000,"))
        self.site.start()
        wait_for(lambda: verdict(self.site.p("oracle"))["acked"] == 4000, timeout=120,
                 what="all 4000 accepted")
        self.assertEqual(self.site.stop(), 0)
        self.assertRegex(self.site.text(), r"gen\.backpressure_journal_full [1-9]")
        self.check(4000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
