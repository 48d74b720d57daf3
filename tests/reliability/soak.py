"""The long reliability run (docs/RELIABILITY.md): overload at about ten
times a destination's capacity for a fixed time, watching the runtime's
memory, the journal and the destination's backlog stay under their caps
and the oracle stay clean.
The 1,000 kill -9 cycles are test_crash.py with DRAY_KILL_CYCLES=1000.

    python3 tests/reliability/soak.py BUILD_DIR MINUTES
"""
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "integration"))
sys.path.insert(0, here)

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
minutes = float(sys.argv[2] if len(sys.argv) > 2 else "30")
os.environ.setdefault("DRAY_BIN", os.path.join(build, "core", "dray"))
os.environ.setdefault("DRAY_PLUGIN_PATH", os.path.join(build, "tests", "plugins"))
os.environ["DRAY_NO_BUILD_PLUGINS"] = "1"
from harness import Site, wait_for  # noqa: E402
from oracle import verdict  # noqa: E402

# The destination takes ~1,000 msgs/s (1 ms each); the source offers as
# fast as the journal takes batches of 256 (tens of thousands per second).
SITE = """
site: soak
data_dir: data
shutdown_timeout_ms: 5000
journal: { segment_bytes: 16M, max_disk_bytes: 256M }
instances:
  gen: { plugin: testkit, config: { count: 100000000, batch: 256, partitions: 16, oracle_dir: oracle } }
  sink: { plugin: testkit, queue_capacity: 2048, config: { oracle_dir: oracle, delay_ms: 1 } }
routes:
  - { from: gen, to: sink }
"""


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def disk_bytes(*paths):
    return sum(os.path.getsize(os.path.join(path, f)) for path in paths if os.path.isdir(path)
               for f in os.listdir(path) if f.endswith(".seg"))


def main():
    site = Site(SITE)
    os.makedirs(site.p("oracle"))
    site.start()
    started = time.monotonic()
    peak_rss = peak_disk = 0
    while time.monotonic() - started < minutes * 60:
        time.sleep(5)
        peak_rss = max(peak_rss, rss_kb(site.proc.pid))
        peak_disk = max(peak_disk, disk_bytes(site.p("data", "journal"),
                                              site.p("data", "backlog", "sink")))
    stopped_at = verdict(site.p("oracle"))
    code = site.stop(timeout=60)
    # drain what is left: a source with nothing new, the journal replayed
    site.write(SITE.replace("count: 100000000", f"count: {stopped_at['acked']}"))
    site.start()
    wait_for(lambda: verdict(site.p("oracle"))["delivered"] >= stopped_at["acked"], timeout=3600,
             what="the backlog to drain")
    site.stop(timeout=60)
    v = verdict(site.p("oracle"))
    text = site.text()
    elapsed = minutes * 60
    print(f"overload for {minutes:g} min: offered and acknowledged {stopped_at['acked']} "
          f"({stopped_at['acked'] / elapsed:.0f}/s accepted), delivered during the run "
          f"{stopped_at['delivered']} ({stopped_at['delivered'] / elapsed:.0f}/s)")
    print(f"peak RSS {peak_rss / 1024:.1f} MiB, peak journal + backlog {peak_disk / 2**20:.1f} MiB "
          f"(cap 256 MiB each), first stop exit {code}")
    print(f"oracle after draining: lost {v['lost_count']}, phantom {len(v['phantom'])}, "
          f"mismatch {v['mismatch']}, deliveries {v['deliveries']} for {v['delivered']} messages")
    ok = v["lost_count"] == 0 and not v["phantom"] and v["mismatch"] == 0 and code == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
