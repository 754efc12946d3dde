"""ngx.re: PCRE options and syntax on Python's re, with lua-nginx-module's return shapes."""
import pytest

from cosocket.ngx import ngx


# --- match ---------------------------------------------------------------------------------

def test_match_readme_examples():
    assert ngx.re.match("hello, 1234", "[0-9]+") == ({0: "1234"}, None)
    assert ngx.re.match("hello, 1234", "([0-9])[0-9]+") == ({0: "1234", 1: "1"}, None)
    m, err = ngx.re.match("hello, 1234", "(?<first>[0-9])(?<second>[0-9])")
    assert err is None
    assert m == {0: "12", 1: "1", 2: "2", "first": "1", "second": "2"}


def test_match_no_match_and_unmatched_group():
    assert ngx.re.match("hello", "[0-9]+") == (None, None)
    assert ngx.re.match("hello", "(h)(x)?(e)") == ({0: "he", 1: "h", 2: False, 3: "e"}, None)
    m, _ = ngx.re.match("hello", "(?<n>x)?h")
    assert m["n"] is False


def test_match_options():
    assert ngx.re.match("HELLO", "hello", "i")[0] == {0: "HELLO"}
    assert ngx.re.match("a\nb", "^b", "m")[0] == {0: "b"}
    assert ngx.re.match("a\nb", "^b") == (None, None)
    assert ngx.re.match("a\nb", "a.b", "s")[0] == {0: "a\nb"}
    assert ngx.re.match("a\nb", "a.b") == (None, None)
    assert ngx.re.match("ab", "a  b # comment", "x")[0] == {0: "ab"}
    assert ngx.re.match("xab", "ab", "a") == (None, None)  # anchored
    assert ngx.re.match("abx", "ab", "a")[0] == {0: "ab"}
    assert ngx.re.match("héllo", r"h\wllo", "u")[0] == {0: "héllo"}
    assert ngx.re.match("héllo", r"h\wllo") == (None, None)  # no "u": ASCII classes, like PCRE without UTF
    assert ngx.re.match("ab", "ab", "jo")[0] == {0: "ab"}


def test_match_unknown_flag_raises():
    with pytest.raises(ValueError, match='unknown flag "q" \\(flags "iq"\\)'):
        ngx.re.match("a", "a", "iq")


def test_match_duplicate_names():
    m, err = ngx.re.match("hello", "(?<x>h)(?<x>z)?(?<x>e)", "D")
    assert err is None
    assert m == {0: "he", 1: "h", 2: False, 3: "e", "x": ["h", "e"]}
    m, err = ngx.re.match("hello", "(?<x>h)(?<x>e)")
    assert m is None and err.startswith("pcre_compile() failed: ")


def test_match_bad_regex_returns_error():
    m, err = ngx.re.match("abc", "(abc")
    assert m is None
    assert err.startswith("pcre_compile() failed: ") and err.endswith(' in "(abc"')


def test_match_ctx_pos_is_used_and_updated():
    ctx = {"pos": 2}
    assert ngx.re.match("1234, hello", "[0-9]+", "", ctx)[0] == {0: "234"}
    assert ctx["pos"] == 5
    ctx = {}
    assert ngx.re.match("ab ab", "ab", "", ctx)[0] == {0: "ab"}
    assert ctx["pos"] == 3
    assert ngx.re.match("ab ab", "ab", "", ctx)[0] == {0: "ab"}
    assert ctx["pos"] == 6
    assert ngx.re.match("ab ab", "ab", "", ctx) == (None, None)


def test_match_res_table_is_filled():
    res = {"old": 1}
    m, _ = ngx.re.match("hello", "(h)e", None, None, res)
    assert m is res
    assert res[0] == "he" and res[1] == "h"


def test_match_bytes_subject_gives_bytes():
    assert ngx.re.match(b"\xffab1", "([a-z]+)")[0] == {0: b"ab", 1: b"ab"}
    assert ngx.re.match(b"\xffab", b"\xff")[0] == {0: b"\xff"}


def test_match_non_string_subject_uses_tostring():
    assert ngx.re.match(1234, "[0-9]+")[0] == {0: "1234"}


def test_pcre_syntax_translated():
    assert ngx.re.match("abab", r"(?<p>ab)\k<p>")[0][0] == "abab"
    assert ngx.re.match("abab", r"(ab)\g{1}")[0][0] == "abab"
    assert ngx.re.match("abab", r"(ab)\g{-1}")[0][0] == "abab"
    assert ngx.re.match("ab\n", r"ab\z") == (None, None)
    assert ngx.re.match("ab\n", r"ab\Z")[0][0] == "ab"
    assert ngx.re.match("a\tb", r"a\hb")[0][0] == "a\tb"
    assert ngx.re.match("x9", r"[[:alpha:]][[:digit:]]")[0][0] == "x9"
    assert ngx.re.match("é", r"\x{e9}", "u")[0][0] == "é"
    assert ngx.re.match("a(b", r"a\(b")[0] == {0: "a(b"}
    assert ngx.re.match("a(b", r"a[(]b")[0] == {0: "a(b"}


