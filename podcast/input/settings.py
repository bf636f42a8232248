"""Declaring settings: each one once, with its type, default, bounds (or choices) and doc.

A settings record is a frozen dataclass whose fields are made by the functions below
(:func:`number`, :func:`integer`, :func:`text`, :func:`choice`, :func:`file`, ...). Each one
is the field's default and puts a :class:`Setting` in the field's metadata: the doc, the bounds
or choices, and the reader that checks the YAML value. Everything else is derived from these
declarations: the known keys of every section (with did-you-mean), the readers with their
``FILE:LINE:COL`` errors (:func:`read_fields`, :func:`read_section`), the defaults (the
dataclass's own) and the settings reference in the README (:func:`reference_table`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from podcast.input.schema import Reader
from podcast.input.yamlio import PathKey

METADATA_KEY = "podcast.setting"
"""Key of a field's :class:`Setting` in its dataclass metadata."""

T = TypeVar("T")
Int = TypeVar("Int", bound=int | None)
Text = TypeVar("Text", bound=str | None)
Read = Callable[[Reader, PathKey, "Setting", Any, "Context"], Any]
"""A reader: checks the value at a path (recording located problems) and returns the value to
use, which is the default when the value is missing or wrong."""


@dataclass(frozen=True)
class Context:
    """What readers need besides the document: where relative paths start, the engines known."""

    base: Path
    """The folder of the settings file; paths in it are relative to this folder."""
    engines: tuple[str, ...] = ()
    """Names of the installed engines (their sections and voices are known keys)."""


@dataclass(frozen=True)
class Setting:
    """The declaration of one setting, kept in its dataclass field's metadata."""

    doc: str
    """What it does, one line, for the reference."""
    kind: str
    """What a value is, in words (``number``, ``file``, ...), for the reference."""
    read: Read
    """Checks and converts the YAML value."""
    minimum: float | None = None
    """Lowest value allowed; written as errors show it (``0`` is not ``0.0``)."""
    maximum: float | None = None
    """Highest value allowed."""
    choices: tuple[str | int, ...] = ()
    """The only values allowed, when not empty."""
    default_doc: str | None = None
    """How the reference shows the default, when it is not a plain value."""
    section: type[Any] | None = None
    """The settings record of a section (``music:``), whose fields are settings too."""
    check: Callable[[Path], str | None] | None = None
    """For a file: what is wrong with its content (a phrase to follow its name), or None."""


def declared(cls: type[Any]) -> Iterator[tuple[dataclasses.Field[Any], Setting]]:
    """The declared settings of record *cls*, in order, with their fields."""
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(METADATA_KEY)
        if isinstance(spec, Setting):
            yield f, spec


def keys(cls: type[Any]) -> tuple[str, ...]:
    """The keys a YAML mapping for *cls* may have."""
    return tuple(f.name for f, _ in declared(cls))


