"""wsload's modes against a real echo server (the websockets peer) on 127.0.0.1, a fraction of a second each."""
import os
import subprocess

import pytest

import loadgen
import servers


@pytest.fixture(scope="module")
def echo_server():
    loadgen.build()
    peer = next(p for p in servers.PEERS if p.name == "websockets")
    if peer.unusable():
        pytest.fail(peer.unusable())
    srv = servers.start(peer, cores="")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def deflate_server():
    loadgen.build()
    peer = next(p for p in servers.PEERS if p.name == "websockets")
    if peer.unusable():
        pytest.fail(peer.unusable())
    srv = servers.start(peer, cores="", deflate=True)
    yield srv
    srv.stop()


def test_closed_loop_echo_counts_verified_messages(echo_server):
    res = loadgen.wsload(echo_server.port, ["-c", "4", "-s", "1000", "-d", "0.3"], "", timeout=20)
    assert res["mode"] == "echo" and res["msgs"] > 0
    assert res["errors"] == 0 and res["bad_echo"] == 0 and res["alive"] == 4
    assert 0 < res["cpu_pct"] <= 100.5


def test_large_messages_use_64_bit_lengths(echo_server):
    res = loadgen.wsload(echo_server.port, ["-c", "2", "-s", "70000", "-d", "0.3"], "", timeout=20)
    assert res["msgs"] > 0 and res["errors"] == 0 and res["bad_echo"] == 0


def test_large_pipelined_messages_stay_in_order(echo_server):
    # -P 3: a message queued while the last one's payload is still going out from premasked[]
    res = loadgen.wsload(echo_server.port, ["-c", "2", "-P", "3", "-s", "300000", "-d", "0.3"], "", timeout=20)
    assert res["msgs"] > 0 and res["errors"] == 0 and res["bad_echo"] == 0


def test_open_loop_sends_at_the_offered_rate(echo_server):
    res = loadgen.wsload(echo_server.port, ["-c", "5", "-s", "64", "-r", "500", "-d", "0.4"], "", timeout=20)
    assert res["errors"] == 0
    assert 350 <= res["msgs_per_s"] <= 650
    assert 0 < res["p50_us"] <= res["p99_us"]


def test_connect_mode_completes_handshake_and_close_cycles(echo_server):
    res = loadgen.wsload(echo_server.port, ["-C", "-c", "2", "-d", "0.3"], "", timeout=20)
    assert res["mode"] == "connect" and res["msgs"] > 0 and res["errors"] == 0


def test_idle_mode_reports_ready_while_connections_are_held(echo_server):
    seen = {}

    def on_ready(ready):
        seen["pids_rss"] = echo_server.rss()
        seen.update(ready)

    ready = loadgen.hold_idle(echo_server.port, 50, "", on_ready, ramp=10)
    assert ready["conns"] == 50 and ready["errors"] == 0
    assert seen["pids_rss"] > 0


@pytest.mark.parametrize("size", [64, 16384])
def test_deflate_echo_counts_compressed_answers(deflate_server, size):
    # the first answer is inflated and compared with the text sent: bad_echo stays 0 only if it matched
    res = loadgen.wsload(deflate_server.port, ["-z", "-t", "-c", "3", "-s", str(size), "-d", "0.3"], "",
                         timeout=20)
    assert res["mode"] == "echo" and res["msgs"] > 0 and res["alive"] == 3
    assert res["errors"] == 0 and res["bad_echo"] == 0


def test_deflate_echo_fails_connections_whose_101_refuses_compression(echo_server):
    res = loadgen.wsload(echo_server.port, ["-z", "-t", "-c", "3", "-s", "64", "-d", "0.2"], "", timeout=20)
    assert res["errors"] == 3 and res["alive"] == 0 and res["msgs"] == 0


def test_plain_mode_offers_no_compression_to_a_compressing_server(deflate_server):
    # without -z the answers come back uncompressed and byte for byte
    res = loadgen.wsload(deflate_server.port, ["-t", "-c", "2", "-s", "1000", "-d", "0.2"], "", timeout=20)
    assert res["msgs"] > 0 and res["errors"] == 0 and res["bad_echo"] == 0


def test_idle_deflate_mode_echoes_one_message_before_ready(deflate_server):
    seen = {}

    def on_ready(ready):
        seen.update(ready)

    # READY comes only once every connection's compressed message came back (or it failed)
    ready = loadgen.hold_idle(deflate_server.port, 20, "", on_ready, ramp=10, extra=("-Z", "-t", "-s", "1024"))
    assert ready["conns"] == 20 and ready["errors"] == 0 and seen["conns"] == 20


def test_rss_and_cpu_of_a_process_tree_come_from_proc():
    me = os.getpid()
    child = subprocess.Popen(["sleep", "5"])
    try:
        assert set(servers.tree_pids(me)) >= {me, child.pid}
    finally:
        child.kill()
        child.wait()
    assert servers.rss_bytes([me]) > 1 << 20
    assert servers.cpu_seconds([me]) > 0


def test_conf_placeholders_are_filled_but_nginx_braces_kept(tmp_path):
    src = tmp_path / "in.conf"
    src.write_text("listen 127.0.0.1:{port};\nevents { worker_connections 10; }\n")
    servers.render(src, tmp_path / "out.conf", {"port": 4242})
    assert (tmp_path / "out.conf").read_text() == "listen 127.0.0.1:4242;\nevents { worker_connections 10; }\n"
