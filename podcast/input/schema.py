"""Typed field readers that check a YAML document and collect every problem at once.

Each reader looks a value up by path, records a located problem when it is missing or of the
wrong kind, and returns a usable value (or ``None``) so that checking can go on: one run of a
loader reports every mistake in the file, not just the first.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from podcast.errors import Problem
from podcast.input.yamlio import Document, PathKey, field_name

_MISSING = object()
_NOT_IN_URL = frozenset('<>"\\^`{|}')
"""Characters a URL must percent-encode (RFC 3986); raw, they could break out of a link."""
_LANG_RE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")


FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2999, 12, 31)
"""Issue dates outside these are typing mistakes (and a week after 9999-12-31 has no date)."""


class Reader:
    """Reads typed values out of a :class:`Document`, recording problems in it."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def raw(self, path: PathKey) -> Any:
        """The value at *path*, or the module's missing marker."""
        value: Any = self.doc.data
        for part in path:
            if isinstance(part, int):
                if not isinstance(value, list) or part >= len(value):
                    return _MISSING
            elif not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value

    def has(self, path: PathKey) -> bool:
        """Whether *path* is present (even if null)."""
        return self.raw(path) is not _MISSING

    def mapping(self, path: PathKey, *, required: bool = False) -> dict[str, Any] | None:
        """A mapping at *path*; problems if absent-and-required or not a mapping."""
        value = self.raw(path)
        if value is _MISSING or value is None:
            if required:
                self._missing(path)
            return None
        if not isinstance(value, dict):
            self.doc.add(path, f"must be a mapping of fields, not {describe(value)}")
            return None
        return value

    def sequence(self, path: PathKey, *, required: bool = False) -> list[Any] | None:
        """A list at *path*."""
        value = self.raw(path)
        if value is _MISSING or value is None:
            if required:
                self._missing(path)
            return None
        if not isinstance(value, list):
            self.doc.add(path, f"must be a list, not {describe(value)}")
            return None
        return value

    def string(self, path: PathKey, *, required: bool = False, allow_empty: bool = False) -> str | None:
        """A non-empty string at *path* (numbers are accepted and turned into text)."""
        value = self.raw(path)
        if value is _MISSING or value is None:
            if required:
                self._missing(path)
            return None
        if isinstance(value, bool | dict | list):
            self.doc.add(path, f"must be text, not {describe(value)}")
            return None
        text = str(value).strip() if not isinstance(value, str) else value.strip()
        if not text and not allow_empty:
            self.doc.add(path, "must not be empty")
            return None
        return text

    def integer(
        self, path: PathKey, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """An integer at *path*, optionally bounded."""
        value = self.raw(path)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.doc.add(path, f"must be a whole number, not {describe(value)}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.doc.add(path, f"{_bounds(minimum, maximum)}, got {value}")
            return None
        return value

    def number(
        self, path: PathKey, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        """A number (int or float) at *path*, optionally bounded."""
        value = self.raw(path)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.doc.add(path, f"must be a number, not {describe(value)}")
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.doc.add(path, f"{_bounds(minimum, maximum)}, got {value}")
            return None
        return float(value)

    def boolean(self, path: PathKey) -> bool | None:
        """A true/false value at *path*."""
        value = self.raw(path)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, bool):
            self.doc.add(path, f"must be true or false, not {describe(value)}")
            return None
        return value

    def date(self, path: PathKey, *, required: bool = False) -> dt.date | None:
        """A calendar date written as YYYY-MM-DD."""
        value = self.raw(path)
        if value is _MISSING or value is None:
            if required:
                self._missing(path)
            return None
        day: dt.date | None = None
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        elif isinstance(value, str):
            try:
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                    day = dt.date.fromisoformat(value.strip())
            except ValueError as exc:
                self.doc.add(path, f"is not a real date: {exc}")
                return None
        if day is None:
            self.doc.add(path, f"must be a date written YYYY-MM-DD, got {value!r}")
            return None
        if not FIRST_DATE <= day <= LAST_DATE:
            self.doc.add(path, f"must be a date from {FIRST_DATE} to {LAST_DATE}, got {day}")
            return None
        return day

    def url(self, path: PathKey) -> str | None:
        """An absolute http(s) URL."""
        text = self.string(path)
        if text is None:
            return None
        parts = urlparse(text)
        if (parts.scheme not in ("http", "https") or not parts.netloc
                or any(c.isspace() or c in _NOT_IN_URL for c in text)):
            self.doc.add(path, f"must be an http:// or https:// URL, got {text!r}")
            return None
        return text

    def language(self, path: PathKey) -> str | None:
        """A BCP 47 language tag such as ``zh-CN`` or ``en-US``."""
        text = self.string(path)
        if text is None:
            return None
        if not _LANG_RE.match(text):
            self.doc.add(path, f"must be a BCP 47 language tag like zh-CN or en-US, got {text!r}")
            return None
        return text

    def choice(self, path: PathKey, options: Iterable[str]) -> str | None:
        """A string that must be one of *options* (with a did-you-mean)."""
        text = self.string(path)
        if text is None:
            return None
        allowed = list(options)
        if text not in allowed:
            self.doc.add(path, f"unknown value {text!r}{did_you_mean(text, allowed)}; "
                         f"choose one of: {', '.join(allowed)}")
            return None
        return text

    def known_keys(self, path: PathKey, known: Iterable[str], *, severity: str = "error") -> None:
        """Report keys of the mapping at *path* that are not in *known*, with a did-you-mean."""
        value = self.raw(path)
        if not isinstance(value, dict):
            return
        names = sorted(known)
        for key in value:
            if key not in names:
                self.doc.add((*path, key), f"unknown field{did_you_mean(key, names)}",
                             severity=severity, at_key=True)

    def _missing(self, path: PathKey) -> None:
        line, col = self.doc.where(path)
        self.doc.problems.append(
            Problem(self.doc.file, line, col, field_name(path), "required field is missing")
        )


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is None:
        return f"must be at most {maximum}"
    if maximum is None:
        return f"must be at least {minimum}"
    return f"must be between {minimum} and {maximum}"


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when *word* is close to one of *options*, else ``''``."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value: Any) -> str:
    """What *value* is, in the words of an error message (``a number (3)``, ``text``...)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, dt.date):
        return f"a date ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
