"""`ngx.re`: lua-nginx-module's regex API (match, find, gmatch, sub, gsub) on Python's `re`."""
from __future__ import annotations

import re as _re
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Union

from .text import lua_number
from .types import Captures, Subject

__all__ = ["re", "re_match", "re_find", "re_gmatch", "re_sub", "re_gsub", "GmatchIterator"]


# --- ngx.re -----------------------------------------------------------------------------
#
# PCRE patterns and options translated to Python's `re`, compiled once and cached
# (options "o" and "j" are therefore no-ops).  Positions are 1-based like Lua's:
# byte offsets for a bytes subject, character offsets for a str subject.

_RE_FLAGS = {"i": _re.IGNORECASE, "m": _re.MULTILINE, "s": _re.DOTALL, "x": _re.VERBOSE}
_RE_NOOP = frozenset("ojdJ")  # o/j: always cached; d (DFA) and J (JavaScript compat): no Python counterpart
_RE_CACHE_MAX = 1024  # lua_regex_cache_max_entries
_re_cache: dict = {}
_template_cache: dict = {}

_POSIX_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r"\s", "xdigit": "0-9A-Fa-f", "word": r"\w", "blank": r" \t", "cntrl": r"\x00-\x1f\x7f",
    "punct": r"!-/:-@\[-`{-~", "print": r" -~", "graph": r"!-~",
}

_PCRE_TOKEN = _re.compile(r"""
    \\k(?:<(?P<kref>\w+)>|\{(?P<kref2>\w+)\}|'(?P<kref3>\w+)')
  | \\g(?:\{(?P<gref>-?\d+)\}|(?P<gref2>-?\d+))
  | \\x\{(?P<hex>[0-9A-Fa-f]+)\}
  | \\(?P<esc>.)
  | (?P<cls>\[\^?\]?(?:\\.|\[:\w+:\]|[^\]\\])*\])
  | \(\?(?:P?<(?P<name>\w+)>|'(?P<name2>\w+)')
  | (?P<open>\((?![?*]))
""", _re.VERBOSE | _re.DOTALL)

_PCRE_ESCAPES = {"z": r"\Z", "Z": r"(?=\n?\Z)", "h": r"[ \t]", "e": r"\x1b"}


class _Regex:
    """A translated, compiled pattern and what ngx.re needs to know about its groups."""

    __slots__ = ("pattern", "names", "ngroups", "anchored", "dupnames", "is_bytes")

    def __init__(self, pattern, names, anchored: bool, dupnames: bool, is_bytes: bool):
        self.pattern = pattern
        self.names = names  # [(name, group number)] in pattern order, duplicates included
        self.ngroups = pattern.groups
        self.anchored = anchored
        self.dupnames = dupnames
        self.is_bytes = is_bytes

    def exec(self, subject, pos: int):
        if pos > len(subject):
            return None
        if self.anchored:
            return self.pattern.match(subject, pos)
        return self.pattern.search(subject, pos)


def _translate(regex: str, dupnames: bool, is_bytes: bool):
    """PCRE syntax -> Python `re` syntax; returns (pattern text, [(name, group number)])."""
    names = []
    seen = set()
    ngroups = 0

    def repl(m) -> str:
        nonlocal ngroups
        kind = m.lastgroup
        if kind == "open":
            ngroups += 1
            return "("
        if kind in ("name", "name2"):
            ngroups += 1
            name = m.group(kind)
            names.append((name, ngroups))
            if name in seen and dupnames:
                return "(?P<_dup%d_%s>" % (ngroups, name)
            seen.add(name)
            return "(?P<%s>" % name
        if kind in ("kref", "kref2", "kref3"):
            return "(?P=%s)" % m.group(kind)
        if kind in ("gref", "gref2"):
            n = int(m.group(kind))
            return "(?:\\%d)" % (ngroups + 1 + n if n < 0 else n)
        if kind == "hex":
            code = int(m.group("hex"), 16)
            if is_bytes or code < 0x100:
                return "\\x%02x" % code if code < 0x100 else m.group()
            return "\\U%08x" % code
        if kind == "esc":
            return _PCRE_ESCAPES.get(m.group("esc"), m.group())
        # a character class: POSIX names inside it become ranges
        return _re.sub(r"\[:(\w+):\]", lambda c: _POSIX_CLASSES.get(c.group(1), c.group()), m.group())

    return _PCRE_TOKEN.sub(repl, regex), names


