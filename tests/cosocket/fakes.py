"""Stand-ins for the server's objects in the cosocket unit tests."""
from cosocket.confmodel import HttpSettings


class FakeRequest:
    """The parts of cosocket.server.request.Request the concurrency layer and the log use."""

    def __init__(self, n=1):
        self.settings = HttpSettings()
        self.connection_number = n

    def log_context(self):
        return ", client: 127.0.0.1, server: localhost, request: \"GET /t HTTP/1.1\""