def default_of(f: dataclasses.Field[Any]) -> Any:
    """The default value of field *f*."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise TypeError(f"setting {f.name} has no default")


def read_fields(r: Reader, cls: type[Any], path: PathKey, ctx: Context) -> dict[str, Any]:
    """Values of every declared setting of *cls* read from the mapping at *path*, by name."""
    return {f.name: spec.read(r, (*path, f.name), spec, default_of(f), ctx) for f, spec in declared(cls)}


def read_section(r: Reader, cls: type[T], path: PathKey, ctx: Context) -> T:
    """Record *cls* read from the mapping at *path* (its defaults when the mapping is absent)."""
    if r.mapping(path) is None:
        return cls()
    r.known_keys(path, keys(cls))
    return cls(**read_fields(r, cls, path, ctx))


# --- declaring a setting: each function is the field's default ---------------------------------

def _declare(default: Any, spec: Setting) -> Any:
    return dataclasses.field(default=default, metadata={METADATA_KEY: spec})


def number(default: float, doc: str, minimum: float, maximum: float) -> float:
    """A number (whole or not) between *minimum* and *maximum*."""
    value: float = _declare(default, Setting(doc, "number", _read_number, minimum, maximum))
    return value


def integer(default: Int, doc: str, minimum: int | None = None, maximum: int | None = None, *,
            choices: tuple[int, ...] = (), default_doc: str | None = None) -> Int:
    """A whole number, within bounds or one of *choices*."""
    spec = Setting(doc, "whole number", _read_integer, minimum, maximum, choices, default_doc)
    value: Int = _declare(default, spec)
    return value


def text(default: Text, doc: str, *, default_doc: str | None = None) -> Text:
    """Text that is not empty (a number is taken as its text)."""
    value: Text = _declare(default, Setting(doc, "text", _read_text, default_doc=default_doc))
    return value


def flag(default: bool, doc: str) -> bool:
    """``true`` or ``false``."""
    value: bool = _declare(default, Setting(doc, "true/false", _read_flag))
    return value


def choice(default: str, doc: str, choices: tuple[str, ...]) -> str:
    """One of *choices* (an unknown value gets a did-you-mean)."""
    value: str = _declare(default, Setting(doc, "text", _read_choice, choices=choices))
    return value


def url(doc: str) -> str | None:
    """An absolute http(s) URL."""
    value: str | None = _declare(None, Setting(doc, "URL", _read_url))
    return value


def language(doc: str, *, default_doc: str) -> str | None:
    """A BCP 47 language tag."""
    value: str | None = _declare(None, Setting(doc, "language tag", _read_language, default_doc=default_doc))
    return value


def file(default: Path | None, doc: str, *, default_doc: str, read: Read | None = None,
         check: Callable[[Path], str | None] | None = None) -> Path | None:
    """A file inside the show folder; ``default`` or ``none`` may be written too. *check* says
    what is wrong with a file's content (see :attr:`Setting.check`)."""
    spec = Setting(doc, "file", read or read_file, default_doc=default_doc, check=check)
    value: Path | None = _declare(default, spec)
    return value


def folder(doc: str, *, default_doc: str, also_cwd: bool = False) -> Path | None:
    """A folder inside the show folder (or, with *also_cwd*, inside the working folder)."""
    read = _read_place if also_cwd else _read_folder
    value: Path | None = _declare(None, Setting(doc, "folder", read, default_doc=default_doc))
    return value


def custom(read: Read, default_factory: Callable[[], T], doc: str, *, kind: str, default_doc: str) -> T:
    """A setting with a reader of its own."""
    spec = Setting(doc, kind, read, default_doc=default_doc)
    value: T = dataclasses.field(default_factory=default_factory, metadata={METADATA_KEY: spec})
    return value


def section(cls: type[T], doc: str) -> T:
    """A mapping of settings, declared by record *cls*."""
    spec = Setting(doc, "section", _read_section, section=cls)
    value: T = dataclasses.field(default_factory=cls, metadata={METADATA_KEY: spec})
    return value


# --- readers ------------------------------------------------------------------------------------

def _read_section(r: Reader, path: PathKey, spec: Setting, default: Any, ctx: Context) -> Any:
    assert spec.section is not None
    return read_section(r, spec.section, path, ctx)


def _plain(check: Callable[[Reader, PathKey, Setting], Any]) -> Read:
    """A reader of a plain value: what *check* gives, else (missing or refused) the default."""
    def read(r: Reader, path: PathKey, spec: Setting, default: Any, ctx: Context) -> Any:
        value = check(r, path, spec)
        return default if value is None else value
    return read


def _whole(r: Reader, path: PathKey, spec: Setting) -> int | None:
    minimum, maximum = (None if b is None else int(b) for b in (spec.minimum, spec.maximum))
    value = r.integer(path, minimum=minimum, maximum=maximum)
    if value is not None and spec.choices and value not in spec.choices:
        r.doc.add(path, f"must be one of {', '.join(str(c) for c in spec.choices)}")
        return None
    return value


