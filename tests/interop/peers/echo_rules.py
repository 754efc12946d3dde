"""What every echo peer does besides echoing (shared by the Python peers and the tests), and how they start."""
import ssl

#: A text message asking the peer to close the connection itself.
CLOSE_ME = "close-me"
#: The close frame a peer sends when asked to.
PEER_CLOSE_CODE = 4002
PEER_CLOSE_REASON = "peer bye ✓"
#: The largest message the peers accept (the tests send 1 MiB).
MAX_SIZE = 4 << 20
#: A text message asking the peer to send FRAGMENTED_TEXT as a fragmented text message
#: (split inside the "é" where the peer's API allows raw fragments).
FRAGMENT_ME = "fragment-me"
FRAGMENTED_TEXT = "é!"
#: A text message asking the peer to ping (payload PEER_PING) and, once the pong
#: with that payload is back, to send the text PONG_SEEN.
PING_ME = "ping-me"
PEER_PING = b"are you there?"
PONG_SEEN = "pong received"
#: A text message asking the peer for the Sec-WebSocket-Extensions header it answered with ("" without one).
ASK_EXTENSIONS = "extensions?"


def peer_args(argv):
    """`(deflate, port, context)` from a peer's arguments `[--deflate] PORT [CERT KEY]`: permessage-deflate
    wanted, the port, and a server TLS context when a certificate and key are given (else None)."""
    deflate = bool(argv) and argv[0] == "--deflate"
    port, *tls = argv[1:] if deflate else argv
    context = None
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls[0], tls[1])
    return deflate, int(port), context
