"""The one reader of user documents (answers, saved decisions, evidence, checkpoints).

Every YAML or JSON file a user gives goes through `load_document` (or `read_text` plus
`parse_document`), so that every one gets the same limits (engine/util/limits.py) and the same
one-line InputError instead of a traceback, a hang or gigabytes of memory:

- only regular files are read (a FIFO would hang, /dev/zero would fill memory), and at most one
  byte past the size limit;
- YAML: no aliases, no tags beyond the JSON types, no timestamps or merge keys; JSON: no NaN or
  Infinity literals;
- both: no duplicate keys (naming both lines), text keys only, nesting depth, integers within
  +-2^53 (what canonical JSON and a double hold exactly), finite floats.

The result is plain JSON-able data: dict, list, str, int, float, bool, None.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from engine.errors import InputError
from engine.util import limits

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")
SAFE_INTEGER_TEXT = "expected an integer between -2^53 and 2^53"


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads_stored(data: bytes | str) -> Any:
    """JSON the tool wrote itself (audit records, manifests), read back defensively: an edited
    copy may nest without end or hold NaN/Infinity, and either is a ValueError here (the
    caller reports the record as corrupt) instead of a RecursionError or a value canonical
    JSON later refuses."""
    try:
        return json.loads(data, parse_constant=_refuse_constant,
                          parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def open_regular(path: str | Path, kind: str = "a file") -> BinaryIO:
    """A regular file opened for reading; anything else is one InputError.

    The file is opened without blocking and checked with fstat before any read, so a FIFO,
    a device or a directory is refused at once instead of hanging or filling memory."""
    file = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(file, "", "file not found") from None
    except IsADirectoryError:
        raise InputError(file, "", "expected a file, got a directory") from None
    except OSError as error:
        raise InputError(file, "", f"cannot be read ({error.strerror})") from None
    handle = os.fdopen(fd, "rb")
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        handle.close()
        if stat.S_ISDIR(mode):
            raise InputError(file, "", "expected a file, got a directory")
        raise InputError(file, "", f"expected {kind} (a regular file), got a device, pipe "
                         "or socket")
    return handle


def read_bytes(path: str | Path, limit: int = limits.MAX_DOCUMENT_BYTES,
               kind: str = "a file") -> bytes:
    """At most `limit` bytes of a regular file (see open_regular); more is one InputError."""
    file = str(path)
    with open_regular(path, kind) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as error:
            raise InputError(file, "", f"cannot be read ({error.strerror})") from None
    if len(data) > limit:
        raise InputError(file, "", f"expected {kind} of at most {_mib(limit)} (the input "
                         "size limit)", "a larger file")
    return data


def read_lines(path: str | Path, kind: str = "a JSON Lines file",
               limit: int = limits.MAX_DOCUMENT_BYTES) -> Iterator[tuple[int, str]]:
    """(number, text) of each line of a regular file of any size, each line at most `limit`
    bytes, so a file without newlines (/dev/zero's kind) cannot fill memory."""
    file = str(path)
    with open_regular(path, kind) as handle:
        for number in itertools.count(1):
            raw = handle.readline(limit + 1)
            if not raw:
                return
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise InputError(file, f"line {number}", f"a line of at most {_mib(limit)} "
                                 "(the input size limit)", "a longer line")
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(file, f"line {number}", "UTF-8 text") from None


def read_text(path: str | Path, kind: str = "a YAML or JSON text file",
              limit: int = limits.MAX_DOCUMENT_BYTES) -> str:
    """A regular file's UTF-8 text, within the byte limit; every failure one InputError."""
    return decode_text(read_bytes(path, limit, kind), str(path), kind)


def decode_text(data: bytes, file: str, kind: str = "a YAML or JSON text file") -> str:
    """Bytes already in hand (a file read earlier, a rule base stored in the audit log) as
    UTF-8 text, refused the way `read_text` refuses a file's."""
    if b"\x00" in data:
        raise InputError(file, "", f"expected {kind}, got binary data")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(file, "", "expected UTF-8 text, got undecodable bytes") from None


def looks_like_json(path: str | Path, text: str) -> bool:
    """By suffix; without a telling one, JSON when the text opens an object or a list."""
    suffix = Path(path).suffix.lower()
    if suffix in JSON_SUFFIXES:
        return True
    if suffix in YAML_SUFFIXES:
        return False
    return text.lstrip().startswith(("{", "["))


def load_document(path: str | Path, json_only: bool = False) -> Any:
    """Read and parse a YAML or JSON document with every limit applied."""
    text = read_text(path, "a JSON text file" if json_only else "a YAML or JSON text file")
    return parse_document(text, str(path), json_only=json_only)


def parse_document(text: str, file: str, json_only: bool = False) -> Any:
    """YAML or JSON text (told apart by `looks_like_json`) -> checked plain data."""
    if json_only or looks_like_json(file, text):
        return parse_json(text, file)
    return parse_yaml(text, file)


# --- JSON ----------------------------------------------------------------------------------


class _Bad:
    """A value the JSON hooks refused; the walk afterwards names its path."""

    def __init__(self, expected: str, got: str) -> None:
        self.expected = expected
        self.got = got


class _Pairs(dict):  # type: ignore[type-arg]
    """An object whose key `duplicate` appeared twice (reported by the walk with its path)."""

    duplicate: str | None = None


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in items:
        if key in out:
            marked = _Pairs(items)
            marked.duplicate = key
            return marked
        out[key] = value
    return out


def _json_int(text: str) -> Any:
    if len(text) > limits.MAX_NUMBER_DIGITS:
        return _Bad(SAFE_INTEGER_TEXT, text)
    value = int(text)
    if abs(value) > limits.MAX_SAFE_INTEGER:
        return _Bad(SAFE_INTEGER_TEXT, text)
    return value


def _json_float(text: str) -> Any:
    if len(text) > limits.MAX_NUMBER_DIGITS:
        return _Bad("expected a number of at most "
                    f"{limits.MAX_NUMBER_DIGITS} characters", text)
    value = float(text)
    if not math.isfinite(value):
        return _Bad("expected a finite number (the value overflows)", text)
    return value


def _json_constant(text: str) -> Any:
    return _Bad("expected a finite number (NaN and Infinity are not JSON)", text)


def parse_json(text: str, file: str) -> Any:
    """JSON with duplicate keys, NaN/Infinity, unsafe integers and deep nesting refused."""
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_int=_json_int,
                           parse_float=_json_float, parse_constant=_json_constant)
    except RecursionError:
        raise InputError(file, "", f"expected at most {limits.MAX_DEPTH} levels of nesting "
                         "(the input depth limit)") from None
    except json.JSONDecodeError as error:
        raise InputError(file, "", f"expected valid JSON ({error.msg}, line {error.lineno} "
                         f"column {error.colno})") from None
    try:
        check_value(value, file)
    except _Duplicate as dup:
        lines = _json_key_lines(text, dup.path)
        raise InputError(file, dup.path, "duplicate key" + (f" (lines {lines[0]} and "
                         f"{lines[1]})" if lines else "") + ": each key may appear once, "
                         "a later one would silently replace the first") from None
    return value


