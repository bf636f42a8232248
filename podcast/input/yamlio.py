"""YAML loading that remembers where every value came from.

PyYAML's composer gives each node a start mark; we convert the node tree to plain Python
values ourselves and keep a map from the value's path (``("entries", 2, "url")``) to its
1-based line and column, so every later check can point at the exact spot in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from podcast.errors import InputError, Problem

PathKey = tuple[str | int, ...]


def field_name(path: PathKey) -> str:
    """Render a value path as a field name: ``entries[3].url`` (indices shown 1-based)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else part
    return out or "(document)"


@dataclass
class Document:
    """A parsed YAML file: its data plus the position of every value and key."""

    file: Path
    data: Any
    marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: PathKey) -> tuple[int, int]:
        """Line and column of the value at *path*, or of its nearest located parent."""
        probe = path
        while probe:
            if probe in self.marks:
                return self.marks[probe]
            probe = probe[:-1]
        return self.marks.get((), (1, 1))

    def key_where(self, path: PathKey) -> tuple[int, int]:
        """Line and column of the key that introduces *path* (falls back to the value)."""
        return self.key_marks.get(path) or self.where(path)

    def problem(
        self, path: PathKey, message: str, *, severity: str = "error", at_key: bool = False
    ) -> Problem:
        """Build a located :class:`Problem` for the value (or key) at *path*."""
        line, col = self.key_where(path) if at_key else self.where(path)
        return Problem(self.file, line, col, field_name(path), message, severity)

    def add(self, path: PathKey, message: str, *, severity: str = "error", at_key: bool = False) -> None:
        """Record a problem about the value at *path*."""
        self.problems.append(self.problem(path, message, severity=severity, at_key=at_key))


class _Loader(yaml.SafeLoader):
    """SafeLoader used only for composing and for constructing plain scalars."""


MAX_FILE_BYTES = 5 * 1024 * 1024
"""Input files larger than this are refused before parsing."""
MAX_VALUES = 100_000
"""Values a document may expand to (aliases count each time they are used)."""
MAX_DEPTH = 64
"""Nesting depth of lists and mappings."""

