"""Routing and running handlers: server_name and location matching, `return`,
`content_by_python_file` and `content_by_python module:function`.

Location precedence is nginx's: an exact `=` match wins; otherwise the
longest prefix is remembered, and if it is `^~` the regexes are skipped;
regexes (`~`, `~*`) are tried in the order written; the first that matches
wins, else the longest prefix.
"""
from __future__ import annotations

import ast
import importlib
import os
import re
import sys
import traceback
from types import FunctionType
from typing import Callable, Dict, List, Optional, Tuple

from .. import concurrency, log, runtime
from . import var


# ---------------------------------------------------------------------------
# server_name

class VirtualHosts:
    """The servers listening on one address, and nginx's server_name lookup among them."""

    def __init__(self, servers: list) -> None:
        self.default = servers[0]
        self.exact: Dict[str, object] = {}
        self.front: List[Tuple[str, object]] = []  # "*.example.com" -> ".example.com"
        self.back: List[Tuple[str, object]] = []  # "example.*" -> "example."
        self.regex: List[Tuple[re.Pattern, object]] = []
        for server in servers:
            for name in server.server_names:
                name = name.lower()
                if name.startswith("~"):
                    try:
                        self.regex.append((re.compile(name[1:], re.I), server))
                    except re.error:
                        pass
                elif name.startswith("*."):
                    self.front.append((name[1:], server))
                elif name.startswith("."):
                    self.exact.setdefault(name[1:], server)
                    self.front.append((name, server))
                elif name.endswith(".*"):
                    self.back.append((name[:-1], server))
                else:
                    self.exact.setdefault(name, server)
        self.front.sort(key=lambda item: -len(item[0]))  # the longest wildcard wins
        self.back.sort(key=lambda item: -len(item[0]))

    def set_default(self, server) -> None:
        self.default = server

    def find(self, host: Optional[str]):
        """The server for `host` (lower-case, no port); the default server when none matches."""
        if not host:
            return self.default
        server = self.exact.get(host)
        if server is not None:
            return server
        for suffix, server in self.front:
            if host.endswith(suffix):
                return server
        for prefix, server in self.back:
            if host.startswith(prefix):
                return server
        for pattern, server in self.regex:
            if pattern.search(host):
                return server
        return self.default


# ---------------------------------------------------------------------------
# locations

class LocationTable:
    """A server's locations, compiled for nginx's matching order."""

    def __init__(self, locations: list) -> None:
        self.exact: Dict[str, object] = {}
        self.prefixes: List[object] = []
        self.regexes: List[Tuple[re.Pattern, object]] = []
        for loc in locations:
            if loc.modifier == "=":
                self.exact.setdefault(loc.pattern, loc)
            elif loc.modifier in ("", "^~"):
                self.prefixes.append(loc)
            elif loc.modifier in ("~", "~*"):
                flags = re.I if loc.modifier == "~*" else 0
                self.regexes.append((re.compile(loc.pattern, flags), loc))
        self.prefixes.sort(key=lambda loc: -len(loc.pattern))

    def find(self, uri: str):
        """The LocationConf for `uri`, or None."""
        loc = self.exact.get(uri)
        if loc is not None:
            return loc
        best = None
        for candidate in self.prefixes:
            if uri.startswith(candidate.pattern):
                best = candidate
                break
        if best is not None and best.modifier == "^~":
            return best
        for pattern, candidate in self.regexes:
            if pattern.search(uri):
                return candidate
        return best


# ---------------------------------------------------------------------------
# handler loading

_compiled: Dict[str, object] = {}
_functions: Dict[str, Callable] = {}
_stamps: Dict[str, object] = {}  # python_code_cache off: what each file was when last loaded


def forget_loaded() -> None:
    """Drop the caches of compiled scripts and handler functions (the master does it on reload)."""
    _compiled.clear()
    _functions.clear()
    _stamps.clear()


class HandlerLoadError(Exception):
    """A handler that cannot be loaded; the message is what the error log says."""


def apply_python_path(entries: List[str], prefix: str) -> None:
    """Put `python_path` entries ("dir/?.py", ";;" = the default) at the front of sys.path."""
    dirs = []
    for entry in entries:
        if not entry:
            continue
        d = entry
        if d.endswith("?.py"):
            d = d[:-4]
        elif d.endswith("?/__init__.py"):
            d = d[:-len("?/__init__.py")]
        d = d.rstrip("/") or "/"
        if not os.path.isabs(d):
            d = os.path.join(prefix, d)
        if d not in dirs:
            dirs.append(d)
    for d in reversed(dirs):
        if d in sys.path:
            sys.path.remove(d)
        sys.path.insert(0, d)


