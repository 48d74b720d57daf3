"""The reliability oracle (RELIABILITY.md §12.2): the testkit source
records every acknowledged emit, the destination every delivery (with a
payload check) and every effect; these checks turn the records into
verdicts: lost = 0, phantom = 0, payload mismatch = 0, duplicate
financial effects = 0."""
import collections
import os


def read_ints(path):
    try:
        with open(path) as f:
            return [int(l.split()[0]) for l in f if l.strip() and l.split()[0].lstrip("-").isdigit()]
    except FileNotFoundError:
        return []


def verdict(oracle_dir, effects_file=None):
    acked = set(read_ints(os.path.join(oracle_dir, "acked.log")))
    delivered_rows = []
    try:
        with open(os.path.join(oracle_dir, "delivered.log")) as f:
            delivered_rows = [l.split() for l in f if l.strip()]
    except FileNotFoundError:
        pass
    delivered = {int(r[0]) for r in delivered_rows}
    highest = max(acked | delivered | {-1})
    result = {
        "acked": len(acked),
        "delivered": len(delivered),
        "deliveries": len(delivered_rows),
        "lost": sorted(acked - delivered)[:20],
        "lost_count": len(acked - delivered),
        # a delivered n the source never produced (or a corrupted number)
        "phantom": sorted(n for n in delivered if n < 0 or n > highest)[:20],
        "mismatch": sum(1 for r in delivered_rows if r[1] != "ok"),
        "duplicate_effects": 0,
    }
    if effects_file:
        try:
            with open(effects_file) as f:
                keys = [l.strip() for l in f if l.strip()]
        except FileNotFoundError:
            keys = []
        result["effects"] = len(keys)
        result["duplicate_effects"] = sum(c - 1 for c in collections.Counter(keys).values() if c > 1)
    return result
