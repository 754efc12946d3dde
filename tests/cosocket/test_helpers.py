"""The request-free ngx helpers against known vectors (lua-nginx-module's documentation and tests)."""
import re as stdre
import time

import pytest

import importlib

from cosocket import runtime
from cosocket.ngx import _LAZY, ngx
from cosocket.text import null


def test_every_helper_name_resolves_on_ngx():
    for name, (module, attr) in _LAZY.items():
        if module in ("cosocket.codecs", "cosocket.clock", "cosocket.regex"):
            assert getattr(ngx, name) is getattr(importlib.import_module(module), attr)


# --- hashes -----------------------------------------------------------------------------

def test_md5():
    assert ngx.md5("hello") == "5d41402abc4b2a76b9719d911017c592"
    assert ngx.md5(b"") == "d41d8cd98f00b204e9800998ecf8427e"
    assert ngx.md5(None) == "d41d8cd98f00b204e9800998ecf8427e"  # lua-resty-core: nil -> ""
    assert ngx.md5(12) == ngx.md5("12")
    assert ngx.md5_bin("hello") == bytes.fromhex("5d41402abc4b2a76b9719d911017c592")


def test_sha1_bin():
    assert ngx.sha1_bin("abc") == bytes.fromhex("a9993e364706816aba3e25717850c26c9cd0d89d")
    assert ngx.sha1_bin("héllo") == ngx.sha1_bin("héllo".encode("utf-8"))


def test_hmac_sha1_readme_vector():
    digest = ngx.hmac_sha1("thisisverysecretstuff", "some string we want to sign")
    assert isinstance(digest, bytes)
    assert ngx.encode_base64(digest) == "R/pvxzHC4NLtj7S+kXFg/NePTmk="


def test_crc32():
    assert ngx.crc32_short("hello") == 907060870
    s = "The quick brown fox jumps over the lazy dog"
    assert ngx.crc32_long(s) == 0x414FA339 == ngx.crc32_short(s)
    assert ngx.crc32_short("") == 0


def test_hash_bad_argument():
    with pytest.raises(TypeError):
        ngx.md5({})


# --- base64 -----------------------------------------------------------------------------

def test_encode_base64():
    assert ngx.encode_base64("hello") == "aGVsbG8="
    assert ngx.encode_base64(b"hello", True) == "aGVsbG8"
    assert ngx.encode_base64("") == ""
    assert ngx.encode_base64(b"\xff\x00") == "/wA="
    with pytest.raises(TypeError):
        ngx.encode_base64("x", 1)


def test_decode_base64():
    assert ngx.decode_base64("aGVsbG8=") == b"hello"
    assert ngx.decode_base64("aGVsbG8") == b"hello"  # padding may be omitted
    assert ngx.decode_base64(b"/wA=") == b"\xff\x00"
    assert ngx.decode_base64("") == b""
    assert ngx.decode_base64("YQ==ignored") == b"a"  # nginx stops at the first "="


@pytest.mark.parametrize("bad", ["a", "aGVsbG8*", "aGV sbG8=", "aGVsb"])
def test_decode_base64_invalid_gives_none(bad):
    assert ngx.decode_base64(bad) is None


# --- URIs --------------------------------------------------------------------------------

def test_escape_uri_component():
    assert ngx.escape_uri("a b&c=d/e?f#g") == "a%20b%26c%3Dd%2Fe%3Ff%23g"
    assert ngx.escape_uri("-._~!'()*AZaz09") == "-._~!'()*AZaz09"
    assert ngx.escape_uri("a 你") == "a%20%E4%BD%A0"
    assert ngx.escape_uri(b"\x00\x7f\xff+,;:@$[]") == "%00%7F%FF%2B%2C%3B%3A%40%24%5B%5D"
    assert ngx.escape_uri(None) == ""
    assert ngx.escape_uri(3.5) == "3.5"


def test_escape_uri_type_0_full_uri():
    assert ngx.escape_uri("/a b/c?d#e%f&g=h+i\x01\x7f", 0) == "/a%20b/c%3Fd%23e%25f&g=h+i%01%7F"
    assert ngx.escape_uri("http://x.org/~p;q@r", 0) == "http://x.org/~p;q@r"


def test_escape_uri_type_checks():
    with pytest.raises(ValueError, match='"type" 7 out of range'):
        ngx.escape_uri("x", 7)
    with pytest.raises(TypeError, match='"type" is not a number'):
        ngx.escape_uri("x", "2")


def test_unescape_uri_readme_examples():
    assert ngx.unescape_uri("b%20r56+7") == "b r56 7"
    assert ngx.unescape_uri("try %search%%20%again%") == "try %search% %again%"
    assert ngx.unescape_uri("%2B%2b%E4%BD%A0") == "++你"
    assert ngx.unescape_uri(b"%ff%zz%") == b"\xff%zz%"
    assert ngx.unescape_uri(None) == b""


def test_escape_unescape_round_trip():
    raw = bytes(range(256))
    assert ngx.unescape_uri(ngx.escape_uri(raw).encode()) == raw


# --- query args --------------------------------------------------------------------------

def test_encode_args_readme_examples():
    assert ngx.encode_args({"foo": 3, "b r": "hello world"}) == "foo=3&b%20r=hello%20world"
    assert ngx.encode_args({"baz": [32, "hello"]}) == "baz=32&baz=hello"
    assert ngx.encode_args({"a": True, "b": 1}) == "a&b=1"
    assert ngx.encode_args({"a": False, "b": [], "c": None}) == ""
    assert ngx.encode_args({"k": [True, False, "v"]}) == "k&k=v"
    assert ngx.encode_args({"f": 1.5, "x": b"\xff"}) == "f=1.5&x=%FF"


