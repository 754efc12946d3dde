"""The request's light-thread set holds no set until a thread is added; ngx.ctx is made on first use."""
import pytest

from cosocket.server.request import _ThreadSet


def test_thread_set_behaves_as_a_set():
    s = _ThreadSet()
    assert not s and len(s) == 0 and list(s) == [] and "a" not in s and s._set is None
    s.discard("a")
    s.clear()
    with pytest.raises(KeyError):
        s.remove("a")
    s.add("a")
    s.add("b")
    s.add("a")
    assert s and len(s) == 2 and sorted(s) == ["a", "b"] and "a" in s
    s.discard("a")
    s.remove("b")
    assert not s and list(s) == []
