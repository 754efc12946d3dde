"""WebSocket handlers for the process-model tests (content_by_python wsapp:NAME)."""
import os

from cosocket import ngx
from websocket import server


def pid_echo():
    """Echo text frames; the text "pid" answers this worker's pid instead."""
    wb, err = server.new(timeout=1000, max_payload_len=65535)
    if wb is None:
        ngx.log(ngx.ERR, "failed to new websocket: ", err)
        return ngx.exit(444)
    while True:
        data, typ, err = wb.recv_frame()
        if data is None:
            if err and "timeout" in err:
                continue  # an idle client: keep the session
            return
        if typ == "close":
            wb.send_close()
            return
        if typ == "ping":
            wb.send_pong(data)
        elif typ == "text":
            wb.send_text(str(os.getpid()) if data == "pid" else data)
