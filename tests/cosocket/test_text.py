"""Lua's tostring and the joining rules of ngx.say / ngx.print / ngx.log / socket send."""
import pytest

from cosocket.text import lua_number, lua_tostring, null, say_bytes, send_bytes


def test_lua_number_formats_floats_with_14_significant_digits():
    assert lua_number(3) == "3"
    assert lua_number(3.0) == "3"
    assert lua_number(0.1) == "0.1"
    assert lua_number(1 / 3) == "0.33333333333333"
    assert lua_number(1e20) == "1e+20"


def test_lua_tostring_words():
    assert lua_tostring(None) == "nil"
    assert lua_tostring(True) == "true"
    assert lua_tostring(False) == "false"
    assert lua_tostring(b"abc") == "abc"


def test_say_bytes_joins_and_flattens_like_lua():
    assert say_bytes(["a", b"b", None, True, False, 1, 2.5, ["x", ("y", null)]]) == b"abniltruefalse12.5xynull"
    assert say_bytes(["\u00e9"]) == "\u00e9".encode()


def test_say_bytes_rejects_unknown_types():
    with pytest.raises(TypeError):
        say_bytes([object()])


def test_send_bytes_accepts_strings_numbers_and_nested_lists():
    assert send_bytes(b"raw") == b"raw"
    assert send_bytes(["GET ", ["/", 1], " ", 2.5, bytearray(b"!"), memoryview(b"?")]) == b"GET /1 2.5!?"


@pytest.mark.parametrize("bad, kind", [(None, "nil"), (True, "boolean"), ([b"a", None], "nil"), ({}, "dict")])
def test_send_bytes_rejects_nil_and_booleans(bad, kind):
    with pytest.raises(TypeError, match="bad data type %s found" % kind):
        send_bytes(bad)
