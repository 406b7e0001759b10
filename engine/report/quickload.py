"""WeasyPrint in a fresh process without three avoidable costs (issue 15).

1. Library lookup. weasyprint.text.ffi tries several names per library ("libgobject-2.0-0",
   "gobject-2.0-0", "gobject-2.0", then "libgobject-2.0.so.0"); cffi hands every name that
   dlopen cannot load to ctypes.util.find_library, which on Linux runs ldconfig, gcc and ld
   for it: about 50 child processes, most of a second of wall time on a busy machine, before
   the name WeasyPrint lists for Linux loads directly. While WeasyPrint is imported, the lookup
   answers "not found" at once, so dlopen reaches those names; should the import fail for it
   (a system whose libraries only the search finds), it runs again with the stock lookup.
2. Certificate store. Importing weasyprint.html parses the user-agent stylesheets, each with a
   default URLFetcher whose HTTPS handler loads the system's CA store (three times, 7 % of a
   cold render's instructions). Those stylesheets fetch nothing; while WeasyPrint is imported,
   a handler made without a context gets one trusting no certificate, as SafeFetcher does.
3. C type names. WeasyPrint names C types as strings (`ffi.new("hb_codepoint_t[5039]")`), and
   cffi parses each new one with pycparser after declaring every typedef of WeasyPrint's
   cdef again: 18 parses in a typical report, 3 to 4 % of its render. A pointer to, or an
   array of, a declared type or a C primitive is built from cffi's own model instead (the
   same type object cffi's parser gives); anything else still goes to the parser.

The first two patches hold only for the duration of `import weasyprint` (under the import
lock; a thread calling find_library, or printing, meanwhile would get no answer, or be
silenced) and are undone after it.
install() puts the finder first on sys.meta_path, where it stays until WeasyPrint is imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import re
import ssl
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from functools import cache
from types import ModuleType
from typing import Any

PACKAGE = "weasyprint"


@cache
def untrusting_context() -> ssl.SSLContext:
    """A TLS context trusting no certificate, for HTTPS handlers that are made but never used
    (urllib's default loads the system's CA store, 0.05 s each time). Were one ever used, every
    HTTPS connection would fail verification."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _not_found(name: str) -> None:
    """ctypes.util.find_library while WeasyPrint loads: no child processes, no answer."""
    return None


@contextmanager
def _quick_imports(stock_lookup: bool = False) -> Iterator[None]:
    """The two patches of the module docstring, undone on the way out."""
    import ctypes.util
    import http.client

    find_library = ctypes.util.find_library
    # Python 3.12 and later build the context when the handler is made (3.11 per connection)
    https_context = getattr(http.client, "_create_https_context", None)

    def no_ca_store(http_version: Any) -> ssl.SSLContext:
        return untrusting_context()

    if not stock_lookup:
        ctypes.util.find_library = _not_found
    if https_context is not None:
        http.client._create_https_context = no_ca_store  # type: ignore[attr-defined]
    try:
        yield
    finally:
        ctypes.util.find_library = find_library
        if https_context is not None:
            http.client._create_https_context = https_context  # type: ignore[attr-defined]


_POINTER_OR_ARRAY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*(?:(\*)|\[([0-9]*)\])\s*")


class _QuickTypes(dict):  # type: ignore[type-arg]  # cffi's private cache of parsed types
    """cffi's cache of parsed type names, which fills itself for `T *`, `T[]` and `T[n]`."""

    def __init__(self, ffi: Any, parsed: dict) -> None:  # type: ignore[type-arg]
        super().__init__(parsed)
        self.ffi = ffi

    def __missing__(self, name: Any) -> tuple[Any, bool]:
        from cffi import model

        match = _POINTER_OR_ARRAY.fullmatch(name) if isinstance(name, str) else None
        if match is None:
            raise KeyError(name)
        base_name, pointer, length = match.groups()
        declared = self.ffi._parser._declarations.get("typedef " + base_name)
        if declared is not None:
            base = declared[0]
        elif base_name in model.PrimitiveType.ALL_PRIMITIVE_TYPES:
            base = model.PrimitiveType(base_name)
        else:
            raise KeyError(name)
        kind = (model.PointerType(base) if pointer else
                model.ArrayType(base, int(length) if length else None))
        with self.ffi._lock:
            result = self[name] = (self.ffi._get_cached_btype(kind), False)
        return result


def _quick_type_names() -> None:
    """Give WeasyPrint's FFI a _QuickTypes cache, if this cffi keeps one where we expect."""
    ffi = getattr(sys.modules.get(PACKAGE + ".text.ffi"), "ffi", None)
    parsed = getattr(ffi, "_parsed_types", None)
    if isinstance(parsed, dict) and hasattr(ffi, "_parser") and hasattr(ffi, "_lock"):
        ffi._parsed_types = _QuickTypes(ffi, parsed)  # type: ignore[union-attr]


class _Loader(importlib.abc.Loader):
    """WeasyPrint's own loader, run inside _quick_imports."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def __getattr__(self, name: str) -> Any:
        """The rest (get_resource_reader, is_package, get_source...) is the path loader's."""
        return getattr(self.loader, name)

    def exec_module(self, module: ModuleType) -> None:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]
        try:
            # WeasyPrint prints an installation hint before a failed dlopen: not ours to show
            with _quick_imports(), redirect_stdout(io.StringIO()):
                self.loader.exec_module(module)
        except OSError:
            for name in [name for name in sys.modules if name.startswith(PACKAGE + ".")]:
                del sys.modules[name]
            with _quick_imports(stock_lookup=True):
                self.loader.exec_module(module)
        _quick_type_names()


class _Finder(importlib.abc.MetaPathFinder):
    """Finds `weasyprint` as the path finder would and wraps its loader; nothing else."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Make the next `import weasyprint` the quick one (idempotent, cheap)."""
    if PACKAGE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
