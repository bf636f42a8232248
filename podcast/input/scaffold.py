"""``podcast new``: the next issue file of a show, from its skeleton, never overwriting.

The skeleton is the show's own ``skeleton.yaml`` when it has one, else the packaged
``skeleton.yaml.j2`` of its language's template set; the default episode title and the template
set come from the language table (:mod:`podcast.speech.languages`), the voices written into a
new ``show.yaml`` from the engines' defaults for the language.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import jinja2

from podcast.engines import registry
from podcast.errors import InputError, PodcastError, Problem, UsageError
from podcast.input.catalog import issue_date, issue_files, latest
from podcast.input.schema import FIRST_DATE, LAST_DATE
from podcast.input.show import PACKAGE_DIR, SHOW_FILE, Show, load_show
from podcast.speech.languages import language_for

SKELETON = "skeleton.yaml"
"""A show's own issue skeleton, beside its ``show.yaml``."""
PACKAGED_SKELETON = "skeleton.yaml.j2"
"""The issue skeleton in each packaged template set."""
# 2024-02-3: the third issue of February 2024 (a zero-padded 2024-02-03 is a date instead)
_MONTHLY = re.compile(r"^(\d{4})-(\d{2})-([1-9])$")


def next_issue(show_dir: Path, date: dt.date | None = None) -> tuple[Path, dt.date, int]:
    """File name, date and number of the issue after the newest one in *show_dir*."""
    newest = latest(show_dir)
    if date is None:
        last = issue_date(newest) if newest else None
        if last and not FIRST_DATE <= last <= LAST_DATE - dt.timedelta(days=7):
            raise UsageError(f"the newest issue, {newest}, is dated {last}: give the new one's date "
                             f"with --date (from {FIRST_DATE} to {LAST_DATE})")
        date = last + dt.timedelta(days=7) if last else dt.date.today()
    for existing in issue_files(show_dir):
        if issue_date(existing) == date:
            raise PodcastError(f"{existing} is already the issue for {date}; not writing another")
    monthly = [p for p in issue_files(show_dir) if _MONTHLY.match(p.stem)]
    if monthly:
        same_month = [int(p.stem.rsplit("-", 1)[1]) for p in monthly if p.stem.startswith(f"{date:%Y-%m}-")]
        number = max(same_month, default=0) + 1
        return show_dir / f"{date:%Y-%m}-{number}.yaml", date, number
    return show_dir / f"{date.isoformat()}.yaml", date, len(issue_files(show_dir)) + 1


def new_issue(show_dir: Path, date: dt.date | None = None,
              language: str | None = None) -> tuple[Path, Path | None]:
    """Write the next issue file of *show_dir* from its skeleton.

    A folder that does not exist yet is created with a commented ``show.yaml`` to fill in.
    Returns the issue's path and the new show file's path (None when it already existed).
    """
    if show_dir.exists() and not show_dir.is_dir():
        raise PodcastError(f"{show_dir} is not a folder")
    if language is not None and not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*", language):
        raise InputError([Problem(show_dir, 1, 1, "--language",
                                  f"must be a BCP 47 tag like zh-CN or en-US, got {language!r}")])
    show_file = show_dir / SHOW_FILE
    created = None
    if not show_file.is_file():
        show_dir.mkdir(parents=True, exist_ok=True)
        lang = language or "en-US"
        _create(show_file, _render_show(lang, show_dir.resolve().name))
        created = show_file
    show = load_show(show_file)
    path, date, number = next_issue(show_dir, date)
    if path.exists():
        raise PodcastError(f"{path} already exists; not overwriting it (pass another --date)")
    language = language or show.language or "en-US"
    skeleton = show_dir / SKELETON
    if skeleton.is_file():
        source = skeleton.read_text(encoding="utf-8")
    else:
        source = packaged_skeleton(language).read_text(encoding="utf-8")
    _create(path, _render(source, show, date, number, language))
    return path, created


def packaged_skeleton(language: str) -> Path:
    """The issue skeleton of *language*'s packaged template set."""
    return PACKAGE_DIR / "templates" / language_for(language).templates / PACKAGED_SKELETON


def _create(path: Path, text: str) -> None:
    """Write a new file atomically; fail rather than overwrite one that exists."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text, encoding="utf-8")
    try:
        os.link(tmp, path)  # atomic, and fails if the file appeared meanwhile: never overwrites
    except FileExistsError:
        raise PodcastError(f"{path} already exists; not overwriting it") from None
    finally:
        tmp.unlink()


_SHOW_SKELETON = """\
# Show settings: what stays the same every week. Every field is optional for building;
# `podcast feed` needs title, description, author and email. Paths are relative to this folder.
title: {title}
description: One or two sentences about the show.
author: Your Name
email: you@example.com              # the feed's owner address (not shown to listeners)
language: {language}
website: https://example.com/
category: Technology
explicit: false
# cover: cover.png                  # at least 1400x1400; default: the packaged cover
engine: edge                        # neural voices when the service is reachable...
fallback: espeak                    # ...and the offline engine otherwise
voices:
  edge: {edge_voice}
  espeak: {espeak_voice}
# music: {{intro: default, outro: default}}   # or a file of yours, or none
# lexicon: lexicon.yaml             # how to say names: see the README
"""


def _render_show(language: str, folder_name: str) -> str:
    return _SHOW_SKELETON.format(
        title=_quote(folder_name.replace("-", " ").title()), language=language,
        edge_voice=registry.get("edge").default_voice(language),
        espeak_voice=registry.get("espeak").default_voice(language))


def _render(source: str, show: Show, date: dt.date, number: int, language: str) -> str:
    """Fill a skeleton. Variables: ``show_title``, ``date``, ``number``, ``language`` and
    ``title`` (a default episode title, already quoted for YAML); filter ``quote``."""
    name = show.title or "My Show"
    title = language_for(language).episode_title.format(show=name, date=date, number=number)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["quote"] = _quote
    return env.from_string(source).render(show_title=name, date=date, number=number,
                                          language=language, title=_quote(title))


def _quote(value: object) -> str:
    """A YAML (JSON) string literal, keeping non-ASCII text readable."""
    return json.dumps(str(value), ensure_ascii=False)
