"""The load sources: build and run bench/wsload.c, run the Python client scripts, parse their RESULT lines."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

from servers import BENCH, project_env

SOURCE = BENCH / "wsload.c"
BINARY = BENCH / "build" / "wsload"
CLIENTS = BENCH / "clients"


def build() -> Path:
    """Compile wsload with cc -O2 into bench/build/ unless the binary is newer than its source."""
    if BINARY.exists() and BINARY.stat().st_mtime >= SOURCE.stat().st_mtime:
        return BINARY
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise SystemExit("bench: no C compiler (cc) to build bench/wsload.c")
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([cc, "-O2", "-o", str(BINARY), str(SOURCE), "-lm", "-lz"], check=True)
    return BINARY


def parse_result(text: str) -> dict:
    """The key=value pairs of the last `RESULT ...` line of `text` (numbers as float); {} if none."""
    for line in reversed(text.splitlines()):
        if line.startswith("RESULT "):
            out = {}
            for item in line.split()[1:]:
                key, _, value = item.partition("=")
                try:
                    out[key] = float(value)
                except ValueError:
                    out[key] = value
            return out
    return {}


def _pinned(argv: list, cores: str) -> list:
    return (["taskset", "-c", cores] + argv) if cores else argv


def wsload(port: int, args: list, cores: str, timeout: float,
           at_measure: Optional[Callable[[], None]] = None, delay: float = 0.0) -> dict:
    """Run wsload against 127.0.0.1:port/echo with `args`; its RESULT as a dict ({"error": ...} if none).

    `at_measure()` is called `delay` seconds after the start (when the measured
    window is about to open), e.g. to start sampling the server's CPU.
    """
    argv = _pinned([str(BINARY), "-H", "127.0.0.1", "-p", str(port), "-u", "/echo"] + args, cores)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if at_measure:
        time.sleep(delay)
        at_measure()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"error": "wsload timed out after %.0fs" % timeout}
    result = parse_result(out)
    if not result:
        return {"error": "wsload printed no RESULT: " + (err.strip() or out.strip())[-300:]}
    return result


def hold_idle(port: int, conns: int, cores: str, on_ready: Callable[[dict], None],
              ramp: int = 200, timeout: float = 90.0, extra: tuple = ()) -> dict:
    """Open `conns` idle WebSocket connections, call on_ready(READY fields) while they are held, close them.

    `extra` goes to wsload as is, e.g. ("-Z", "-t", "-s", "1024"): negotiate
    permessage-deflate and echo one message on each connection before it idles.
    """
    argv = _pinned([str(BINARY), "-H", "127.0.0.1", "-p", str(port), "-u", "/echo", "-I",
                    "-c", str(conns), "-B", str(ramp), "-d", "600"] + list(extra), cores)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready: dict = {}
    deadline = time.monotonic() + timeout
    try:
        for line in proc.stdout:
            if line.startswith("READY "):
                ready = parse_result("RESULT " + line[len("READY "):])
                on_ready(ready)
                break
            if time.monotonic() > deadline:
                break
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    if not ready:
        return {"error": "wsload never held %d connections" % conns}
    return ready


def python_client(script: str, port: int, conns: int, size: int, secs: float, warmup: float,
                  cores: str) -> dict:
    """Run bench/clients/<script> (a Python load source) against the echo server; its RESULT."""
    argv = _pinned([sys.executable, str(CLIENTS / script), "--port", str(port), "--conns", str(conns),
                    "--size", str(size), "--secs", str(secs), "--warmup", str(warmup)], cores)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=secs + warmup + 60,
                              env=project_env())
    except subprocess.TimeoutExpired:
        return {"error": "%s timed out" % script}
    result = parse_result(done.stdout)
    if not result:
        return {"error": "%s printed no RESULT: %s" % (script, (done.stderr.strip() or done.stdout.strip())[-300:])}
    return result


def client_unusable(script: str) -> Optional[str]:
    """None when the client script's imports work here, else why not."""
    module = {"ours_client.py": "websocket.client", "websockets_client.py": "websockets.asyncio.client"}[script]
    probe = subprocess.run([sys.executable, "-c", "import " + module], capture_output=True, text=True,
                           env=project_env())
    if probe.returncode:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return "not ready yet: import %s fails (%s)" % (module, last)
    return None
