"""YAML loading that remembers where every value came from.

PyYAML's composer gives each node a start mark; we convert the node tree to plain Python
values ourselves and keep a map from the value's path (``("entries", 2, "url")``) to its
1-based line and column, so every later check can point at the exact spot in the file.
"""

from __future__ import annotations

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
    """SafeLoader used only for composing and for constructing scalars."""


def load_document(file: Path, text: str | None = None) -> Document:
    """Parse *file* (or *text* attributed to it) into a :class:`Document`.

    A syntax error or an unreadable file raises :class:`InputError` with the offending line.
    """
    if text is None:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError([Problem(file, 1, 1, "(file)", "file not found")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError([Problem(file, 1, 1, "(file)", f"cannot read: {exc}")]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = (exc.problem or "invalid YAML").strip()
        if exc.context:
            message = f"{exc.context.strip()}: {message}"
        raise InputError([Problem(file, line, col, "(yaml)", f"YAML syntax error: {message}")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(file, 1, 1, "(yaml)", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    doc = Document(file=file, data=None)
    if node is None:
        doc.data = None
        return doc
    doc.data = _convert(node, (), doc, loader)
    return doc


def _convert(node: yaml.Node, path: PathKey, doc: Document, loader: _Loader) -> Any:
    doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            name = str(key)
            child = (*path, name)
            key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if name in result:
                doc.problems.append(
                    Problem(doc.file, *key_mark, field_name(child), "duplicate key")
                )
            doc.key_marks[child] = key_mark
            result[name] = _convert(value_node, child, doc, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), doc, loader) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.constructor.ConstructorError):
        return node.value  # e.g. 2024-02-30: let the field's own check explain it
