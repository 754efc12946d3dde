"""The front door, judged against Debian's nginx: the same raw bytes to both servers, one table of answers."""
from __future__ import annotations

import pytest

from tests.frontdoor.cases import CASES
from tests.frontdoor.wire import Outcome, exchange


@pytest.mark.parametrize("name,data,statuses,closed,lengths", CASES, ids=[c[0] for c in CASES])
def test_case(server, name, data, statuses, closed, lengths):
    got = exchange(server.port, data)
    assert got == Outcome(statuses, closed, lengths), "%s: %s" % (name, got)
