"""Checks the channel calls make before any backend is involved (no server needed)."""
from websocket import channels, client


def test_a_client_websocket_cannot_be_attached():
    wb, err = client.new()
    assert err is None
    att, err = channels.attach(wb, "room")
    assert att is None
    assert err == "bad websocket: only unmasked (server) connections can be attached"
    assert channels.detach(wb) == (None, "not attached")


def test_send_refuses_what_is_neither_text_nor_bytes():
    wb, _ = client.new()
    assert channels.send(wb, 42) == (None, "bad message: str or bytes expected, got int")


def test_send_on_an_unattached_connection_is_a_plain_send():
    wb, _ = client.new()  # not connected: the plain send's own error comes back
    sent, err = channels.send(wb, "hello")
    assert sent is None and err is not None
