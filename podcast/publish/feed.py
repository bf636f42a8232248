"""The podcast feed: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, built with feedgen.

Every built episode of a show folder (one with a complete manifest) becomes an item: its show
notes page as the link and description, the MP3 as the enclosure (exact byte length), a GUID
derived only from the show folder and the issue file name (so it never changes), the issue date
as pubDate, and links to the chapters JSON and transcripts. Which file plays which part comes
from the output table (:mod:`podcast.publish.outputs`). Nothing depends on the clock:
``lastBuildDate`` is the newest episode's date, or ``$SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from podcast.errors import InputError, Problem, UsageError
from podcast.infra.atomic import Outputs, source_date_epoch
from podcast.input.catalog import issue_files
from podcast.input.project import Project, check
from podcast.input.show import Show, feed_problems
from podcast.publish.outputs import AUDIO, FeedRole, built, output_dir, with_role

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_PODCAST_GUID_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")  # from the namespace spec
_EPISODE_NS = uuid.UUID("5b8d2c5e-3f0a-4b7e-9c55-7f3f5f0d8a11")  # ours: episode GUIDs


class Podcast2(BaseExtension):  # type: ignore[misc]
    """Channel-level Podcasting 2.0 tags (``podcast:guid``)."""

    def __init__(self) -> None:
        self.guid: str | None = None
        self.explicit = False

    def extend_ns(self) -> dict[str, str]:
        """The namespace prefix."""
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        """Add the tags to the channel."""
        channel = rss_feed[0]
        if self.guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        # Apple's current spec wants true/false; feedgen only writes yes/no/clean
        for node in channel.findall(f"{{{ITUNES_NS}}}explicit"):
            node.text = "true" if self.explicit else "false"
        return rss_feed


class Podcast2Entry(BaseEntryExtension):  # type: ignore[misc]
    """Item-level Podcasting 2.0 tags: chapters and transcripts."""

    def __init__(self) -> None:
        self.chapters: list[tuple[str, str]] = []
        self.transcripts: list[tuple[str, str, str]] = []

    def extend_rss(self, entry: Any) -> Any:
        """Add the tags to the item."""
        for url, kind in self.chapters:
            xml_elem(f"{{{PODCAST_NS}}}chapters", entry).attrib.update({"url": url, "type": kind})
        for url, kind, language in self.transcripts:
            xml_elem(f"{{{PODCAST_NS}}}transcript", entry).attrib.update(
                {"url": url, "type": kind, "language": language, "rel": "captions"})
        return entry


@dataclass(frozen=True)
class BuiltEpisode:
    """A built episode, as the feed sees it."""

    project: Project
    folder: Path
    """The output folder holding its files."""
    size: int
    """The MP3's length in bytes."""
    duration_s: float
    notes_html: str

    @property
    def stem(self) -> str:
        """The issue file's stem (names every output)."""
        return self.project.issue.stem


def episode_guid(show_dir: Path, stem: str) -> str:
    """A GUID that depends only on the show folder's name and the issue file's stem."""
    return str(uuid.uuid5(_EPISODE_NS, f"{show_dir.resolve().name}/{stem}"))


def episodes(show_dir: Path, out: Path | None) -> tuple[Show | None, list[BuiltEpisode], list[str]]:
    """The show and its built episodes (newest first), and notes about issues left out."""
    show: Show | None = None
    found: list[BuiltEpisode] = []
    notes: list[str] = []
    for path in issue_files(show_dir):
        project, _ = check(path)
        if project is None:
            notes.append(f"{path}: has errors (run `podcast validate`), left out of the feed")
            continue
        show = show or project.show
        folder, stem = output_dir(project, out), project.issue.stem
        manifest = built(folder, stem)
        if manifest is None:
            notes.append(f"{path}: not built yet (no complete build in {folder}), left out of the feed")
            continue
        pages = [kind.file(folder, stem) for kind in with_role(FeedRole.PAGE)]
        found.append(BuiltEpisode(project, folder, AUDIO.file(folder, stem).stat().st_size,
                                  manifest.duration_s, _notes_fragment(pages[0]) if pages else ""))
    found.sort(key=lambda e: (e.project.issue.date, e.stem), reverse=True)
    return show, found, notes