def test_encode_args_errors():
    with pytest.raises(TypeError, match="non-string key"):
        ngx.encode_args({1: "a"})
    with pytest.raises(TypeError, match="attempt to use userdata as query arg value"):
        ngx.encode_args({"a": null})
    with pytest.raises(TypeError, match="attempt to use table as query arg value"):
        ngx.encode_args({"a": {"b": 1}})


def test_decode_args():
    args, err = ngx.decode_args("a=bar&b=foo+baz&a=2&flag&c=%3D%26&d=e=f&=nokey&&")
    assert err is None
    assert args == {"a": ["bar", "2"], "b": "foo baz", "flag": True, "c": "=&", "d": "e=f"}
    assert ngx.decode_args("") == ({}, None)
    assert ngx.decode_args(b"k=%ff") == ({b"k": b"\xff"}, None)


def test_decode_args_max_args():
    assert ngx.decode_args("a=1&b=2&c=3", 2) == ({"a": "1", "b": "2"}, "truncated")
    assert ngx.decode_args("a=1&b=2", 2) == ({"a": "1", "b": "2"}, None)
    many = "&".join("k%d=v" % i for i in range(150))
    args, err = ngx.decode_args(many)
    assert (len(args), err) == (100, "truncated")
    args, err = ngx.decode_args(many, 0)
    assert (len(args), err) == (150, None)


def test_encode_decode_round_trip():
    table = {"a b": "c&d", "e": ["1", "2"], "f": True}
    assert ngx.decode_args(ngx.encode_args(table)) == (table, None)


# --- SQL -----------------------------------------------------------------------------------

def test_quote_sql_str():
    assert ngx.quote_sql_str("abc") == "'abc'"
    assert ngx.quote_sql_str("a'b\"c\\d\n\r\t\b\x00\x1a") == "'a\\'b\\\"c\\\\d\\n\\r\\t\\b\\0\\Z'"
    assert ngx.quote_sql_str(b"\xe4\xbd\xa0'") == b"'\xe4\xbd\xa0\\''"
    assert ngx.quote_sql_str(12) == "'12'"


# --- time -----------------------------------------------------------------------------------

def test_now_and_time():
    t = time.time()
    assert abs(ngx.now() - t) < 1
    assert ngx.now() == round(ngx.now(), 3)
    assert isinstance(ngx.time(), int) and abs(ngx.time() - t) <= 1
    assert ngx.update_time() is None


def test_http_time_and_cookie_time():
    assert ngx.http_time(1290079655) == "Thu, 18 Nov 2010 11:27:35 GMT"
    assert ngx.cookie_time(1290079655) == "Thu, 18-Nov-10 11:27:35 GMT"
    assert ngx.http_time(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert ngx.cookie_time(2 ** 31) == "Tue, 19-Jan-2038 03:14:08 GMT"
    assert ngx.cookie_time(946684800) == "Sat, 01-Jan-00 00:00:00 GMT"


def test_parse_http_time():
    assert ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT") == 1290079655
    assert ngx.parse_http_time("Thursday, 18-Nov-10 11:27:35 GMT") == 1290079655
    assert ngx.parse_http_time("Thu Nov 18 11:27:35 2010") == 1290079655
    assert ngx.parse_http_time(ngx.http_time(2000000000)) == 2000000000


@pytest.mark.parametrize("bad", ["", "yesterday", "Thu, 32 Nov 2010 11:27:35 GMT",
                                 "Thu, 18 Foo 2010 11:27:35 GMT", "Thu, 18 Nov 2010 25:27:35 GMT",
                                 "Thu, 30 Feb 2010 11:27:35 GMT"])
def test_parse_http_time_bad(bad):
    assert ngx.parse_http_time(bad) is None


def test_local_and_utc_strings():
    assert stdre.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ngx.localtime())
    assert stdre.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ngx.utctime())
    assert ngx.utctime()[:10] == time.strftime("%Y-%m-%d", time.gmtime())
    assert ngx.today() == time.strftime("%Y-%m-%d")


# --- ngx.config --------------------------------------------------------------------------------

def test_config(monkeypatch, tmp_path):
    assert ngx.config.debug is False
    assert ngx.config.subsystem == "http"
    assert isinstance(ngx.config.nginx_version, int)
    assert isinstance(ngx.config.ngx_lua_version, int)
    monkeypatch.chdir(tmp_path)
    assert ngx.config.prefix() == str(tmp_path) + "/"

    class Conf:
        prefix = "/srv/app"

    monkeypatch.setattr(runtime.worker, "main_conf", Conf())
    assert ngx.config.prefix() == "/srv/app/"


def test_dir_of_ngx_lists_every_field_and_call_it_completes():
    from cosocket import ngx
    names = set(dir(ngx))
    for name in ("say", "print", "exit", "shared", "timer", "thread", "req", "worker", "re", "sleep",
                 "semaphore", "socket", "var", "header", "status", "log", "null", "md5", "now",
                 "get_phase", "ERR", "HTTP_OK"):
        assert name in names, name
    for name in names - set(dir(object)):
        if not name.startswith("_") and name not in ("status", "header", "headers_sent", "var", "ctx"):
            getattr(ngx, name)  # every listed name resolves (request-bound fields need a request)
