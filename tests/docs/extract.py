"""The code blocks of the documentation and the doc-test markers before them.

A Markdown file is read as a sequence of fenced blocks; the HTML comment
`<!-- doc-test: ... -->` on the line just before a fence (blank lines
between are allowed) says what the block is for:

    <!-- doc-test: handler /path[?query] [options] -->     a content_by_python_file script
    <!-- doc-test: lua-handler /path [websocket] -->        (a Lua block) the same on nginx + lua-nginx-module
    <!-- doc-test: run -->                                  a program run on its own
    <!-- doc-test: module NAME -->                          NAME.py on the test server's python_path
    <!-- doc-test: http-conf -->                            (an nginx block) directives for the http block
    <!-- doc-test: output -->                               (a text block) what the block before prints
    <!-- doc-test: skip (reason) -->                        not runnable on its own: compiled only

docs/reference/README.md describes the convention for readers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
_MARK = re.compile(r"^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$")
KINDS = ("handler", "lua-handler", "run", "module", "http-conf", "output", "skip")


@dataclass
class Block:
    """One fenced block: where it is, its language, its text and its marker (kind + arguments)."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    kind: Optional[str] = None
    args: List[str] = field(default_factory=list)
    output: Optional[str] = None  # the text of an `output` block that follows

    @property
    def where(self) -> str:
        return "%s:%d" % (self.path.relative_to(ROOT), self.line)


def doc_files() -> List[Path]:
    """README.md and every Markdown file under docs/, in a stable order."""
    return [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))


def parse(path: Path) -> List[Block]:
    """The fenced blocks of `path` with their markers; `output` blocks are attached to the block before."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: List[Block] = []
    mark: Optional[str] = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _MARK.match(line)
        if m:
            mark = m.group(1)
            i += 1
            continue
        f = _FENCE.match(line)
        if not f:
            if line.strip():
                mark = None  # a marker applies only to the fence right after it
            i += 1
            continue
        indent, fence, lang = f.groups()
        start = i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        block = Block(path, start, lang.lower(), "\n".join(body) + "\n")
        if mark is not None:
            words = mark.split(None, 1)
            block.kind = words[0]
            rest = words[1] if len(words) > 1 else ""
            block.args = [rest] if block.kind == "skip" else rest.split()
            if block.kind not in KINDS:
                raise ValueError("%s: unknown doc-test marker %r" % (block.where, mark))
        mark = None
        if block.kind == "output":
            if not blocks:
                raise ValueError("%s: output block with no block before it" % block.where)
            blocks[-1].output = block.text
            continue
        blocks.append(block)
    return blocks


def all_blocks() -> List[Block]:
    """Every fenced block of the documentation."""
    out: List[Block] = []
    for path in doc_files():
        out.extend(parse(path))
    return out
