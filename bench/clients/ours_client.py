"""This project's WebSocket client as a load source: N connections, one binary message in flight each.

Prints the same RESULT line as wsload (msgs_per_s, cpu_pct of this process, errors).
"""
import argparse
import resource
import time

import gevent

from websocket import client


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--secs", type=float, default=2.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    opts = ap.parse_args()
    url = "ws://127.0.0.1:%d/echo" % opts.port
    payload = bytes(opts.size)
    window = {"start": float("inf"), "end": float("inf")}
    counts = {"msgs": 0, "errors": 0}

    def connection() -> None:
        wb, err = client.new(timeout=5000, max_payload_len=max(65535, opts.size))
        ok, err, _ = wb.connect(url)
        if not ok:
            counts["errors"] += 1
            return
        while True:
            now = time.monotonic()
            if now >= window["end"]:
                break
            _, err = wb.send_binary(payload)
            data, typ, err = wb.recv_frame()
            if data is None:
                counts["errors"] += 1
                return
            if window["start"] <= time.monotonic() < window["end"]:
                counts["msgs"] += 1
        wb.close()

    workers = [gevent.spawn(connection) for _ in range(opts.conns)]
    gevent.sleep(opts.warmup)
    cpu0 = cpu_seconds()
    window["start"] = time.monotonic()
    window["end"] = window["start"] + opts.secs
    gevent.joinall(workers, timeout=opts.secs + 10)
    secs = time.monotonic() - window["start"]
    cpu = cpu_seconds() - cpu0
    print("RESULT mode=client conns=%d msgs=%d secs=%.2f msgs_per_s=%.0f errors=%d cpu_pct=%.1f"
          % (opts.conns, counts["msgs"], opts.secs, counts["msgs"] / opts.secs, counts["errors"],
             100.0 * cpu / secs))


if __name__ == "__main__":
    main()
