"""Headless Chromium loads the shipped page at / from our server and talks to /echo
through the browser's own WebSocket, over ws:// (http page) and wss:// (https page).

The browser is driven with the DevTools protocol, whose WebSocket endpoint we
reach with our own websocket.client (one more interop pair).  The test uses
the page as a person would (the Send text / Send 16 random bytes buttons),
then sends every message of cases.CASES through the page's socket, and closes
it with 4001 "bye ✓".
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import gevent
import pytest

from websocket import client

from .cases import CLOSE_CODE, CLOSE_REASON, cases_json
from .conftest import missing_chromium, require

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--ignore-certificate-errors", "--remote-debugging-port=0"]
STEP_TIMEOUT = 10.0  # seconds for one DevTools call or one page condition


class DevTools:
    """A minimal DevTools protocol client for one page target, over websocket.client."""

    def __init__(self, ws_url: str):
        self.wb, err = client.new(max_payload_len=64 << 20, timeout=int(STEP_TIMEOUT * 1000))
        assert err is None
        ok, err, _ = self.wb.connect(ws_url)
        assert ok == 1, "DevTools connect: %s" % err
        self.next_id = 0

    def call(self, method: str, **params):
        """Send one command and return its result (events in between are dropped)."""
        self.next_id += 1
        self.wb.send_text(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            parts = []
            while True:
                data, typ, err = self.wb.recv_frame()
                assert data is not None, "DevTools %s: %s" % (method, err)
                parts.append(data)
                if err != "again":
                    break
            message = json.loads("".join(parts))
            if message.get("id") == self.next_id:
                assert "error" not in message, "DevTools %s: %s" % (method, message["error"])
                return message["result"]

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str):
        """Poll `expression` until it is truthy; its value."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, "the page never got %s" % what
            gevent.sleep(0.02)

    def close(self):
        self.wb.close()


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium with a fresh profile: DevTools(page) for its first page target."""
    require(missing_chromium())
    profile = tempfile.mkdtemp(prefix="interop-chromium-")
    proc = subprocess.Popen(["chromium", *CHROMIUM_FLAGS, "--user-data-dir=" + profile, "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 20
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            assert proc.poll() is None, "chromium exited with %s" % proc.returncode
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        port = int(open(port_file).read().split()[0])
        while True:  # the first page target may show up a moment after the port
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as resp:
                pages = [t for t in json.load(resp) if t["type"] == "page"]
            if pages:
                break
            assert time.monotonic() < deadline, "chromium has no page target"
            time.sleep(0.05)
        page = pages[0]
        devtools = DevTools(page["webSocketDebuggerUrl"])
        yield devtools
        devtools.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the browser and its helper processes (its own session)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


# Sends every case through the page's own socket (`ws`, a top-level const of the
# page's script) and compares each echo that the page stored in window.echoResults.
SEND_CASES_JS = """
(async (cases) => {
  const payload = (c) => {
    if (c.type === "binary") {
      const a = new Uint8Array(c.size);
      for (let i = 0; i < c.size; i++) a[i] = (i * 7 + 3) & 255;
      return a;
    }
    return "text" in c ? c.text : c.char.repeat(c.count);
  };
  const problems = [];
  for (const c of cases) {
    const before = window.echoResults.length;
    const sent = payload(c);
    ws.send(c.type === "binary" ? sent.buffer : sent);
    const t0 = Date.now();
    while (window.echoResults.length === before) {
      if (Date.now() - t0 > 5000) { problems.push(c.type + " " + JSON.stringify(c).slice(0, 60) + ": no echo"); return problems; }
      await new Promise((r) => setTimeout(r, 5));
    }
    const got = window.echoResults[before];
    let same = got.type === c.type;
    if (same && c.type === "text") same = got.data === sent;
    else if (same) same = got.data.length === sent.length && got.data.every((b, i) => b === sent[i]);
    if (!same) problems.push(c.type + " " + JSON.stringify(c).slice(0, 60) + ": came back as " + got.type + " of length " + got.data.length);
  }
  return problems;
})(%s)
"""


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_page_echoes_through_the_browser_websocket(our_server, chromium, scheme):
    def drive():
        chromium.call("Page.navigate", url=our_server.url("/", scheme))
        chromium.wait_for("document.readyState === 'complete' && location.protocol === '%s:' "
                          "&& document.getElementById('status').textContent === 'open'" % scheme,
                          "an open WebSocket")
        assert chromium.evaluate("ws.url") == our_server.url("/echo", "ws" if scheme == "http" else "wss")

        # as a person uses the page: the two buttons
        chromium.evaluate("document.getElementById('send-text').click(); "
                          "document.getElementById('send-binary').click()")
        chromium.wait_for("window.echoResults.length === 2", "the two echoes")
        text, binary = chromium.evaluate("window.echoResults")
        assert text == {"type": "text", "data": "héllo, wörld ✓"}
        sent_hex = chromium.evaluate("[...document.querySelectorAll('#log .out')].pop().textContent")
        assert binary["type"] == "binary" and len(binary["data"]) == 16
        assert sent_hex == "> binary: " + " ".join("%02x" % b for b in binary["data"])

        assert chromium.evaluate(SEND_CASES_JS % cases_json()) == []

        chromium.evaluate("ws.close(%d, %s)" % (CLOSE_CODE, json.dumps(CLOSE_REASON)))
        status = chromium.wait_for("document.getElementById('status').textContent.startsWith('closed') "
                                   "&& document.getElementById('status').textContent", "the close")
        assert status == "closed (%d)" % CLOSE_CODE

    gevent.spawn(drive).get(timeout=60)
