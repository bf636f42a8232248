"""Templates to narration script: intro, one segment per entry (with its lead-in), outro.

Templates are Jinja2 files ``intro.j2``, ``transition.j2``, ``entry.j2`` and ``outro.j2``.
A show's own template folder overrides the packaged ones for its language by file name; which
packaged set a language gets, and its intro and outro chapter titles, come from the language
table (:mod:`podcast.speech.languages`).
Undefined variables are errors (``StrictUndefined``): a typo never becomes silent speech.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from podcast.engines.base import VoiceOverride
from podcast.errors import InputError, Problem, shown
from podcast.input.issue import Issue
from podcast.input.show import PACKAGE_DIR, Show
from podcast.script import templating
from podcast.speech.languages import language_for

TEMPLATE_NAMES = ("intro.j2", "transition.j2", "entry.j2", "outro.j2")
"""The narration templates every packaged set has (the language table names the set)."""


@dataclass(frozen=True)
class Segment:
    """One unit of narration, synthesized as a whole; one chapter of the episode."""

    id: str
    kind: str
    chapter: str
    text: str
    url: str | None = None
    entry: int | None = None
    voice: VoiceOverride | None = None


@dataclass(frozen=True)
class Script:
    """The ordered narration of an episode."""

    language: str
    segments: tuple[Segment, ...]

    def find(self, key: str) -> Segment | None:
        """A segment by id, 1-based index, or the start of its chapter title (case-insensitive)."""
        for seg in self.segments:
            if seg.id == key:
                return seg
        if key.isdigit() and 1 <= int(key) <= len(self.segments):
            return self.segments[int(key) - 1]
        needle = key.casefold()
        matches = [s for s in self.segments if s.chapter.casefold().startswith(needle)]
        return matches[0] if len(matches) == 1 else None


def environment(show: Show, language: str) -> jinja2.Environment:
    """The sandboxed environment: show templates first, then the packaged set for *language*."""
    folders = [show.templates] if show.templates else []
    folders.append(PACKAGE_DIR / "templates" / language_for(language).templates)
    return templating.environment(folders)


def render(issue: Issue, show: Show) -> Script:
    """Render *issue* with *show*'s templates into a :class:`Script`.

    Raises :class:`InputError` locating any template problem (template file and line).
    """
    too_long = limit_problems(issue, show)
    if too_long:
        raise InputError(too_long)
    language = issue.detected_language() if issue.language or not show.language else show.language
    env = environment(show, language)
    limit = 2 * show.limits.segment_chars + 10_000
    labels = language_for(language).labels
    entries = [_public(e.context()) for e in issue.entries]
    base = {
        "show": _public({"title": show.title or issue.title, "description": show.description,
                         "author": show.author, "language": language, "website": show.website}),
        "issue": _public({"title": issue.title, "date": issue.date, "number": issue.number,
                          "description": issue.description, "language": language}),
        "entries": entries,
    }
    problems: list[Problem] = []
    segments: list[Segment] = []
    intro = issue.intro or _render(env, "intro.j2", base, "intro", issue, problems, limit)
    segments.append(Segment("intro", "intro", labels.intro, intro))
    total = len(issue.entries)
    width = max(2, len(str(total)))
    for i, entry in enumerate(issue.entries, start=1):
        where = f"entries[{i}]"
        ctx = {**base, "entry": entries[i - 1], "index": i, "total": total,
               "first": i == 1, "last": i == total}
        transition = _render(env, "transition.j2", ctx, where, issue, problems, limit)
        text = _render(env, "entry.j2", {**ctx, "transition": transition}, where, issue, problems, limit)
        segments.append(Segment(f"entry-{i:0{width}d}", "entry", entry.title, text, entry.url, i,
                                entry.voice))
    outro = issue.outro or _render(env, "outro.j2", base, "outro", issue, problems, limit)
    segments.append(Segment("outro", "outro", labels.outro, outro))
    if problems:
        raise InputError(problems)
    for seg in segments:
        line = issue.entries[seg.entry - 1].line if seg.entry else 1
        if not seg.text.strip():
            problems.append(Problem(issue.file, line, 1, seg.id, "renders to empty narration"))
        elif len(seg.text) > show.limits.segment_chars:
            hint = _LIMIT_HINT.format(show.limits.segment_chars, "segment_chars")
            problems.append(Problem(issue.file, line, 1, seg.id,
                                    f"narration is {len(seg.text):,} characters; {hint}"))
    if problems:
        raise InputError(problems)
    return Script(language=language, segments=tuple(segments))


_LIMIT_HINT = "the limit is {0:,} (limits.{1} in show.yaml)"
_TEXT_FIELDS = ("title", "summary", "org", "name")


def limit_problems(issue: Issue, show: Show) -> list[Problem]:
    """Issue text that is over the show's limits, located at the field."""
    limits = show.limits
    out: list[Problem] = []
    segments = len(issue.entries) + 2
    if segments > limits.segments:
        line, column = issue.positions.get("entries", (1, 1))
        out.append(Problem(issue.file, line, column, "entries",
                           f"{len(issue.entries)} entries make {segments} segments; "
                           f"{_LIMIT_HINT.format(limits.segments, 'segments')}"))
    for key in ("intro", "outro"):
        text = getattr(issue, key)
        if text and len(text) > limits.segment_chars:
            line, column = issue.positions.get(key, (1, 1))
            out.append(Problem(issue.file, line, column, key, f"is {len(text):,} characters; "
                               f"{_LIMIT_HINT.format(limits.segment_chars, 'segment_chars')}"))
    for i, entry in enumerate(issue.entries, start=1):
        for key in _TEXT_FIELDS:
            text = getattr(entry, key)
            if text and len(text) > limits.segment_chars:
                line, column = issue.positions.get(f"entries[{i}].{key}", (entry.line, entry.column))
                out.append(Problem(issue.file, line, column, f"entries[{i}].{key}",
                                   f"is {len(text):,} characters; "
                                   f"{_LIMIT_HINT.format(limits.segment_chars, 'segment_chars')}"))
    return out


