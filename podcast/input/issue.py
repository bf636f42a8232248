"""Issue files: one YAML file per episode, loaded into frozen records with every problem located.

The minimal contract (kept in every version): top-level ``title``, ``date`` (YYYY-MM-DD),
optional ``language`` (BCP 47), ``entries`` (non-empty list); each entry has ``title`` and
``summary``, optional ``url`` (http/https), ``org``, ``name`` and any other fields the
templates use. Optional top-level ``intro`` / ``outro`` replace the show's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podcast.engines.base import Voice, VoiceOverride
from podcast.input.schema import Reader, did_you_mean
from podcast.input.yamlio import Document, field_name
from podcast.speech import languages

ISSUE_KEYS = ("title", "date", "language", "number", "description", "intro", "outro", "entries")
ENTRY_KEYS = ("title", "summary", "url", "org", "name", "voice")
_PROSODY = ("rate", "pitch", "volume")


@dataclass(frozen=True)
class Entry:
    """One news item: becomes one chapter of the episode."""

    title: str
    summary: str
    url: str | None = None
    org: str | None = None
    name: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    line: int = 1
    column: int = 1
    voice: VoiceOverride | None = None

    def context(self) -> dict[str, Any]:
        """Template variables for this entry (extra fields included)."""
        return {**self.fields, "title": self.title, "summary": self.summary, "url": self.url,
                "org": self.org, "name": self.name}


@dataclass(frozen=True)
class Issue:
    """One episode's content."""

    file: Path
    title: str
    date: dt.date
    entries: tuple[Entry, ...]
    language: str | None = None
    number: int | None = None
    description: str | None = None
    intro: str | None = None
    outro: str | None = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)
    """Line and column of each value in the file, by field name (``entries[2].summary``)."""

    @property
    def stem(self) -> str:
        """The issue file's name without extension: the episode's output stem."""
        return self.file.stem

    def detected_language(self) -> str:
        """The issue's language, else the one its text is mostly written in (``zh-CN`` for
        Chinese, else ``en-US``: :func:`podcast.speech.languages.guess`)."""
        if self.language:
            return self.language
        return languages.guess(self.title + "".join(e.summary for e in self.entries))


def read_issue(doc: Document) -> Issue | None:
    """Check and convert a parsed issue document; problems are collected in *doc*."""
    r = Reader(doc)
    if not isinstance(doc.data, dict):
        doc.add((), "an issue file must be a mapping with title, date and entries")
        return None
    r.known_keys((), ISSUE_KEYS)
    title = r.string(("title",), required=True)
    date = r.date(("date",), required=True)
    language = r.language(("language",))
    number = r.integer(("number",), minimum=0)
    description = r.string(("description",))
    intro = r.string(("intro",))
    outro = r.string(("outro",))
    entries: list[Entry] = []
    items = r.sequence(("entries",), required=True)
    if items is not None and not items:
        doc.add(("entries",), "must list at least one entry")
    for i, item in enumerate(items or []):
        entry = _read_entry(r, i, item)
        if entry is not None:
            entries.append(entry)
    if title is None or date is None or not entries:
        return None
    return Issue(file=doc.file, title=title, date=date, entries=tuple(entries), language=language,
                 number=number, description=description, intro=intro, outro=outro,
                 positions={field_name(k): v for k, v in doc.marks.items()})


def _read_entry(r: Reader, i: int, item: Any) -> Entry | None:
    path = ("entries", i)
    if r.mapping(path) is None:
        if item is None:
            r.doc.add(path, "empty entry: needs at least title and summary")
        return None
    for key in item:
        close = _close_to_known(key)
        if close:
            r.doc.add((*path, key), f"unknown field (did you mean {close!r}?); "
                      "extra fields are passed to templates", severity="warning", at_key=True)
    title = r.string((*path, "title"), required=True)
    summary = r.string((*path, "summary"), required=True)
    url = r.url((*path, "url"))
    org = r.string((*path, "org"))
    name = r.string((*path, "name"))
    voice = _read_voice(r, (*path, "voice"))
    extra = {k: v for k, v in item.items() if k not in ENTRY_KEYS}
    if title is None or summary is None:
        return None
    line, column = r.doc.where(path)
    return Entry(title=title, summary=summary, url=url, org=org, name=name, fields=extra, line=line,
                 column=column, voice=voice)


def _read_voice(r: Reader, path: tuple[str | int, ...]) -> VoiceOverride | None:
    """``voice: {rate: "+10%", edge: zh-CN-XiaoxiaoNeural, espeak: {name: cmn, pitch: "+5Hz"}}``."""
    table = r.mapping(path)
    if table is None:
        if r.has(path) and isinstance(r.raw(path), str):
            r.doc.add(path, "must be a mapping: prosody (rate, pitch, volume) and/or a voice per "
                      "engine, like {edge: zh-CN-XiaoxiaoNeural}")
        return None
    prosody: dict[str, str] = {}
    names: list[tuple[str, str]] = []
    per_engine: list[tuple[str, str, str]] = []
    from podcast.engines import registry

    engines = registry.names()
    for key in table:
        if key not in _PROSODY and key not in engines:
            hint = did_you_mean(key, [*_PROSODY, *engines])
            r.doc.add((*path, key), f"unknown field{hint}; use rate, pitch, volume or an engine name",
                      at_key=True)
    for key, value in table.items():
        if key in _PROSODY:
            text = r.string((*path, key))
            if text is not None and _valid_prosody(r, (*path, key), key, text):
                prosody[key] = text
        elif key not in engines:
            continue
        elif isinstance(value, str):
            names.append((key, value.strip()))
        elif isinstance(value, dict):
            for sub in value:
                text = r.string((*path, key, sub))
                if text is None:
                    continue
                if sub == "name":
                    names.append((key, text))
                elif sub in _PROSODY:
                    if _valid_prosody(r, (*path, key, sub), sub, text):
                        per_engine.append((key, sub, text))
                else:
                    r.doc.add((*path, key, sub), "unknown field; use name, rate, pitch or volume",
                              at_key=True)
        else:
            r.doc.add((*path, key), "must be a voice name or a mapping with name/rate/pitch/volume")
    return VoiceOverride(rate=prosody.get("rate"), pitch=prosody.get("pitch"),
                         volume=prosody.get("volume"), names=tuple(names),
                         engine_prosody=tuple(per_engine))


def _valid_prosody(r: Reader, path: tuple[str | int, ...], key: str, text: str) -> bool:
    try:
        Voice("check", **{key: text})
    except ValueError as exc:
        r.doc.add(path, str(exc))
        return False
    return True


def _close_to_known(key: str) -> str | None:
    import difflib

    if key in ENTRY_KEYS:
        return None
    close = difflib.get_close_matches(key, ENTRY_KEYS, n=1, cutoff=0.75)
    return close[0] if close else None
