"""Builds the optional C extension `websocket._speedups`; everything else is in pyproject.toml.

The extension holds C twins of `websocket.frames.apply_mask` and
`websocket.frames.parse`; without a C compiler (or if the build fails for any
reason) installation still succeeds and `websocket.frames` uses its
pure-Python functions.  Set COSOCKET_NO_EXT=1 to skip the build.
"""
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class optional_build_ext(build_ext):
    """build_ext that warns instead of failing: the extension is an optimisation, not a requirement."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers, ...: all mean "pure Python"
            self._skip(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._skip(exc)

    @staticmethod
    def _skip(exc):
        sys.stderr.write("warning: websocket._speedups not built (%s); using pure Python\n" % exc)


extensions = []
if not os.environ.get("COSOCKET_NO_EXT") and sys.implementation.name == "cpython":
    extensions.append(Extension("websocket._speedups", ["websocket/_speedups.c"], optional=True))

setup(ext_modules=extensions, cmdclass={"build_ext": optional_build_ext})