def _regex_options(opts):
    if opts is None:
        opts = ""
    elif isinstance(opts, bytes):
        opts = opts.decode("latin-1")
    elif not isinstance(opts, str):
        raise TypeError("bad argument #3 (string expected, got %s)" % type(opts).__name__)
    flags = 0
    anchored = dupnames = unicode = False
    for ch in opts:
        if ch in _RE_FLAGS:
            flags |= _RE_FLAGS[ch]
        elif ch in "uU":
            unicode = True
        elif ch == "a":
            anchored = True
        elif ch == "D":
            dupnames = True
        elif ch not in _RE_NOOP:
            raise ValueError('unknown flag "%s" (flags "%s")' % (ch, opts))
    return flags, anchored, dupnames, unicode


def _compile(regex, opts, is_bytes: bool):
    """The cached `_Regex` for `regex` / `opts` on a str or bytes subject -> (compiled, err)."""
    key = (regex, opts, is_bytes)
    hit = _re_cache.get(key)
    if hit is not None:
        return hit, None
    if isinstance(regex, (bytes, bytearray)):
        source = bytes(regex).decode("latin-1") if is_bytes else bytes(regex).decode("utf-8", "replace")
    elif isinstance(regex, str):
        source = regex.encode("utf-8").decode("latin-1") if is_bytes else regex
    else:
        raise TypeError("bad argument #2 (string expected, got %s)"
                        % ("nil" if regex is None else type(regex).__name__))
    flags, anchored, dupnames, unicode = _regex_options(opts)
    text, names = _translate(source, dupnames, is_bytes)
    if is_bytes:
        pattern_src = text.encode("latin-1", "replace")
    else:
        pattern_src = text
        if not unicode:
            flags |= _re.ASCII
    try:
        pattern = _re.compile(pattern_src, flags)
    except (_re.error, OverflowError, ValueError) as e:
        msg = e.msg if isinstance(e, _re.error) else str(e)
        shown = regex.decode("latin-1") if isinstance(regex, (bytes, bytearray)) else regex
        return None, 'pcre_compile() failed: %s in "%s"' % (msg, shown)
    compiled = _Regex(pattern, names, anchored, dupnames, is_bytes)
    if len(_re_cache) < _RE_CACHE_MAX:
        _re_cache[key] = compiled
    return compiled, None


def _subject(subject):
    """Lua's tostring(subject) for ngx.re: str and bytes as they are."""
    if isinstance(subject, (str, bytes)):
        return subject
    if isinstance(subject, (bytearray, memoryview)):
        return bytes(subject)
    from .text import lua_tostring
    return lua_tostring(subject)


def _captures(rx: _Regex, m, res: Optional[dict] = None) -> dict:
    caps = {} if res is None else res
    groups = m.groups()
    caps[0] = m.group(0)
    for i, value in enumerate(groups, 1):
        caps[i] = False if value is None else value
    if rx.names:
        if rx.dupnames:
            for name, _ in rx.names:
                caps.pop(name, None)
            for name, idx in rx.names:
                value = caps[idx]
                if value is not False:  # unmatched captures are not collected
                    caps.setdefault(name, []).append(value)
        else:
            for name, idx in rx.names:
                caps[name] = caps[idx]
    return caps


def _ctx_start(ctx) -> int:
    if ctx is None:
        return 0
    pos = ctx.get("pos")
    if not pos or pos <= 0:
        return 0
    return int(pos) - 1


