"""WeasyPrint imported through engine.report.quickload: no child processes, no CA store, the
stock behaviour back afterwards, and the stock library search when the quick one fails. Each
case runs in a fresh interpreter, as only the first import of WeasyPrint goes through it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPY = r"""
import ctypes.util, http.client, json, ssl, subprocess, sys
seen = {"ca": 0, "spawn": 0}
def counting(method, key):
    def spy(*args, **kwargs):
        seen[key] += 1
        return method(*args, **kwargs)
    return spy
ssl.SSLContext.load_verify_locations = counting(ssl.SSLContext.load_verify_locations, "ca")
ssl.SSLContext.set_default_verify_paths = counting(ssl.SSLContext.set_default_verify_paths, "ca")
subprocess.Popen.__init__ = counting(subprocess.Popen.__init__, "spawn")
stock = (ctypes.util.find_library, getattr(http.client, "_create_https_context", None))
"""

REPORT = r"""
import engine.report
if len(sys.argv) > 1:  # a system whose libraries only the search finds: dlopen by name fails
    import cffi
    from engine.report import quickload
    dlopen = cffi.FFI.dlopen
    def failing(self, name, *args):
        if ctypes.util.find_library is quickload._not_found:
            raise OSError(f"cannot load {name}")
        return dlopen(self, name, *args)
    cffi.FFI.dlopen = failing
import weasyprint
imported = dict(seen)  # a default URLFetcher made later loads the CA store, as it should
pdf = weasyprint.HTML(string="<p>quick</p>").write_pdf()
restored = stock == (ctypes.util.find_library, getattr(http.client, "_create_https_context", None))
print(json.dumps({**imported, "restored": restored, "pdf": pdf[:5].decode()}))
"""


def _run(*args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", SPY + REPORT, *args], capture_output=True,
                            text=True, check=True, cwd=ROOT, timeout=300)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_weasyprint_loads_without_child_processes_or_a_ca_store() -> None:
    seen = _run()
    assert seen == {"ca": 0, "spawn": 0, "restored": True, "pdf": "%PDF-"}


def test_the_stock_library_search_runs_when_the_quick_one_finds_nothing() -> None:
    seen = _run("fail")
    assert seen["spawn"] > 0  # ldconfig and friends, as without quickload
    assert seen["restored"] and seen["pdf"] == "%PDF-"


def test_importing_weasyprint_first_is_still_the_stock_import() -> None:
    code = SPY + "import weasyprint, engine.report\nprint(json.dumps(seen))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT, timeout=300)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["spawn"] > 0  # what quickload saves
    assert seen["ca"] > 0 or sys.version_info < (3, 12)  # 3.11 builds contexts per connection


def test_type_names_built_from_the_model_are_the_types_cffi_parses() -> None:
    code = r"""
import json, engine.report, weasyprint
from weasyprint.text.ffi import ffi
from engine.report.quickload import _QuickTypes
names = ["PangoFcFontMap *", "PangoLogAttr[]", "PangoRectangle *", "char[4]", "char[]",
         "hb_codepoint_t[5039]", "hb_tag_t[100]", "unsigned int *", "void *", "const char *",
         "int", "PangoRectangle", "unsigned  int*", "int(*)(int)"]
same = {}
for name in names:
    quick = ffi.typeof(name)
    with ffi._lock:
        parsed = ffi._get_cached_btype(ffi._parser.parse_type(name))
    same[name] = quick is parsed
print(json.dumps({"quick": isinstance(ffi._parsed_types, _QuickTypes), "same": same}))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT, timeout=300)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["quick"]
    assert all(seen["same"].values()), seen["same"]


def test_the_package_still_answers_as_the_path_loader_would() -> None:
    code = ("import json, engine.report, weasyprint; from importlib.resources import files; "
            "loader = weasyprint.__spec__.loader; "
            "print(json.dumps([loader.is_package('weasyprint'), "
            "(files(weasyprint) / '__init__.py').is_file(), "
            "'quickload' in type(loader).__module__]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT, timeout=300)
    assert json.loads(result.stdout) == [True, True, True]
