"""``podcast new``: the next issue file of a show, from its skeleton, never overwriting."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import jinja2

from podcast.errors import InputError, PodcastError, Problem
from podcast.input.catalog import issue_date, issue_files, latest
from podcast.input.show import SHOW_FILE, Show, load_show
from podcast.script.render import template_language

SKELETON = "skeleton.yaml"
# 2024-02-3: the third issue of February 2024 (a zero-padded 2024-02-03 is a date instead)
_MONTHLY = re.compile(r"^(\d{4})-(\d{2})-([1-9])$")
_DEFAULT = {
    "zh": """\
# {{ show_title }} · {{ date.year }}年{{ date.month }}月第{{ number }}期
# 每条新闻是一个条目（entry），也是节目里的一个章节。字段说明：
#   title    章节标题（必填）
#   summary  这一条的播报文字（必填）。需要停顿时写 [pause 800ms]
#   url      论文或新闻链接（http/https），会出现在节目简介里
#   org      发布机构；name：模型或论文名；其他字段都可以在模板里使用
title: {{ title }}
date: {{ date.isoformat() }}        # 发布日期 YYYY-MM-DD
language: {{ language }}
number: {{ number }}                 # 本月第几期（开场白会念出来）
description: 一句话介绍本期内容。     # 用于节目简介和标签
entries:
  - title: "模型名：一句话说明"
    org: 某某实验室
    name: 模型名
    summary: >-
      某某实验室的研究者推出了……（在这里写这一条的完整播报稿）
    url: https://arxiv.org/abs/0000.00000
""",
    "en": """\
# {{ show_title }} · {{ date.isoformat() }}
# Each entry is one news item and one chapter of the episode. Fields:
#   title    chapter title (required)
#   summary  what the host says about it (required); write [pause 800ms] for a pause
#   url      link to the paper or story (http/https), listed in the show notes
#   org      who made it; name: the model or paper; any other field is passed to templates
title: {{ title }}
date: {{ date.isoformat() }}        # publication date, YYYY-MM-DD
language: {{ language }}
number: {{ number }}                 # issue number (the intro says it)
description: One sentence about this episode.   # for show notes and tags
entries:
  - title: "Model name: what it does"
    org: Some Lab
    name: Model name
    summary: >-
      Researchers at Some Lab released ... (the full narration of this item)
    url: https://arxiv.org/abs/0000.00000
""",
}


def next_issue(show_dir: Path, date: dt.date | None = None) -> tuple[Path, dt.date, int]:
    """File name, date and number of the issue after the newest one in *show_dir*."""
    newest = latest(show_dir)
    if date is None:
        last = issue_date(newest) if newest else None
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
        source = _DEFAULT[template_language(language)]
    _create(path, _render(source, show, date, number, language))
    return path, created


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
    zh = template_language(language) == "zh"
    return _SHOW_SKELETON.format(
        title=_quote(folder_name.replace("-", " ").title()), language=language,
        edge_voice="zh-CN-YunxiNeural" if zh else "en-US-AndrewMultilingualNeural",
        espeak_voice="cmn" if zh else "en-us")


def _render(source: str, show: Show, date: dt.date, number: int, language: str) -> str:
    """Fill a skeleton. Variables: ``show_title``, ``date``, ``number``, ``language`` and
    ``title`` (a default episode title, already quoted for YAML); filter ``quote``."""
    name = show.title or "My Show"
    if template_language(language) == "zh":
        title = f"{name} {date.year}年{date.month}月第{number}期"
    else:
        title = f"{name}, {date:%B} {date.day}, {date.year}"
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["quote"] = _quote
    return env.from_string(source).render(show_title=name, date=date, number=number,
                                          language=language, title=_quote(title))


def _quote(value: object) -> str:
    """A YAML (JSON) string literal, keeping non-ASCII text readable."""
    return json.dumps(str(value), ensure_ascii=False)
