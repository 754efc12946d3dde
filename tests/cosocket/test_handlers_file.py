"""content_by_python_file scripts: compiled once, run as a function; a run's top-level names do not outlive it."""
import traceback

import pytest

from cosocket.server import handlers
from cosocket.runtime import NgxExit


@pytest.fixture
def script(tmp_path):
    handlers.forget_loaded()

    def write(text: str, name: str = "h.py") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    yield write
    handlers.forget_loaded()


def test_a_script_is_compiled_once_into_a_plain_function(script):
    path = script("x = 1\n")
    run = handlers.load_file(path)
    assert run is handlers.load_file(path)
    assert run.__code__.co_filename == path and run.__code__.co_name == "<module>"


def test_top_level_names_live_for_one_run(script):
    path = script("try:\n    counter\nexcept NameError:\n    counter = 0\ncounter += 1\nRESULT.append(counter)\n")
    run = handlers.load_file(path)
    results = []
    import builtins
    builtins.RESULT = results
    try:
        run()
        run()
    finally:
        del builtins.RESULT
    assert results == [1, 1]
    assert set(run.__globals__) == {"__name__", "__file__", "__builtins__"}


def test_functions_and_classes_see_top_level_names(script):
    path = script("import builtins\nfactor = 3\n"
                  "def times(n):\n    return n * factor\n"
                  "class K:\n    value = factor + 1\n    def get(self):\n        return times(self.value)\n"
                  "builtins.OUT = (times(2), K().get(), __name__, __file__ == FILE)\n")
    import builtins
    builtins.FILE = path
    try:
        handlers.load_file(path)()
        assert builtins.OUT == (6, 12, "__cosocket_handler__", True)
    finally:
        del builtins.OUT, builtins.FILE


def test_global_statement_runs_with_exec_in_fresh_globals(script):
    path = script("import builtins\ncount = 0\ndef bump():\n    global count\n    count += 1\n"
                  "bump()\nbump()\nbuiltins.OUT.append(count)\n")
    import builtins
    builtins.OUT = []
    try:
        run = handlers.load_file(path)
        run()
        run()
        assert builtins.OUT == [2, 2]
        assert run.__code__.co_name == "run"  # the exec fallback
    finally:
        del builtins.OUT


def test_a_class_body_rebinding_a_top_level_name_keeps_module_semantics(script):
    path = script("import builtins\nx = 1\nclass A:\n    x = x + 1\nbuiltins.OUT.append((x, A.x))\n")
    import builtins
    builtins.OUT = []
    try:
        run = handlers.load_file(path)
        run()
        assert builtins.OUT == [(1, 2)]
        assert run.__code__.co_name == "run"  # the exec fallback: the class body reads x from the globals
    finally:
        del builtins.OUT


def test_ngx_exit_ends_the_run(script):
    path = script("from cosocket.runtime import NgxExit\nimport builtins\nbuiltins.OUT.append(1)\n"
                  "raise NgxExit(0)\nbuiltins.OUT.append(2)\n")
    import builtins
    builtins.OUT = []
    try:
        with pytest.raises(NgxExit):
            handlers.load_file(path)()
        assert builtins.OUT == [1]
    finally:
        del builtins.OUT


def test_tracebacks_name_the_script_line(script):
    path = script("from __future__ import annotations\n\nx = 1\n\ny = x / 0\n")
    with pytest.raises(ZeroDivisionError) as info:
        handlers.load_file(path)()
    text = handlers.format_exception(info.value)
    assert text.startswith("%s:5: ZeroDivisionError: division by zero" % path)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert (frames[-1].filename, frames[-1].lineno, frames[-1].name) == (path, 5, "<module>")


def test_syntax_errors_are_load_errors(script):
    path = script("x = 1\nreturn 5\n")
    with pytest.raises(handlers.HandlerLoadError, match="'return' outside function"):
        handlers.load_file(path)
