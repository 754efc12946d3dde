"""websocket.client driven against a raw peer (rawpeer.py, deflatewire.py) by the client-side tests."""
from __future__ import annotations

from websocket import client


def connect(peer, **opts):
    """A client made with `opts` (timeout 500 ms unless given) connected to `peer`: `(wb, ok, err)`."""
    opts.setdefault("timeout", 500)
    wb, _ = client.new(opts)
    ok, err, _ = wb.connect(peer.url())
    return wb, ok, err


def run_echo(peer, **opts):
    """Connect, then echo messages with recv_message until it fails or a close: (returns, wb)."""
    wb, ok, err = connect(peer, **opts)
    assert ok == 1, err
    results = []
    while True:
        data, typ, err = wb.recv_message()
        results.append((data, typ, err))
        if data is None or typ == "close":
            break
        (wb.send_text if typ == "text" else wb.send_binary)(data)
    peer.done.wait(2)
    return results, wb