def re_match(subject: Subject, regex: Union[str, bytes], options: Optional[str] = None,
             ctx: Optional[Dict[str, Any]] = None,
             res_table: Optional[Dict[Any, Any]] = None) -> Tuple[Optional[Captures], Optional[str]]:
    """`ngx.re.match(subject, regex, options?, ctx?, res_table?)` -> `(captures, err)`.

    `captures` is a dict: 0 for the whole match, 1.. for the groups (False
    when a group did not take part), names for named groups (with "D": a
    list of the matched values).  No match: `(None, None)`.  `ctx["pos"]`
    (1-based) sets where to start and is moved past the match.
    """
    subj = _subject(subject)
    rx, err = _compile(regex, options, isinstance(subj, bytes))
    if rx is None:
        return None, err
    m = rx.exec(subj, _ctx_start(ctx))
    if m is None:
        return None, None
    if ctx is not None:
        ctx["pos"] = m.end() + 1
    return _captures(rx, m, res_table), None


def re_find(subject: Subject, regex: Union[str, bytes], options: Optional[str] = None,
            ctx: Optional[Dict[str, Any]] = None,
            nth: int = 0) -> Tuple[Optional[int], Optional[int], Optional[str]]:
    """`ngx.re.find(subject, regex, options?, ctx?, nth?)` -> `(from, to, err)`, 1-based and inclusive.

    `nth` picks a capture group instead of the whole match.
    """
    subj = _subject(subject)
    rx, err = _compile(regex, options, isinstance(subj, bytes))
    if rx is None:
        return None, None, err
    m = rx.exec(subj, _ctx_start(ctx))
    if m is None:
        return None, None, None
    if ctx is not None:
        ctx["pos"] = m.end() + 1
    if not nth or nth < 0:
        nth = 0
    if nth > rx.ngroups:
        return None, None, "nth out of bound"
    start, end = m.span(nth)
    if start < 0:
        return None, None, None
    return start + 1, end, None


class GmatchIterator:
    """`ngx.re.gmatch`'s iterator: call it for `(captures, err)` (`(None, None)` at the end) or loop over it."""

    __slots__ = ("_rx", "_subject", "_pos")

    def __init__(self, rx: _Regex, subject):
        self._rx = rx
        self._subject = subject
        self._pos: Optional[int] = 0

    def __call__(self) -> Tuple[Optional[Captures], Optional[str]]:
        pos = self._pos
        if pos is None:
            return None, None
        m = self._rx.exec(self._subject, pos)
        if m is None:
            self._pos = None
            return None, None
        start, end = m.span()
        if end == start:
            end += 1
            if end > len(self._subject):
                self._pos = None
        if self._pos is not None:
            self._pos = end
        return _captures(self._rx, m), None

    def __iter__(self) -> GmatchIterator:
        return self

    def __next__(self) -> Captures:
        caps, _ = self()
        if caps is None:
            raise StopIteration
        return caps


def re_gmatch(subject: Subject, regex: Union[str, bytes],
              options: Optional[str] = None) -> Tuple[Optional[GmatchIterator], Optional[str]]:
    """`ngx.re.gmatch(subject, regex, options?)` -> `(iterator, err)`."""
    subj = _subject(subject)
    rx, err = _compile(regex, options, isinstance(subj, bytes))
    if rx is None:
        return None, err
    return GmatchIterator(rx, subj), None


_TEMPLATE_VAR = _re.compile(r"\$(?:(\$)|(\d+)|\{(\d+)\}|\{(\w+)\}|(\w+)|)")


def _compile_template(template: str, rx: _Regex):
    """nginx's `$0 $1 ${1} $$` replacement syntax (plus `${name}`) -> a list of str / group refs, or None."""
    key = (template, rx)
    parts = _template_cache.get(key)
    if parts is not None:
        return parts
    parts = []
    last = 0
    names: dict = {}
    for name, idx in rx.names:
        names.setdefault(name, []).append(idx)
    for m in _TEMPLATE_VAR.finditer(template):
        if m.start() > last:
            parts.append(template[last:m.start()])
        last = m.end()
        dollar, num, bnum, bname, name = m.groups()
        if dollar:
            parts.append("$")
        elif num or bnum:
            parts.append(int(num or bnum))
        elif (bname or name) in names:
            parts.append(tuple(names[bname or name]))
        else:
            return None  # "$" at the end, "${", "${}", "$-", an unknown name
    if last < len(template):
        parts.append(template[last:])
    if len(_template_cache) < _RE_CACHE_MAX:
        _template_cache[key] = parts
    return parts


