"""The nginx configuration syntax: words, quotes, escapes and blocks; size and time values; `ConfError`.

`Lexer` follows nginx's `ngx_conf_read_token` rule for rule (quotes,
backslash escapes, `#` comments only at the start of a word, `${var}`), and
errors read as `nginx -t` prints them: `unknown directive "foo" in
/p/conf/nginx.conf:12`.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple


class ConfError(Exception):
    """A configuration error; `str()` is nginx's text, with `in file:line` or `in command line`."""

    def __init__(self, msg: str, file: Optional[str] = None, line: int = 0, where: bool = True):
        self.msg = msg
        self.file = file  # None: the -g string
        self.line = line
        if not where:
            text = msg
        elif file is None:
            text = "%s in command line" % msg
        else:
            text = "%s in %s:%d" % (msg, file, line)
        super().__init__(text)


# --------------------------------------------------------------------------- units

_TIME_UNITS = (("y", 365 * 86400000), ("M", 30 * 86400000), ("w", 7 * 86400000), ("d", 86400000),
               ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1))
_TIME_PART = re.compile(r"(\d{1,18})(ms|[yMwdhms]?) *", re.ASCII)


def parse_time(text: str) -> int:
    """nginx time -> milliseconds: `10s`, `500ms`, `1m`, `1h 30m`; a bare number is seconds.

    Raises ValueError.  Units must come in decreasing order and once each, as in ngx_parse_time.
    """
    if not text or text != text.strip():
        raise ValueError(text)
    total, pos, last = 0, 0, -1
    order = [unit for unit, _ in _TIME_UNITS]
    while pos < len(text):
        m = _TIME_PART.match(text, pos)
        if m is None:
            raise ValueError(text)
        unit = m.group(2) or "s"
        rank = order.index(unit)
        if rank <= last:
            raise ValueError(text)
        last = rank
        total += int(m.group(1)) * dict(_TIME_UNITS)[unit]
        pos = m.end()
        if not m.group(2) and pos < len(text):  # a bare number must be the last part
            raise ValueError(text)
    return total


_SIZE = re.compile(r"(\d{1,18})([kKmMgG]?)\Z", re.ASCII)
_SIZE_SCALE = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def parse_size(text: str, allow_g: bool = True) -> int:
    """nginx size -> bytes: `8k`, `1m`, `1g`, bare bytes.  Raises ValueError."""
    m = _SIZE.match(text)
    if m is None or (m.group(2).lower() == "g" and not allow_g):
        raise ValueError(text)
    return int(m.group(1)) * _SIZE_SCALE[m.group(2).lower()]


# --------------------------------------------------------------------------- lexer

OK, BLOCK_START, BLOCK_DONE, FILE_DONE = "ok", "block", "}", "eof"
_SPACE = " \t\r\n"
_UNESCAPE = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


class Lexer:
    """Splits one file (or the -g string, `name` None) into directives, as ngx_conf_read_token."""

    def __init__(self, text: str, name: Optional[str]):
        self.text = text
        self.name = name
        self.pos = 0
        self.line = 1

    def error(self, msg: str) -> ConfError:
        return ConfError(msg, self.name, self.line)

    def next(self) -> Tuple[List[str], str]:
        """The next directive's words and how it ended: `;`, `{`, `}` or end of input."""
        text, n = self.text, len(self.text)
        args: List[str] = []
        pos = self.pos
        while True:
            # between words
            while pos < n and text[pos] in _SPACE:
                if text[pos] == "\n":
                    self.line += 1
                pos += 1
            if pos >= n:
                self.pos = pos
                if args:
                    if self.name is None:
                        raise self.error('unexpected end of parameter, expecting ";"')
                    raise self.error('unexpected end of file, expecting ";" or "}"')
                return args, FILE_DONE
            ch = text[pos]
            if ch in ";{":
                self.pos = pos + 1
                if not args:
                    raise self.error('unexpected "%s"' % ch)
                return args, (OK if ch == ";" else BLOCK_START)
            if ch == "}":
                self.pos = pos + 1
                if args:
                    raise self.error('unexpected "}"')
                return args, BLOCK_DONE
            if ch == "#":
                end = text.find("\n", pos)
                pos = n if end < 0 else end
                continue
            if ch in "\"'":
                word, pos = self._quoted(pos)
                args.append(word)
                # a closing quote must be followed by a space, ";" or "{"
                if pos >= n:
                    continue
                ch = text[pos]
                if ch in ";{":
                    self.pos = pos + 1
                    return args, (OK if ch == ";" else BLOCK_START)
                if ch != ")" and ch not in _SPACE:  # ")" starts the next word, as in nginx
                    raise self.error('unexpected "%s"' % ch)
                continue
            word, pos, end = self._bare(pos)
            args.append(word)
            if end and end in ";{":
                self.pos = pos
                return args, (OK if end == ";" else BLOCK_START)

    def _quoted(self, pos: int) -> Tuple[str, int]:
        """A quoted word starting at `pos` (the quote); returns (word, position after the closing quote)."""
        text, n, quote = self.text, len(self.text), self.text[pos]
        start = pos = pos + 1
        while True:
            if pos >= n:
                self.pos = pos
                raise self.error('unexpected end of file, expecting ";" or "}"'
                                 if self.name is not None else 'unexpected end of parameter, expecting ";"')
            ch = text[pos]
            if ch == "\n":
                self.line += 1
            if ch == "\\":
                if pos + 1 < n and text[pos + 1] == "\n":
                    self.line += 1
                pos += 2
                continue
            if ch == quote:
                return unescape(text[start:pos]), pos + 1
            pos += 1

    def _bare(self, pos: int) -> Tuple[str, int, str]:
        """An unquoted word; returns (word, position after its terminator, terminator or "")."""
        text, n = self.text, len(self.text)
        start = pos
        variable = False
        while pos < n:
            ch = text[pos]
            if ch == "\\":
                if pos + 1 < n and text[pos + 1] == "\n":
                    self.line += 1
                pos += 2
                variable = False
                continue
            if ch == "{" and variable:
                pos += 1
                variable = False
                continue
            variable = ch == "$"
            if ch in _SPACE or ch in ";{":
                if ch == "\n":
                    self.line += 1
                return unescape(text[start:pos]), pos + 1, ch
            pos += 1
        return unescape(text[start:min(pos, n)]), n, ""


def unescape(raw: str) -> str:
    """A word's backslash escapes resolved as nginx does."""
    if "\\" not in raw:
        return raw
    out = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\" and i + 1 < n and raw[i + 1] in _UNESCAPE:
            out.append(_UNESCAPE[raw[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
