"""The messages every interop pair exchanges, defined once for Python, Node.js and the browser.

A case is a small JSON-able spec, so that the Node.js and browser peers can
rebuild the same payload without it being shipped to them:
  {"type": "text", "text": s}                      a literal text message
  {"type": "text", "char": c, "count": n}          c repeated n times
  {"type": "binary", "size": n}                    n bytes of PATTERN
"""
import json

MIB = 1 << 20

# 256 bytes that are not a simple ramp, repeated; the peers compute the same
# sequence as (i * 7 + 3) & 255.
_PERIOD = bytes((i * 7 + 3) & 255 for i in range(256))

CASES = [
    {"type": "text", "text": "héllo, wörld ✓ 日本語 𝄞 😀"},
    {"type": "binary", "size": 16},
    {"type": "text", "text": ""},
    {"type": "binary", "size": 0},
    {"type": "binary", "size": 125},
    {"type": "binary", "size": 126},
    {"type": "binary", "size": 65535},
    {"type": "binary", "size": 65536},
    {"type": "text", "char": "é", "count": 65536 // 2},   # 65536 bytes of 2-byte characters
    {"type": "binary", "size": MIB},
    {"type": "text", "char": "✓", "count": MIB // 3},     # ~1 MiB of 3-byte characters
]

#: The payload of the ping every pair sends (answered by a pong carrying the same bytes).
PING_PAYLOAD = b"ping \x00\xff"
#: The close frame the client sends at the end of the exchange.
CLOSE_CODE = 4001
CLOSE_REASON = "bye ✓"
#: The largest message the sides are configured for (peers and our objects).
MAX_SIZE = 4 << 20


def pattern(size: int) -> bytes:
    """`size` bytes of the repeating test pattern."""
    reps = size // 256 + 1
    return (_PERIOD * reps)[:size]


def payload(case):
    """The message of a case: `str` for text, `bytes` for binary."""
    if case["type"] == "binary":
        return pattern(case["size"])
    if "text" in case:
        return case["text"]
    return case["char"] * case["count"]


def case_id(case) -> str:
    """A short name for test ids and messages."""
    data = payload(case)
    size = len(data.encode()) if isinstance(data, str) else len(data)
    return "%s-%dB" % (case["type"], size)


def cases_json() -> str:
    """The cases as JSON, for the Node.js and browser peers."""
    return json.dumps(CASES)


def mismatch(case, got):
    """A short description of how an echoed message differs from the case's, or None."""
    sent = payload(case)
    if type(got) is not type(sent):
        return "%s: came back as %s" % (case_id(case), type(got).__name__)
    if got != sent:
        return "%s: came back different (%d %s)" % (
            case_id(case), len(got), "characters" if isinstance(got, str) else "bytes")
    return None


async def aiohttp_exchange(ws, case, timeout):
    """Send the case's message on an aiohttp client WebSocket `ws` and return what comes back (a WSMessage)."""
    data = payload(case)
    if isinstance(data, str):
        await ws.send_str(data)
    else:
        await ws.send_bytes(data)
    return await ws.receive(timeout=timeout)