def _expand(parts, m, empty):
    out = []
    for p in parts:
        if isinstance(p, int):
            value = m.group(p) if p <= m.re.groups else None
            out.append(value if value is not None else empty)
        elif isinstance(p, tuple):  # a name: the first of its groups that matched
            out.append(next((m.group(i) for i in p if m.group(i) is not None), empty))
        else:
            out.append(p)
    return empty.join(out)


def _same_type(value, is_bytes: bool, fname: str):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value) if is_bytes else bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value.encode("utf-8") if is_bytes else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = lua_number(value)
        return text.encode() if is_bytes else text
    raise TypeError("bad argument #3 to '%s' (string expected, got %s)"
                    % (fname, "nil" if value is None else type(value).__name__))


def _substitute(subject: Any, regex: Any, replace: Any, options: Optional[str],
                global_: bool) -> Tuple[Union[str, bytes, None], Optional[int], Optional[str]]:
    fname = "gsub" if global_ else "sub"
    subj = _subject(subject)
    is_bytes = isinstance(subj, bytes)
    rx, err = _compile(regex, options, is_bytes)
    if rx is None:
        return None, None, err
    empty = b"" if is_bytes else ""
    func = replace if callable(replace) else None
    parts = None
    if func is None:
        template = _same_type(replace, False, fname) if not isinstance(replace, str) else replace
        if is_bytes and isinstance(replace, (bytes, bytearray)):
            template = bytes(replace).decode("latin-1")
        parts = _compile_template(template, rx)
        if parts is None:
            return None, None, "failed to compile the replacement template"
        if is_bytes:
            parts = [p.encode("latin-1") if isinstance(p, str) else p for p in parts]
    out = []
    count = 0
    pos = cp = 0
    n = len(subj)
    while True:
        m = rx.exec(subj, pos)
        if m is None:
            break
        count += 1
        start, end = m.span()
        out.append(subj[cp:start])
        if func is not None:
            out.append(_same_type(func(_captures(rx, m)), is_bytes, fname))
        else:
            out.append(_expand(parts, m, empty))
        cp = pos = end
        if end == start:
            pos += 1
            if pos > n:
                break
        if not global_:
            break
    if count == 0:
        return subj, 0, None
    out.append(subj[cp:])
    return empty.join(out), count, None


def re_sub(subject: Subject, regex: Union[str, bytes],
           replace: Union[str, bytes, Callable[[Captures], Any]],
           options: Optional[str] = None) -> Tuple[Union[str, bytes, None], Optional[int], Optional[str]]:
    """`ngx.re.sub(subject, regex, replace, options?)` -> `(new, n, err)`: the first match replaced.

    `replace` is a template (`$0`, `$1`, `${1}`, `${name}`, `$$`) or a
    function taking the captures dict and returning the replacement.
    """
    return _substitute(subject, regex, replace, options, False)


def re_gsub(subject: Subject, regex: Union[str, bytes],
            replace: Union[str, bytes, Callable[[Captures], Any]],
            options: Optional[str] = None) -> Tuple[Union[str, bytes, None], Optional[int], Optional[str]]:
    """`ngx.re.gsub(subject, regex, replace, options?)` -> `(new, n, err)`: every match replaced."""
    return _substitute(subject, regex, replace, options, True)


if TYPE_CHECKING:
    class _ReAPI:
        match = staticmethod(re_match)
        find = staticmethod(re_find)
        gmatch = staticmethod(re_gmatch)
        sub = staticmethod(re_sub)
        gsub = staticmethod(re_gsub)
    re: _ReAPI
else:
    re = SimpleNamespace(match=re_match, find=re_find, gmatch=re_gmatch, sub=re_sub, gsub=re_gsub)
