"""The channels directives: values, defaults and errors in nginx's words."""
import pytest

from cosocket.server import conf


def _load(tmp_path, http_body: str):
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp {\n%s\n}\n" % http_body)
    return conf.load(str(path), str(tmp_path))


def test_no_directive_no_channels(tmp_path):
    assert _load(tmp_path, "").http.channels is None


def test_defaults_and_values(tmp_path):
    cc = _load(tmp_path, "channels embedded;").http.channels
    assert (cc.backend, cc.socket) == ("embedded", str(tmp_path / "logs" / "channels.sock"))
    assert (cc.history_messages, cc.history_time, cc.message_max, cc.queue_size) == (0, 0, 65536, 262144)
    cc = _load(tmp_path, "channels redis://:secret@127.0.0.1:6380/2; channels_history 50 2m; "
                         "channels_message_max 1m; channels_queue_size 64k; channels_socket run/ch.sock; "
                         "channels_sharded on;").http.channels
    assert cc.backend == "redis://:secret@127.0.0.1:6380/2"
    assert (cc.history_messages, cc.history_time) == (50, 120000)
    assert (cc.message_max, cc.queue_size, cc.sharded) == (1048576, 65536, True)
    assert cc.socket == str(tmp_path / "run" / "ch.sock")


@pytest.mark.parametrize("body, message", [
    ("channels memcached://x;", 'invalid value "memcached://x" in "channels" directive'),
    ("channels embedded; channels embedded;", '"channels" directive is duplicate'),
    ("channels_history 10;", '"channels_history" directive needs "channels" in the same http block'),
    ("channels embedded; channels_history ten;", 'invalid value "ten" in "channels_history" directive'),
    ("channels embedded; channels_queue_size 0;", 'invalid value "0" in "channels_queue_size" directive'),
    ("channels embedded; channels_sharded maybe;", 'it must be "on" or "off"'),
])
def test_errors(tmp_path, body, message):
    with pytest.raises(conf.ConfError) as info:
        _load(tmp_path, body)
    assert message in str(info.value)


def test_not_in_a_server_block(tmp_path):
    with pytest.raises(conf.ConfError) as info:
        _load(tmp_path, "server { channels embedded; }")
    assert '"channels" directive is not allowed here' in str(info.value)
