"""A peer server (another implementation) in a subprocess on 127.0.0.1, for tests that talk to it.

    peer = PeerProcess("node-ws", argv, port, log_dir)   # returns once `port` accepts
    peer.output()   # what it printed so far (log_dir/NAME.out)
    peer.stop()     # SIGTERM to its own pid, SIGKILL after 5 s
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.serverproc import wait_port


class PeerProcess:
    """A peer server in a subprocess listening on 127.0.0.1:`port` (and `extra_ports`); stopped by its own pid."""

    def __init__(self, name: str, argv: list, port: int, log_dir: Path, cwd: Path | None = None,
                 extra_ports: tuple = (), env: dict | None = None):
        self.name = name
        self.port = port
        self.log_path = log_dir / ("%s.out" % name)
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=str(cwd or log_dir), env=env,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        try:
            for p in (port, *extra_ports):
                wait_port(p, timeout=10)
        except TimeoutError:
            self.stop()
            raise RuntimeError("peer %s did not start:\n%s" % (name, self.diagnostics()))

    def output(self) -> str:
        """What the peer printed so far."""
        return self.log_path.read_text(errors="replace")

    def diagnostics(self) -> str:
        """What to show when the peer did not start."""
        return self.output()

    def stop(self) -> None:
        """Terminate the peer (SIGTERM, then SIGKILL after a grace period)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