class _Duplicate(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _json_key_lines(text: str, path: str) -> tuple[int, int] | None:
    """The lines of a duplicate key's two places, found by re-reading the JSON as YAML
    (which keeps positions); only on this error path, and only for a smaller file."""
    if len(text) > limits.MAX_YAML_BYTES:
        return None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        _check_nodes(node, "")
    except _DuplicateNode as dup:
        return dup.lines if dup.path == path else None
    except Exception:  # noqa: BLE001 - JSON YAML cannot read: report without lines
        return None
    return None


# --- Checks on parsed data ------------------------------------------------------------------


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def check_value(value: Any, file: str, path: str = "") -> None:
    """Walk parsed data (without recursion): depth, text keys, safe integers, finite floats.

    Also used for documents that arrive already parsed (the web API), so they meet the same
    limits as files."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, dict | list):
            stack.extend(_children(item, file, where, depth))
        else:
            _check_scalar(item, file, where)


def _children(item: dict[Any, Any] | list[Any], file: str, where: str, depth: int
              ) -> list[tuple[Any, str, int]]:
    """A mapping's or a list's items, to walk next; refuses deep nesting and bad keys."""
    if depth >= limits.MAX_DEPTH:
        raise InputError(file, where if len(where) <= 60 else where[:57] + "...",
                         f"expected at most {limits.MAX_DEPTH} levels of nesting (the "
                         "input depth limit)")
    if isinstance(item, list):
        return [(child, _join(where, i), depth + 1) for i, child in enumerate(item)]
    if isinstance(item, _Pairs) and item.duplicate is not None:
        raise _Duplicate(_join(where, item.duplicate))
    children = []
    for key, child in item.items():
        if not isinstance(key, str):
            raise InputError(file, _join(where, key), "expected a text key", key)
        children.append((child, _join(where, key), depth + 1))
    return children


def _check_scalar(item: Any, file: str, where: str) -> None:
    """Text, true/false and null pass; a number must be a safe integer or finite."""
    if isinstance(item, _Bad):
        raise InputError(file, where, item.expected, item.got)
    if isinstance(item, bool) or item is None or isinstance(item, str):
        return
    if isinstance(item, int):
        if abs(item) > limits.MAX_SAFE_INTEGER:
            raise InputError(file, where, SAFE_INTEGER_TEXT, str(item))
    elif isinstance(item, float):
        if not math.isfinite(item):
            raise InputError(file, where, "expected a finite number", str(item))
    else:
        raise InputError(file, where, "expected text, a number, true/false, null, a list "
                         "or a mapping", type(item).__name__)


# --- YAML ----------------------------------------------------------------------------------

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
# Explicit tags a JSON-compatible document may carry; any other (!!binary, !!set,
# !!timestamp, !!python/..., local tags) is refused.
PLAIN_TAGS = frozenset({None, "!", _STR, _INT, _FLOAT, "tag:yaml.org,2002:bool",
                        "tag:yaml.org,2002:null", "tag:yaml.org,2002:seq",
                        "tag:yaml.org,2002:map"})


def _yaml_classes() -> tuple[type, ...]:
    """libyaml's C event parser when installed (several times faster), else pure Python."""
    import yaml

    try:
        from yaml._yaml import CParser
    except ImportError:
        return (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)
    return (CParser,)


def _plain_resolver() -> Any:  # a class, used as a base by _build_loader
    from yaml.resolver import Resolver

    class PlainResolver(Resolver):
        """YAML 1.2's core schema: true/false only (YAML 1.1 also read yes/no/on/off), decimal
        numbers without the sexagesimal 1:30 (= 90) or a leading-zero octal 012 (= 10), no
        timestamps (a date stays text) and no merge keys. Anything else is text, which the
        strict models then refuse where a number or a boolean is expected."""

    replaced = {f"tag:yaml.org,2002:{t}" for t in ("timestamp", "merge", "bool", "int", "float")}
    PlainResolver.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in replaced]
        for first, resolvers in Resolver.yaml_implicit_resolvers.items()
    }
    for tag, pattern, first in (
            ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
            ("int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
            ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"
                      r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$", "-+0123456789.")):
        PlainResolver.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(pattern),
                                            list(first))
    return PlainResolver


def _limited_composer() -> Any:  # a class, used as a base by _build_loader
    from yaml.composer import Composer
    from yaml.events import AliasEvent, CollectionStartEvent

    class LimitedComposer(Composer):
        """Composes nodes with aliases, non-plain tags and deep nesting refused early."""

        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[attr-defined]
            line = event.start_mark.line + 1 if event.start_mark else 0
            if self.check_event(AliasEvent):  # type: ignore[attr-defined]
                raise _NodeError(line, "expected no YAML aliases (*name): input files must "
                                 "write every value out (aliases can multiply a document)")
            if event.tag not in PLAIN_TAGS:
                tag = str(event.tag).replace("tag:yaml.org,2002:", "!!")
                raise _NodeError(line, "expected plain YAML values (text, numbers, true/false,"
                                 f" null, lists, mappings), got the tag {tag}")
            if not isinstance(event, CollectionStartEvent):
                return super().compose_node(parent, index)
            self.depth += 1
            if self.depth > limits.MAX_DEPTH:
                raise _NodeError(line, f"expected at most {limits.MAX_DEPTH} levels of "
                                 "nesting (the input depth limit)")
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return LimitedComposer


def _build_loader() -> type:
    import yaml
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor

    PlainResolver = _plain_resolver()
    LimitedComposer = _limited_composer()
    parsers = _yaml_classes()

    bases = (LimitedComposer, *parsers, SafeConstructor, PlainResolver)

    class Loader(*bases):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            if parsers[0] is yaml.reader.Reader:
                yaml.reader.Reader.__init__(self, stream)
                yaml.scanner.Scanner.__init__(self)
                yaml.parser.Parser.__init__(self)
            else:
                parsers[0].__init__(self, stream)  # type: ignore[misc]
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            PlainResolver.__init__(self)

        def dispose(self) -> None:
            if hasattr(super(), "dispose"):
                super().dispose()

    return Loader


class _NodeError(Exception):
    def __init__(self, line: int, expected: str, path: str = "", got: object = None) -> None:
        super().__init__(expected)
        self.line = line
        self.expected = expected
        self.path = path
        self.got = got


class _DuplicateNode(Exception):
    def __init__(self, path: str, lines: tuple[int, int]) -> None:
        super().__init__(path)
        self.path = path
        self.lines = lines


_LOADER: type | None = None


def _Loader(text: str) -> Any:  # noqa: N802 - a class-like factory
    global _LOADER
    if _LOADER is None:
        _LOADER = _build_loader()
    return _LOADER(text)


def _check_nodes(root: Any, path: str, lines: dict[str, int] | None = None) -> None:
    """Duplicate keys (both lines), and integer literals too long to convert, on the node
    tree before anything is constructed; with `lines`, also the line where each node starts,
    by dotted path."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    stack: list[tuple[Any, str]] = [(root, path)]
    while stack:
        node, where = stack.pop()
        if lines is not None:
            lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if not isinstance(key, ScalarNode):
                    raise _NodeError(line, "expected a text key, got a list or mapping as key",
                                     where)
                name = key.value
                if name in seen:
                    raise _DuplicateNode(_join(where, name), (seen[name], line))
                seen[name] = line
                stack.append((value, _join(where, name)))
                stack.append((key, _join(where, name)))
        elif isinstance(node, SequenceNode):
            stack.extend((child, _join(where, i)) for i, child in enumerate(node.value))
        elif isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT):
            digits = len(node.value)
            if digits > limits.MAX_NUMBER_DIGITS:
                expected = SAFE_INTEGER_TEXT if node.tag == _INT else (
                    f"expected a number of at most {limits.MAX_NUMBER_DIGITS} characters")
                raise _NodeError(node.start_mark.line + 1, expected, where,
                                 node.value[:20] + "...")


def parse_yaml(text: str, file: str) -> Any:
    """YAML restricted to what JSON can say, within the byte, depth and alias limits."""
    return _parse_yaml(text, file, None)


def parse_yaml_lines(text: str, file: str) -> tuple[Any, dict[str, int]]:
    """`parse_yaml`, plus the line (1-based) where each value starts, keyed by its dotted path
    ("rules.3" is the fourth rule's mapping, "" the document): what lets a rule base name
    `rules/data.yaml:37` in its errors. Same limits and strictness as `parse_yaml`."""
    lines: dict[str, int] = {}
    return _parse_yaml(text, file, lines), lines


def _parse_yaml(text: str, file: str, lines: dict[str, int] | None) -> Any:
    import yaml

    size = len(text.encode("utf-8"))
    if size > limits.MAX_YAML_BYTES:
        raise InputError(file, "", f"expected a YAML file of at most {_mib(limits.MAX_YAML_BYTES)}"
                         " (the YAML size limit; give larger documents as JSON)", "a larger file")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, "", lines)
        value = loader.construct_document(node)
    except _DuplicateNode as dup:
        first, second = dup.lines
        raise InputError(file, dup.path, f"duplicate key (lines {first} and {second}): each key "
                         "may appear once, a later one would silently replace the first") from None
    except _NodeError as error:
        where = f" (line {error.line})" if error.line else ""
        raise InputError(file, error.path, error.expected + where, error.got) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise InputError(file, "", f"expected valid YAML or JSON{where}: {problem}") from None
    except RecursionError:
        raise InputError(file, "", f"expected at most {limits.MAX_DEPTH} levels of nesting "
                         "(the input depth limit)") from None
    finally:
        loader.dispose()
    try:
        check_value(value, file)
    except _Duplicate as dup:  # cannot happen for YAML (checked on nodes); kept for safety
        raise InputError(file, dup.path, "duplicate key") from None
    return value
