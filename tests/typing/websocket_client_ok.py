"""A WebSocket client in a plain gevent program: type-checked, never run."""
from __future__ import annotations

from typing import Optional, Union

from websocket import client


def ask(uri: str, question: str) -> Optional[Union[str, bytes]]:
    wb, err = client.new(timeout=5000, max_payload_len=65535)
    if wb is None:
        return None
    ok, err, res = wb.connect(uri, protocols="chat")
    if ok is None:
        print("failed to connect:", err)
        return None
    if res is not None and res != "connection reused":
        print(res.splitlines()[0])
    sent, err = wb.send_text(question)
    if sent is None:
        return None
    data, typ, err = wb.recv_frame()
    if data is None:
        return None
    if typ == "close":
        code: Optional[int] = err if isinstance(err, int) else None
        print("server closed:", code)
        return None
    wb.send_close(1000, "bye")
    ok, err = wb.set_keepalive(10000, 4)
    return data
