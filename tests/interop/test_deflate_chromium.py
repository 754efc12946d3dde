"""Headless Chromium's own permessage-deflate with our server's /echo, over ws:// and wss://.

The browser offers `permessage-deflate; client_max_window_bits` by itself;
the page's socket must report the extension our server answered, and every
message of the compression cases must come back as it went.
"""
import json

import gevent
import pytest

from .test_chromium import SEND_CASES_JS, chromium  # noqa: F401 (the browser fixture)
from .test_deflate import DEFLATE_CASES, SERVER_ANSWER


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_browser_negotiates_and_echoes_compressed(our_server, chromium, scheme):  # noqa: F811
    def drive():
        chromium.call("Page.navigate", url=our_server.url("/", scheme))
        chromium.wait_for("document.readyState === 'complete' && location.protocol === '%s:' "
                          "&& document.getElementById('status').textContent === 'open'" % scheme,
                          "an open WebSocket")
        assert chromium.evaluate("ws.extensions") == SERVER_ANSWER
        assert chromium.evaluate(SEND_CASES_JS % json.dumps(DEFLATE_CASES)) == []
        chromium.evaluate("ws.close(1000)")
        chromium.wait_for("document.getElementById('status').textContent.startsWith('closed')", "the close")

    gevent.spawn(drive).get(timeout=60)
