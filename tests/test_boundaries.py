"""Module boundaries, read from the source (never grep): the library does not import the CLI,
and the web form uses only the public names of the shared questionnaire fields."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every `from M import name` and ("M", "") for `import M`, including
    imports inside functions."""
    out: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, "") for alias in node.names]
    return out


def modules(*, outside: str = "") -> list[Path]:
    found = sorted(ENGINE.rglob("*.py"))
    assert len(found) > 40  # the engine is there: an empty walk must not pass
    return [p for p in found if not outside or outside not in p.relative_to(ENGINE).parts]


def test_only_the_cli_and_the_entry_point_import_the_cli() -> None:
    offenders = [f"{p.relative_to(ENGINE)}: {module}"
                 for p in modules(outside="cli") if p.name != "__main__.py"
                 for module, name in imports(p)
                 if module == "engine.cli" or module.startswith("engine.cli.")
                 or (module == "engine" and name == "cli")]
    assert offenders == []


def test_the_web_uses_only_public_questionnaire_names() -> None:
    seen = [(p.relative_to(ENGINE), module, name) for p in (ENGINE / "web").rglob("*.py")
            for module, name in imports(p) if module.startswith("engine.questionnaire")]
    assert seen, "the web form is built from engine.questionnaire.fields"
    assert [s for s in seen if s[1] != "engine.questionnaire.fields"] == []
    assert [s for s in seen if s[2].startswith("_")] == []


def test_the_library_writes_files_through_one_helper() -> None:
    """Atomic writes have one home, engine.util.files; the CLI has no copy of its own."""
    tree = ast.parse((ENGINE / "cli" / "_common.py").read_text(encoding="utf-8"))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "write_atomic" not in names and "emit" in names


def test_the_top_level_holds_at_most_six_modules() -> None:
    """Everything else lives in a package named for its concept (issue 14: the house)."""
    top = sorted(p.stem for p in ENGINE.glob("*.py"))
    packages = [p for p in ENGINE.iterdir() if (p / "__init__.py").is_file()]
    assert len(packages) >= 8, packages  # the walk found the engine's packages
    assert "api" in top and len(top) <= 6, top


def test_files_are_replaced_only_in_the_one_helper() -> None:
    """Only engine/util/files.py renames a temporary file over a path (atomic writes, durable
    or best effort); any other os.replace or os.rename is a copy of it."""
    offenders = []
    for p in modules():
        if p == ENGINE / "util" / "files.py":
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("replace", "rename") and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id == "os":
                offenders.append(f"{p.relative_to(ENGINE)}:{node.lineno}")
    assert offenders == []
