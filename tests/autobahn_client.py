"""The Autobahn TestSuite testee for websocket.client (not a pytest module: Autobahn cannot run in CI).

Start Autobahn's fuzzing server, then run every case against it:

    wstest -m fuzzingserver -s fuzzingserver.json      # {"url": "ws://127.0.0.1:9001", "outdir": ...}
    python3 tests/autobahn_client.py ws://127.0.0.1:9001 [agent] [--deflate]

(`--deflate`: offer permessage-deflate, for the compression cases 12.* and 13.*.)

Each case is an echo over `recv_message`, with limits large enough for
section 9 (16 MiB messages).  See docs/CONFORMANCE.md for the results.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websocket import client  # noqa: E402

LIMIT = 16 * 1024 * 1024
TIMEOUT_MS = 10000
#: The client's permessage_deflate option (None: no offer; `--deflate` sets True).
DEFLATE = None


def open_ws(base: str, path: str):
    """A connected client object for `base + path`, or exits with the error.

    A refused or reset connect is retried twice: the fuzzing server (Twisted)
    now and then resets a connection opened right after the previous case.
    """
    for attempt in range(3):
        wb, _ = client.new(timeout=TIMEOUT_MS, max_payload_len=LIMIT, permessage_deflate=DEFLATE)
        ok, err, _ = wb.connect(base + path)
        if ok:
            return wb
        time.sleep(0.2)
    sys.exit("failed to connect to %s: %s" % (path, err))


def case_count(base: str) -> int:
    """How many cases the fuzzing server has."""
    wb = open_ws(base, "/getCaseCount")
    data, typ, err = wb.recv_message()
    if typ != "text":
        sys.exit("getCaseCount: %s %s" % (typ, err))
    wb.recv_message()  # the server's close
    wb.close()
    return int(data)


def run_case(base: str, number: int, agent: str) -> None:
    """Echo every message of case `number` until the connection ends."""
    wb = open_ws(base, "/runCase?case=%d&agent=%s" % (number, agent))
    while True:
        data, typ, err = wb.recv_message()
        if data is None or typ == "close":
            break
        sent, err = wb.send_text(data) if typ == "text" else wb.send_binary(data)
        if sent is None:
            break
    wb.close()


def update_reports(base: str, agent: str) -> None:
    """Ask the fuzzing server to write its reports."""
    wb = open_ws(base, "/updateReports?agent=%s" % agent)
    wb.recv_message()
    wb.close()


def main(argv) -> None:
    global DEFLATE
    if "--deflate" in argv:
        argv = [a for a in argv if a != "--deflate"]
        DEFLATE = True
    base = argv[1] if len(argv) > 1 else "ws://127.0.0.1:9001"
    agent = argv[2] if len(argv) > 2 else "cosocket-client"
    count = case_count(base)
    print("%d cases" % count, flush=True)
    for number in range(1, count + 1):
        run_case(base, number, agent)
        if number % 50 == 0:
            print("case %d/%d" % (number, count), flush=True)
    update_reports(base, agent)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv)
