"""The websockets library's asyncio client as a load source: N connections, one binary message in flight each.

Prints the same RESULT line as wsload (msgs_per_s, cpu_pct of this process, errors).
"""
import argparse
import asyncio
import resource
import time

from websockets.asyncio.client import connect


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def main() -> None:
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

    async def connection() -> None:
        try:
            async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
                while time.monotonic() < window["end"]:
                    await ws.send(payload)
                    await ws.recv()
                    if window["start"] <= time.monotonic() < window["end"]:
                        counts["msgs"] += 1
        except Exception:
            counts["errors"] += 1

    tasks = [asyncio.create_task(connection()) for _ in range(opts.conns)]
    await asyncio.sleep(opts.warmup)
    cpu0 = cpu_seconds()
    window["start"] = time.monotonic()
    window["end"] = window["start"] + opts.secs
    await asyncio.wait(tasks, timeout=opts.secs + 10)
    secs = time.monotonic() - window["start"]
    cpu = cpu_seconds() - cpu0
    print("RESULT mode=client conns=%d msgs=%d secs=%.2f msgs_per_s=%.0f errors=%d cpu_pct=%.1f"
          % (opts.conns, counts["msgs"], opts.secs, counts["msgs"] / opts.secs, counts["errors"],
             100.0 * cpu / secs))


if __name__ == "__main__":
    asyncio.run(main())