def _notes_fragment(page: Path) -> str:
    try:
        html = page.read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r"<article>(.*)</article>", html, re.S) or re.search(r"<body>(.*)</body>", html, re.S)
    return (match.group(1) if match else html).strip()


def _when(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(0, 0), tzinfo=dt.UTC)


def base_for(base_url: str) -> str:
    """*base_url* as the prefix of every published file's URL (ending in ``/``), or UsageError
    unless it is an absolute http(s) URL with a host and no query or fragment (the file names
    are appended to it)."""
    parts = urlsplit(base_url.strip())
    problem = ("must be an http:// or https:// URL" if parts.scheme not in ("http", "https")
               else "has no host" if not parts.hostname
               else "must not have a query or a fragment: file names are appended to it"
               if parts.query or parts.fragment or base_url.rstrip().endswith(("?", "#")) else None)
    if problem:
        raise UsageError(f"--base-url {problem}, not {base_url!r}")
    return base_url.strip().rstrip("/") + "/"


def write_feed(show_dir: Path, base_url: str, out: Path | None = None) -> tuple[Path, list[str]]:
    """Write ``feed.xml`` (and the cover it points to) for *show_dir*; returns its path and notes."""
    base = base_for(base_url)
    show, items, notes = episodes(show_dir, out)
    if show is None or not items:
        raise InputError([Problem(show_dir, 1, 1, "(feed)", "no built episodes to put in a feed; "
                                  "run `podcast build` first")] if show else
                         [Problem(show_dir, 1, 1, "(feed)", "no valid issue files in this folder")])
    problems = feed_problems(show, show_dir)
    if problems:
        raise InputError(problems)
    def url(name: str) -> str:
        return base + quote(name)

    folder = items[0].folder
    language = items[0].project.script.language
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcast2", Podcast2, Podcast2Entry)
    fg.title(show.title)
    fg.description(show.description)
    fg.link(href=base + "feed.xml", rel="self")
    fg.link(href=show.website or base, rel="alternate")  # the last link is the RSS <link>
    fg.language(show.language or language)
    fg.author({"name": show.author, "email": show.email})
    fg.podcast.itunes_author(show.author)
    fg.podcast.itunes_owner(name=show.author, email=show.email)
    fg.podcast.itunes_category(show.category)
    fg.podcast.itunes_explicit("yes" if show.explicit else "no")
    fg.podcast.itunes_summary(show.description)
    fg.podcast2.explicit = show.explicit
    fg.podcast2.guid = str(uuid.uuid5(_PODCAST_GUID_NS, re.sub(r"^\w+://", "", base + "feed.xml")))
    cover_name = None
    if show.cover and show.cover.is_file():
        cover_name = f"cover{show.cover.suffix.lower()}"
        fg.image(url=url(cover_name), title=show.title, link=show.website or base)
        fg.podcast.itunes_image(url(cover_name))
    epoch = source_date_epoch()
    fg.lastBuildDate(dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None
                     else _when(items[0].project.issue.date))
    for item in reversed(items):  # feedgen lists entries newest-first when added oldest-first
        issue = item.project.issue
        entry = fg.add_entry()
        entry.title(issue.title)
        entry.guid(episode_guid(show_dir, item.stem), permalink=False)
        entry.pubDate(_when(issue.date))
        entry.description(item.notes_html or issue.description or issue.title)
        entry.enclosure(url(AUDIO.file(folder, item.stem).name), str(item.size), AUDIO.media_type)
        for page in with_role(FeedRole.PAGE):
            entry.link(href=url(page.file(folder, item.stem).name))
        entry.podcast.itunes_duration(round(item.duration_s))
        if issue.number is not None:
            entry.podcast.itunes_episode(issue.number)
        lang = item.project.script.language
        entry.podcast2.chapters = [(url(k.file(folder, item.stem).name), k.media_type)
                                   for k in with_role(FeedRole.CHAPTERS)]
        entry.podcast2.transcripts = [(url(k.file(folder, item.stem).name), k.media_type, lang)
                                      for k in with_role(FeedRole.TRANSCRIPT)]
    target = folder / "feed.xml"
    with Outputs() as outputs:
        outputs.stage(target).write_bytes(fg.rss_str(pretty=True))
        if cover_name and show.cover:
            shutil.copyfile(show.cover, outputs.stage(folder / cover_name))
        outputs.commit(mtime=epoch)
    return target, notes