def load_file(path: str, cache: bool = True) -> Callable[[], None]:
    """The runner of a `content_by_python_file` script (compiled once per worker).

    The script's top level becomes the body of one function, called once per
    request: its top-level names are that call's locals (they live for one
    run, nothing leaks into the next request), a function defined in the
    script assigns them with `nonlocal` (Lua assigns an upvalue), and
    running it costs a Python call in the current C frame instead of `exec`
    with a fresh globals dict (a parked handler greenlet keeps less C
    stack).  Names a nested function declares `global` are global at the
    top level too, in a globals dict made fresh for each run.  A script
    that could tell the difference otherwise (`globals()`/`locals()`/
    `vars()`, `exec`/`eval`, star imports, top-level annotations, `await`)
    is run with `exec` in fresh globals each time instead.

    With `cache` false (`python_code_cache off;`) the file is compiled again
    whenever it changed since it was last compiled.
    """
    runner = _compiled.get(path)
    if runner is not None and (cache or _stamps.get(path) == _stamp(path)):
        return runner
    stamp = None if cache else _stamp(path)
    runner = compile_file(path)
    _compiled[path] = runner
    if stamp is not None:
        _stamps[path] = stamp
    return runner


def _stamp(path: Optional[str]):
    """What tells that a source file changed: (mtime_ns, size), or None when it cannot be read."""
    try:
        st = os.stat(path)
    except (OSError, TypeError):
        return None
    return (st.st_mtime_ns, st.st_size)


def compile_file(path: str) -> Callable[[], None]:
    """Read and compile the script at `path` into its runner (HandlerLoadError naming file and line)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        raise HandlerLoadError('failed to load external Python file "%s": cannot open %s: %s'
                               % (path, path, exc.strerror)) from None
    try:
        try:
            code = compile(source, path, "exec")
        except SyntaxError as exc:
            if not str(exc.msg).startswith("no binding for nonlocal"):
                raise
            code = None  # `nonlocal` of a top-level name: right in the function form below
        runner = _as_function(ast.parse(source, path), path)
        if runner is None:
            if code is None:
                code = compile(source, path, "exec")
            runner = _exec_runner(code, path)
    except (SyntaxError, ValueError) as exc:
        lineno = getattr(exc, "lineno", None)
        raise HandlerLoadError('failed to load external Python file "%s": %s:%s: %s: %s'
                               % (path, path, lineno, type(exc).__name__, getattr(exc, "msg", exc))) from None
    return runner


#: Names whose use lets a script see that its top level is not a module's: such scripts run with exec().
_SCOPE_NAMES = frozenset(("globals", "locals", "vars", "exec", "eval", "__builtins__", "dir"))


def _module_scope_only(tree: ast.Module) -> bool:
    """Whether running the script's body as a function would be visible to it (see load_file)."""
    nodes = list(ast.walk(tree))
    if any(isinstance(node, ast.Nonlocal) for node in nodes):
        return False  # only a function body gives `nonlocal` its binding
    classes = []
    for node in nodes:
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            return True
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return True
        if isinstance(node, ast.Name) and node.id in _SCOPE_NAMES:
            return True
        if isinstance(node, ast.ClassDef):
            classes.append(node)
    if any(isinstance(stmt, ast.AnnAssign) for stmt in tree.body):
        return True
    if classes:
        # a class body that binds a name the top level binds too reads it (`x = x`) from the globals,
        # not from the enclosing function: such a script keeps module semantics
        top = _bound_names(tree.body)
        return any(_bound_names(cls.body) & top for cls in classes)
    return False

def _bound_names(body: list) -> set:
    """The names the statements of one scope bind (not those of the scopes nested in them)."""
    names = set()
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
        stack.extend(ast.iter_child_nodes(node))
    return names


def _as_function(tree: ast.Module, path: str) -> Optional[Callable[[], None]]:
    """The script's top level compiled as the body of a function (file:line kept), or None if it cannot be.

    Raises SyntaxError when the function form does not compile (an error of the script's own).
    """
    if _module_scope_only(tree):
        return None
    declared_global = sorted({name for node in ast.walk(tree) if isinstance(node, ast.Global)
                              for name in node.names})
    body = tree.body
    future = []
    while body and isinstance(body[0], ast.ImportFrom) and body[0].module == "__future__":
        future.append(body.pop(0))  # __future__ imports must stay at the top of the module
    if not body:
        body.append(ast.Pass(lineno=1, col_offset=0, end_lineno=1, end_col_offset=0))
    first = body[0]
    if declared_global:
        # the top level binds these names where the nested functions' `global` looks for them
        body.insert(0, ast.Global(names=declared_global, lineno=first.lineno, col_offset=0))
    fn = ast.FunctionDef(name="<module>", args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                                           kw_defaults=[], kwarg=None, defaults=[]),
                         body=body, decorator_list=[], returns=None, type_comment=None,
                         lineno=first.lineno, col_offset=0,
                         end_lineno=getattr(body[-1], "end_lineno", None) or first.lineno, end_col_offset=0)
    module = ast.Module(body=future + [fn], type_ignores=[])
    ast.fix_missing_locations(module)
    try:
        code = compile(module, path, "exec")
    except ValueError:  # a tree the compiler refuses in this form: the script keeps module semantics
        return None
    scope = _fresh_globals(path)
    exec(code, scope)
    body_fn = scope.pop("<module>")
    if not declared_global:
        return body_fn
    body_code = body_fn.__code__

    def run() -> None:
        FunctionType(body_code, _fresh_globals(path))()
    return run