_read_integer = _plain(_whole)
_read_number = _plain(lambda r, path, spec: r.number(path, minimum=spec.minimum, maximum=spec.maximum))
_read_text = _plain(lambda r, path, spec: r.string(path))
_read_flag = _plain(lambda r, path, spec: r.boolean(path))
_read_choice = _plain(lambda r, path, spec: r.choice(path, [str(c) for c in spec.choices]))
_read_url = _plain(lambda r, path, spec: r.url(path))
_read_language = _plain(lambda r, path, spec: r.language(path))


def read_file(r: Reader, path: PathKey, spec: Setting, default: Any, ctx: Context) -> Path | None:
    """A file inside the show folder: ``default`` (or absent) gives *default*, ``none`` None."""
    fallback: Path | None = default
    value = r.raw(path)
    if not r.has(path) or value == "default":
        return fallback
    if value is None or value is False or value == "none":
        return None
    found = inside(r, path, ctx.base)
    if found is None:
        return fallback
    if not found.is_file():
        r.doc.add(path, f"file not found: {r.raw(path)!r} (paths are relative to the show folder)")
        return fallback
    try:
        problem = spec.check(found) if spec.check else None
    except OSError as exc:
        problem = f"cannot be read: {exc.strerror or exc}"
    if problem:
        r.doc.add(path, f"{r.raw(path)!r} {problem}")
        return fallback
    return found


def _read_folder(r: Reader, path: PathKey, spec: Setting, default: Any, ctx: Context) -> Path | None:
    found = inside(r, path, ctx.base)
    if found is None:
        return None
    if not found.is_dir():
        r.doc.add(path, f"folder not found: {r.raw(path)!r} (paths are relative to the show folder)")
        return None
    return found


def _read_place(r: Reader, path: PathKey, spec: Setting, default: Any, ctx: Context) -> Path | None:
    return inside(r, path, ctx.base, also=Path.cwd())


def inside(r: Reader, path: PathKey, base: Path, *, also: Path | None = None) -> Path | None:
    """The path written at *path*, resolved, when it stays inside *base* (or *also*).

    Show files may come from anyone's pull request, so a path that is absolute, climbs out
    with ``..`` or is a symbolic link to somewhere else is refused: a build reads and writes
    only inside the show's folders.
    """
    written = r.string(path)
    if written is None:
        return None
    if Path(written).is_absolute() or written.startswith("~"):
        r.doc.add(path, f"must be a path relative to the show folder, not {written!r}")
        return None
    resolved = (base / written).resolve()
    roots = [base.resolve()] + ([also.resolve()] if also else [])
    if not any(resolved.is_relative_to(root) for root in roots):
        how = "leads" if ".." in Path(written).parts else "is a link that leads"
        r.doc.add(path, f"{written!r} {how} outside the show folder; keep the show's files inside it")
        return None
    return resolved


# --- the reference ------------------------------------------------------------------------------

def reference_table(cls: type[Any]) -> str:
    """The settings reference of record *cls*: a Markdown table, one row per setting."""
    head = ["| setting | value | default | allowed | what it does |", "|---|---|---|---|---|"]
    return "\n".join([*head, *reference(cls)]) + "\n"


def reference(cls: type[Any], prefix: str = "") -> list[str]:
    """Markdown table rows, one per setting of *cls* (sections' settings by dotted name)."""
    rows: list[str] = []
    for f, spec in declared(cls):
        name = prefix + f.name
        if spec.section is not None:
            rows += reference(spec.section, name + ".")
            continue
        rows.append(f"| `{name}` | {spec.kind} | {_shown_default(f, spec)} | {_allowed(spec)} | {spec.doc} |")
    return rows


def _shown_default(f: dataclasses.Field[Any], spec: Setting) -> str:
    if spec.default_doc is not None:
        return spec.default_doc
    value = default_of(f)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _allowed(spec: Setting) -> str:
    if spec.choices:
        return ", ".join(f"`{c}`" for c in spec.choices)
    low, high = (f"{b:g}" if isinstance(b, float) else str(b) for b in (spec.minimum, spec.maximum))
    if spec.minimum is not None and spec.maximum is not None:
        return f"{low} to {high}"
    if spec.minimum is not None:
        return f"at least {low}"
    if spec.maximum is not None:
        return f"at most {high}"
    return ""