_YAML_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_YAML_TAG + name for name in
                          ("str", "int", "float", "bool", "null", "timestamp", "map", "seq"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters no text field may hold: C0/C1 controls (tab and newlines are fine) and lone
surrogates (which double-quoted escapes can produce)."""


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character *index* of *text*."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _decode(file: Path, raw: bytes) -> str:
    """*raw* as UTF-8 text without a byte-order mark, or an InputError at the bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = raw.count(b"\n", 0, start) + 1
        head = raw[raw.rfind(b"\n", 0, start) + 1:start].decode("utf-8", errors="replace")
        message = (f"not valid UTF-8: byte 0x{raw[start]:02x} cannot start or continue a "
                   "character; save the file as UTF-8")
        raise InputError([Problem(file, line, len(head) + 1, "(file)", message)]) from None


def load_document(file: Path, text: str | None = None, *, _locate: bool = True) -> Document:
    """Parse *file* (or *text* attributed to it) into a :class:`Document`, safely.

    Only plain YAML is accepted: text, numbers, booleans, dates, lists and mappings. Any other
    tag (``!!python/object`` and friends) is refused, as are files over
    :data:`MAX_FILE_BYTES`, documents that expand past :data:`MAX_VALUES` values (an alias
    bomb) or nest past :data:`MAX_DEPTH`, invalid UTF-8, and control characters. A problem
    that stops parsing raises :class:`InputError` with its line; problems with single values
    are recorded in the document.
    """
    if text is None:
        text = _decode(file, _read_bytes(file))
    elif text.startswith("\ufeff"):
        text = text[1:]
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character outside any quoted escape
        line, col = _position(text, exc.position)
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        field = _field_at(text, exc.position) if _locate else "(yaml)"
        raise InputError([Problem(file, line, col, field,
                                  f"control character {char} is not allowed in text")]) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise InputError([Problem(file, line, col, "(yaml)", _syntax_message(exc))]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, 1, 1, "(yaml)", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    doc = Document(file=file, data=None)
    if node is None:
        return doc
    doc.data = _Converter(doc, loader).convert(node, (), 0)
    return doc


def _read_bytes(file: Path) -> bytes:
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError([Problem(file, 1, 1, "(file)", f"file is {size / 2**20:.1f} MB; the limit "
                                      f"is {MAX_FILE_BYTES // 2**20} MB")])
        return file.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(file, 1, 1, "(file)", "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(file, 1, 1, "(file)", "is a folder, not a file")]) from None
    except OSError as exc:
        raise InputError([Problem(file, 1, 1, "(file)", f"cannot read: {exc.strerror or exc}")]) from None


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    problem = (exc.problem or "invalid YAML").strip()
    if "'\\t'" in problem:
        return "YAML syntax error: a tab character is used for indentation; indent with spaces"
    if exc.context:
        mark = exc.context_mark
        started = (f" (from line {mark.line + 1})" if mark and exc.problem_mark
                   and mark.line != exc.problem_mark.line else "")
        problem = f"{exc.context.strip()}{started}: {problem}"
    return f"YAML syntax error: {problem}"


def _field_at(text: str, index: int) -> str:
    """The field whose value holds character *index*, found by parsing the text with that
    character replaced (``(yaml)`` when even that does not parse)."""
    cleaned = _CONTROL.sub(" ", text)
    try:
        doc = load_document(Path("-"), cleaned, _locate=False)
    except InputError:
        return "(yaml)"
    line, col = _position(text, index)
    best: PathKey | None = None
    for path, mark in doc.marks.items():
        if mark <= (line, col) and (best is None or mark >= doc.marks[best]):
            best = path
    return field_name(best) if best else "(yaml)"


class _Converter:
    """Node tree to plain values, refusing anything that is not plain data."""

    def __init__(self, doc: Document, loader: _Loader) -> None:
        self.doc = doc
        self.loader = loader
        self.values = 0

    def _fail(self, node: yaml.Node, field: str, message: str) -> InputError:
        mark = node.start_mark
        return InputError([Problem(self.doc.file, mark.line + 1, mark.column + 1, field, message)])

    def _check_tag(self, node: yaml.Node, path: PathKey) -> None:
        if node.tag not in _ALLOWED_TAGS:
            tag = node.tag.replace(_YAML_TAG, "!!")
            raise self._fail(node, field_name(path), f"YAML tag {tag} is not allowed: issue and show "
                             "files hold only text, numbers, dates, lists and mappings")

    def convert(self, node: yaml.Node, path: PathKey, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES or depth > MAX_DEPTH:
            # report at the top-level field whose value blew up, not deep inside the expansion
            top = path[:1]
            line, col = self.doc.marks.get(top, (node.start_mark.line + 1, node.start_mark.column + 1))
            message = (f"expands to more than {MAX_VALUES:,} values (a YAML alias bomb?)"
                       if self.values > MAX_VALUES else
                       f"nested more than {MAX_DEPTH} levels deep (an alias that contains itself?)")
            raise InputError([Problem(self.doc.file, line, col, field_name(top), message)])
        self._check_tag(node, path)
        self.doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.constructor.ConstructorError):
            return node.value  # e.g. 2024-02-30: let the field's own check explain it
        if isinstance(value, str):
            bad = _CONTROL.search(value)
            if bad:
                self.doc.add(path, f"control character U+{ord(bad.group()):04X} is not allowed in text")
        return value

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> dict[str, Any]:
        self.loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, field_name(path), "a key must be text, not a list or mapping")
            self._check_tag(key_node, path)
            name = str(self.convert(key_node, (*path, "(key)"), depth + 1))
            self.doc.marks.pop((*path, "(key)"), None)
            child = (*path, name)
            key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if name in result:
                first = self.doc.key_marks[child][0]
                self.doc.problems.append(Problem(self.doc.file, *key_mark, field_name(child),
                                                 f"duplicate key (first set on line {first})"))
            self.doc.key_marks[child] = key_mark
            result[name] = self.convert(value_node, child, depth + 1)
        return result
