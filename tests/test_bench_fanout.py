"""The fan-out benchmark's harness (bench/fanout.py) at a tiny size: every phase runs and measures deliveries."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_fanout_harness_delivers_every_message_and_samples_latency(tmp_path):
    out = tmp_path / "fanout.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "fanout.py"), "--targets", "ours", "--subs", "6",
                           "--procs", "2", "--secs", "0.5", "--sizes", "64,1024", "--window", "4", "--settle", "5",
                           "--idle", "0", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    assert [r.get("size") for r in rows] == [64, 1024], rows
    for row in rows:
        assert row["target"] == "ours"
        assert row["published"] > 0
        assert row["subscribers_closed"] == 0
        assert row["delivered"] == row["published"] * 6  # the window kept every queue short: nothing dropped
        assert row["delivered_ratio"] == 1.0
        assert row["latency_settled"] is True
        assert row["samples"] > 0 and row["p50_ms"] is not None and row["p50_ms"] <= row["p99_ms"]
