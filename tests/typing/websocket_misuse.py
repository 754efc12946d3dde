"""Deliberate misuse of the WebSocket API: mypy must report every marked line."""
from __future__ import annotations

from websocket import client, server


def handler() -> None:
    wb, err = server.new()
    wb.recv_frame()  # E: wb is None when the handshake failed
    if wb is None:
        return
    data, typ = wb.recv_message()  # E: three values: (data, typ, err)
    frame = wb.recv_frame()
    frame.decode()  # E: the (data, typ, err) tuple used as bytes
    wb.send_text(frame)  # E: a tuple is no payload
    _data, _typ, slot = wb.recv_frame()
    code: int = slot  # E: the close code shares its slot with the error string


def connect() -> str:
    wb, err = client.new()
    if wb is None:
        return err or ""
    ok, err = wb.connect("ws://127.0.0.1:8080/")  # E: connect returns (ok, err, res)
    res = wb.connect("ws://127.0.0.1:8080/")
    return res  # E: a tuple, not the response head