def _fresh_globals(path: str) -> dict:
    return {"__name__": "__cosocket_handler__", "__file__": path, "__builtins__": __builtins__}


def _exec_runner(code, path: str) -> Callable[[], None]:
    def run() -> None:
        exec(code, _fresh_globals(path))
    return run


def load_function(target: str, cache: bool = True) -> Callable:
    """The callable named by `package.module:function`.

    With `cache` false (`python_code_cache off;`) its module is reloaded
    whenever its source file changed since it was last loaded.
    """
    fn = _functions.get(target)
    module_name, _, attr = target.partition(":")
    if fn is not None:
        if cache:
            return fn
        module = sys.modules.get(module_name)
        path = getattr(module, "__file__", None)
        if _stamps.get(path) == _stamp(path):
            return fn
        del _functions[target]
    try:
        module = importlib.import_module(module_name)
        if not cache:
            path = getattr(module, "__file__", None)
            stamp = _stamp(path)
            if path in _stamps and _stamps[path] != stamp:
                module = importlib.reload(module)
            _stamps[path] = stamp
        fn = module
        for part in (attr or "main").split("."):
            fn = getattr(fn, part)
    except Exception as exc:  # the handler's import error is the user's, reported in the log
        raise HandlerLoadError('failed to load Python handler "%s": %s: %s'
                               % (target, type(exc).__name__, exc)) from None
    if not callable(fn):
        raise HandlerLoadError('failed to load Python handler "%s": not callable' % target)
    _functions[target] = fn
    return fn


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def format_exception(exc: BaseException) -> str:
    """`file.py:5: ZeroDivisionError: division by zero` + a stack traceback, as lua's runtime errors read."""
    tb = exc.__traceback__
    frames = traceback.extract_tb(tb)
    while len(frames) > 1 and frames[0].filename.startswith(_PACKAGE_DIR):
        frames = frames[1:]  # the server's own frames above the handler say nothing to its author
    where = ""
    # the innermost frame outside this package names the user's line
    for frame in reversed(frames):
        if not frame.filename.startswith(_PACKAGE_DIR):
            where = "%s:%d: " % (frame.filename, frame.lineno)
            break
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    stack = "".join(traceback.format_list(frames)).rstrip("\n")
    return "%s%s\nstack traceback:\n%s" % (where, text, stack)


def _log_in_request(request, level: int, msg: str) -> None:
    token = runtime.current_request.set(request)
    try:
        log.error(level, msg)
    finally:
        runtime.current_request.reset(token)




def _location_match(location, uri: str):
    """The regex location's match on `uri` (its captures are $1...$9 and ngx.var[n])."""
    flags = re.I if location.modifier == "~*" else 0
    return re.compile(location.pattern, flags).search(uri)


def expand_path(request, template: str) -> str:
    """A handler path with its nginx variables (`$1`, `$uri`, `${name}`) taken from `request`.

    An unset variable expands to nothing, as in nginx; a path left relative
    is relative to the prefix (the workers' working directory).
    """
    return os.path.abspath(var.expand(request, template))


def check_scripts(main_conf) -> Optional[str]:
    """Compile every `content_by_python_file` script whose path has no variable (`-t`).

    Returns the first failure as the error log words it, with the
    directive's file and line, or None when all compile.
    """
    for server in main_conf.http.servers:
        for location in server.locations:
            handler = location.handler
            if handler is None or handler.kind != "file" or "$" in handler.target:
                continue
            try:
                compile_file(handler.target)
            except HandlerLoadError as exc:
                return "%s in %s:%d" % (exc, handler.file, handler.line)
    return None


def dispatch(request, location) -> None:
    """Run the content phase for `request` in `location` and finalize the response."""
    if location is None:
        request.finalize(404)
        return
    if location.return_ is not None:
        code, text = location.return_
        if text is not None:
            text = var.expand(request, text)
        if code == 444:
            request.finalize(444)
            return
        if code in (301, 302, 303, 307, 308) and text is not None:
            request.out_headers.set("Location", text)
            request.finalize(code)
            return
        if text is not None:
            request.status = code
            request.output(text.encode("utf-8"))
            request.finalize(None)
            return
        request.finalize(code)
        return
    handler = location.handler
    if handler is None:
        request.finalize(404)
        return
    if location.modifier in ("~", "~*"):
        request.captures = _location_match(location, request.head.uri)
    try:
        if handler.kind == "file":
            target = handler.target
            if "$" in target:
                target = expand_path(request, target)
            fn = load_file(target, location.settings.python_code_cache)
        else:
            fn = load_function(handler.target, location.settings.python_code_cache)
    except HandlerLoadError as exc:
        _log_in_request(request, log.ERR, str(exc))
        request.finalize(500)
        return
    try:
        status = concurrency.run_entry(request, fn)
    except Exception as exc:  # the handler's own bug: log it, answer 500, keep serving
        _log_in_request(request, log.ERR, "lua entry thread aborted: runtime error: " + format_exception(exc))
        request.finalize_error()
        return
    request.finalize(status)
