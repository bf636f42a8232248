"""Show notes: Markdown and HTML pages with the chapter list (mm:ss) and every entry's link.

Rendered from Jinja2 templates ``notes.md.j2`` and ``notes.html.j2``; a show's template
folder may override them. The HTML template is autoescaped; the Markdown template escapes
text with the ``md`` filter. Templates run in the sandbox (``templating``). Headings
(``labels.chapters``, ``labels.links``; also ``labels.intro``, ``labels.outro``) come from the
language table.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from podcast.input.issue import Issue
from podcast.input.show import PACKAGE_DIR, Show
from podcast.publish.chapters import Chapter
from podcast.script import templating
from podcast.speech.languages import language_for


@dataclass(frozen=True)
class Notes:
    """Rendered show notes."""

    markdown: str
    html: str


def timestamp(seconds: float) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on."""
    total = int(seconds + 0.5)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&~])")


def markdown_text(value: object) -> str:
    """*value* as literal Markdown text, for use inside a line: every character that could
    start markup there (emphasis, code, links, raw HTML, entities) is backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def render_notes(issue: Issue, show: Show, language: str, chapters: list[Chapter],
                 duration_s: float) -> Notes:
    """Markdown and HTML show notes for one episode."""
    folders = [show.templates] if show.templates else []
    folders.append(PACKAGE_DIR / "templates" / "notes")
    context: dict[str, Any] = {
        "issue": {"title": issue.title, "date": issue.date, "description": issue.description,
                  "language": language, "number": issue.number},
        "show": {"title": show.title or issue.title, "website": show.website, "author": show.author},
        "chapters": [{"title": c.title, "url": c.url, "start_s": c.start_s,
                      "timestamp": timestamp(c.start_s)} for c in chapters],
        "entries": [e.context() for e in issue.entries],
        "labels": dataclasses.asdict(language_for(language).labels),
        "duration": timestamp(duration_s),
    }
    out = []
    for name, escape in (("notes.md.j2", False), ("notes.html.j2", True)):
        env = templating.environment(folders, autoescape=escape)
        env.filters["md"] = markdown_text
        text = templating.render(env, name, context)
        out.append(text.rstrip() + "\n")
    return Notes(markdown=out[0], html=out[1])
