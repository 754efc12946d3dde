"""The type hints let mypy see the tuples the public API returns.

The scripts under tests/typing/ are written as users write them; they are
checked, never run.  `*_ok.py` must type-check cleanly with strict options,
as a user's own code would be checked, while the package itself is followed
silently, as mypy treats an installed package.  `*_misuse.py` holds
deliberate mistakes, each line marked `# E:`: mypy must report exactly the
marked lines.
"""
import re
from pathlib import Path

from mypy import api as mypy_api

from cosocket import ngx

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tests" / "typing"

# Lua-style scripts reuse `err` for slots of different types (a close code shares recv_frame's);
# allow_redefinition_new lets a name take each call's type, as a porter would configure mypy.
USER_CONFIG = """\
[mypy]
strict = True
warn_unreachable = True
allow_redefinition_new = True
local_partial_types = True
mypy_path = {root}
[mypy-cosocket.*,websocket.*]
follow_imports = silent
[mypy-gevent.*,greenlet.*]
ignore_missing_imports = True
"""

_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<text>.*)$")


def _mypy(tmp_path, paths):
    """Run mypy as a user of the installed packages would; -> (exit status, {(file name, line): [texts]})."""
    config = tmp_path / "mypy.ini"
    config.write_text(USER_CONFIG.format(root=ROOT))
    out, err, status = mypy_api.run(["--config-file", str(config), "--cache-dir", str(tmp_path / "cache"),
                                     "--no-error-summary", "--show-absolute-path"] + [str(p) for p in paths])
    errors = {}
    for line in out.splitlines():
        m = _ERROR.match(line)
        if m:
            errors.setdefault((Path(m["path"]).name, int(m["line"])), []).append(m["text"])
    return status, errors, out + err


def _marked_lines(path):
    return {i for i, text in enumerate(path.read_text().splitlines(), 1) if "# E:" in text}


def test_user_scripts_type_check_cleanly(tmp_path):
    scripts = sorted(SCRIPTS.glob("*_ok.py"))
    assert scripts
    status, errors, output = _mypy(tmp_path, scripts)
    assert errors == {}, output
    assert status == 0, output


def test_misuses_are_reported_on_the_marked_lines(tmp_path):
    scripts = sorted(SCRIPTS.glob("*_misuse.py"))
    assert scripts
    status, errors, output = _mypy(tmp_path, scripts)
    assert status == 1, output
    for script in scripts:
        marked = _marked_lines(script)
        assert marked, script
        reported = {line for (name, line) in errors if name == script.name}
        assert reported == marked, output
    assert {name for name, _ in errors} <= {s.name for s in scripts}, output


def test_packages_type_check(tmp_path):
    """mypy (not strict) over cosocket and websocket, with the configuration in pyproject.toml."""
    out, err, status = mypy_api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                     "--cache-dir", str(tmp_path / "cache"),
                                     str(ROOT / "cosocket"), str(ROOT / "websocket")])
    assert status == 0, out + err


def test_every_lazy_ngx_field_is_declared_for_type_checkers():
    """cosocket/ngx.py declares, under TYPE_CHECKING, the type of every field its __getattr__ loads."""
    import ast

    tree = ast.parse((ROOT / "cosocket" / "ngx.py").read_text())
    cls = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "_Ngx")
    block = next(node for node in cls.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    declared = set()
    for stmt in block.body:
        if isinstance(stmt, ast.AnnAssign):
            declared.add(stmt.target.id)
        elif isinstance(stmt, ast.Assign):
            declared.update(target.id for target in stmt.targets)
    # what dir(ngx) lists beyond the class's own constants and calls: the lazily imported fields
    lazy = {name for name in dir(ngx) if not name.startswith("_") and name not in vars(type(ngx))}
    assert "say" in lazy and "socket" in lazy
    assert declared == lazy