def _public(values: dict[str, Any]) -> dict[str, Any]:
    """Drop unset values so that templates see them as undefined, not as ``None``."""
    return {k: v for k, v in values.items() if v is not None}


def _render(env: jinja2.Environment, name: str, ctx: dict[str, Any], where: str, issue: Issue,
            problems: list[Problem], limit: int) -> str:
    try:
        text = templating.render(env, name, ctx, limit)
        return " ".join(text.split()) if _spaced(ctx) else _squash(text)
    except jinja2.TemplateSyntaxError as exc:
        file = shown(Path(exc.filename)) if exc.filename else Path(name)
        problems.append(Problem(file, exc.lineno or 1, 1, f"template {name}",
                                f"syntax error: {exc.message}"))
    except templating.TemplateTooLarge as exc:
        file = shown(Path(exc.filename)) if exc.filename else Path(name)
        problems.append(Problem(file, 1, 1, f"template {name}", f"while rendering {where}: {exc.message}"))
    except jinja2.TemplateNotFound as exc:
        file, line = template_position(name)
        missing = exc.name or name
        if missing == name:  # the template itself: point at its file when there is one
            file = next((shown(Path(folder) / name) for folder in getattr(env.loader, "searchpath", [])
                         if (Path(folder) / name).is_symlink()), issue.file)
        reason = exc.message if exc.message and exc.message != missing else f"template {missing} not found"
        problems.append(Problem(file, line, 1, f"template {name}", reason))
    except Exception as exc:  # undefined variables, filters, type errors in expressions, ...
        file, line = template_position(name)
        message = getattr(exc, "message", None) or str(exc)
        problems.append(Problem(file, line, 1, f"template {name}", f"while rendering {where}: {message}"))
    return ""


def _spaced(ctx: dict[str, Any]) -> bool:
    return language_for(str(ctx["issue"].get("language", "en"))).spaced


def _squash(text: str) -> str:
    """Join template lines without adding spaces between Chinese characters."""
    parts = [p.strip() for p in text.splitlines() if p.strip()]
    out = ""
    for part in parts:
        if out and (out[-1].isascii() and part[0].isascii()):
            out += " "
        out += part
    return out


def template_position(name: str) -> tuple[Path, int]:
    """The template file and line of the innermost template frame of the exception being
    handled (``Path(name)``, line 1 when no template frame is found)."""
    frames = traceback.extract_tb(sys.exc_info()[2])
    for frame in reversed(frames):
        if frame.filename.endswith(".j2"):
            return shown(Path(frame.filename)), frame.lineno or 1
    return Path(name), 1