# --- find --------------------------------------------------------------------------------------

def test_find():
    assert ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "jo") == (8, 11, None)
    assert ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "jo", None, 2) == (9, 11, None)
    assert ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "jo", None, 3) == (None, None, "nth out of bound")
    assert ngx.re.find("hello", "(h)(x)?", "", None, 2) == (None, None, None)
    assert ngx.re.find("hello", "[0-9]") == (None, None, None)
    assert ngx.re.find("hello", "(") [2].startswith("pcre_compile() failed")
    assert ngx.re.find("", "^$") == (1, 0, None)


def test_find_with_ctx():
    ctx = {"pos": 3}
    assert ngx.re.find("aXbXc", "X", "", ctx) == (4, 4, None)
    assert ctx["pos"] == 5


# --- gmatch --------------------------------------------------------------------------------------

def test_gmatch_iterates_with_calls_and_for():
    it, err = ngx.re.gmatch("hello, world", "([a-z])[a-z]+", "i")
    assert err is None
    assert it() == ({0: "hello", 1: "h"}, None)
    assert it() == ({0: "world", 1: "w"}, None)
    assert it() == (None, None)
    assert it() == (None, None)
    it, _ = ngx.re.gmatch("a1b22c333", r"\d+")
    assert [m[0] for m in it] == ["1", "22", "333"]


def test_gmatch_empty_matches_advance():
    it, _ = ngx.re.gmatch("ab", "x*")
    assert [m[0] for m in it] == ["", "", ""]


def test_gmatch_bad_regex():
    it, err = ngx.re.gmatch("a", "[")
    assert it is None and err.startswith("pcre_compile() failed")


# --- sub / gsub -----------------------------------------------------------------------------------

def test_sub_and_gsub_templates():
    assert ngx.re.sub("hello, 1234", "([0-9])[0-9]", "[$0][$1]") == ("hello, [12][1]34", 1, None)
    assert ngx.re.sub("hello, 1234", "[0-9]", "${0}00") == ("hello, 100234", 1, None)
    assert ngx.re.gsub("hello, world", "([a-z])[a-z]+", "[$0,$1]", "i") == ("[hello,h], [world,w]", 2, None)
    assert ngx.re.gsub("a.b", r"\.", "$$") == ("a$b", 1, None)
    assert ngx.re.gsub("ab", "(a)(x)?", "[$2$9]") == ("[]b", 1, None)
    assert ngx.re.gsub("hello", "(?<w>l+)", "<${w}>") == ("he<ll>o", 1, None)


def test_sub_no_match_returns_subject():
    assert ngx.re.sub("hello", "[0-9]", "x") == ("hello", 0, None)
    assert ngx.re.gsub("hello", "[0-9]", "x") == ("hello", 0, None)


@pytest.mark.parametrize("template", ["$", "a$", "${", "${1", "${}", "$-", "$nosuchname"])
def test_bad_template(template):
    assert ngx.re.gsub("hello", "l", template) == (None, None, "failed to compile the replacement template")


def test_gsub_function_replace():
    def repl(m):
        return "[" + m[0] + "]"

    assert ngx.re.gsub("hello, world", "[a-z]+", repl) == ("[hello], [world]", 2, None)
    assert ngx.re.sub("a1", "[0-9]", lambda m: 7) == ("a7", 1, None)
    with pytest.raises(TypeError):
        ngx.re.gsub("a", "a", lambda m: None)


def test_gsub_empty_matches_as_pcre():
    assert ngx.re.gsub("abxd", "x*", "-") == ("-a-b--d-", 5, None)
    assert ngx.re.gsub("", "x*", "-") == ("-", 1, None)


def test_gsub_anchored_matches_at_each_position():
    assert ngx.re.gsub("aab", "a", "x", "a") == ("xxb", 2, None)


def test_gsub_bytes():
    assert ngx.re.gsub(b"a\xffb", b"\xff", "-") == (b"a-b", 1, None)
    assert ngx.re.gsub(b"ab", "(a)", "$1$1") == (b"aab", 1, None)


def test_gsub_bad_regex():
    new, n, err = ngx.re.gsub("a", "(", "x")
    assert (new, n) == (None, None) and err.startswith("pcre_compile() failed")


def test_compiled_patterns_are_cached():
    from cosocket import regex
    ngx.re.match("x", "cache-me-[0-9]", "i")
    assert ("cache-me-[0-9]", "i", False) in regex._re_cache
