"""What every echo peer does besides echoing (shared by the Python peers and the tests)."""

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
