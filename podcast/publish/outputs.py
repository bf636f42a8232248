"""The files a build publishes for an episode: one table of output kinds, and the manifest.

Each row of the table (:func:`kinds`) is one file beside the MP3: its suffix after the issue's
stem, its media type, how the feed links it, and how it is rendered from the one gathered
:class:`Episode` record. The build writes every row, the manifest lists every row, the feed
links the rows it has a place for; a new output is a new row (:func:`register`).

The manifest ``.podcast/<stem>.json`` proves a set of outputs complete: the fingerprint of the
inputs, the build report, and each output's SHA-256. It is staged last, so it is moved into
place last. This module is the only one that reads or writes it.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podcast.infra.atomic import Outputs
from podcast.publish.chapters import Chapter, Tags, chapters_for, chapters_json, write_id3
from podcast.publish.notes import Notes, render_notes
from podcast.publish.transcript import Caption, captions, to_srt, to_vtt

if TYPE_CHECKING:
    from podcast.audio.timeline import Mix
    from podcast.input.issue import Issue
    from podcast.input.project import Project
    from podcast.input.show import Show

MANIFEST_DIR = ".podcast"
"""Folder (inside the output folder) holding one manifest per episode."""


@dataclass(frozen=True)
class Episode:
    """Everything an episode's files are rendered from, gathered once the audio is laid out."""

    issue: Issue
    show: Show
    language: str
    """The episode's BCP 47 language tag (the script's)."""
    chapters: tuple[Chapter, ...]
    captions: tuple[Caption, ...]
    """Timed transcript cues, at most two lines each."""
    duration_s: float

    @property
    def stem(self) -> str:
        """The issue file's stem: every output's name starts with it."""
        return self.issue.stem

    @functools.cached_property
    def notes(self) -> Notes:
        """The show notes (Markdown and HTML), rendered once for both files."""
        return render_notes(self.issue, self.show, self.language, list(self.chapters), self.duration_s)

    @property
    def tags(self) -> Tags:
        """The MP3's ID3 text tags and cover."""
        show, issue = self.show, self.issue
        return Tags(title=issue.title, album=show.title or issue.title, artist=show.author,
                    date=issue.date.isoformat(), language=self.language,
                    description=issue.description or show.description,
                    cover=show.cover if show.cover and show.cover.is_file() else None)


def gather(project: Project, mix: Mix) -> Episode:
    """The record of *project*'s episode once its audio is laid out in *mix*: chapters from the
    segments' places, captions from the sentence timings."""
    return Episode(project.issue, project.show, project.script.language,
                   tuple(chapters_for(project.script, mix)),
                   tuple(captions([c for p in mix.placements for c in p.cues], mix.duration_s)),
                   mix.duration_s)


class FeedRole(enum.Enum):
    """How the podcast feed links an output of an item."""

    ENCLOSURE = "enclosure"
    """The audio itself (``<enclosure>``)."""
    CHAPTERS = "chapters"
    """``<podcast:chapters>``."""
    TRANSCRIPT = "transcript"
    """``<podcast:transcript rel="captions">``, one per transcript kind, in table order."""
    PAGE = "page"
    """The item's ``<link>``, and its description (the page's ``<article>``)."""


@dataclass(frozen=True)
class OutputKind:
    """One row of the output table."""

    suffix: str
    """After the issue's stem: ``.vtt`` names ``2024-02-3.vtt``."""
    media_type: str
    render: Callable[[Episode], str] | None
    """The file's text, from the gathered record; None only for the audio, which the encoder
    writes and :func:`tag_audio` tags."""
    feed: FeedRole | None = None
    """Where the feed links it (None: not in the feed)."""

    def file(self, out: Path, stem: str) -> Path:
        """This kind's file for episode *stem* in folder *out*."""
        return out / f"{stem}{self.suffix}"


def _captions(render: Callable[[list[Caption]], str]) -> Callable[[Episode], str]:
    return lambda episode: render(list(episode.captions))


AUDIO = OutputKind(".mp3", "audio/mpeg", None, FeedRole.ENCLOSURE)
"""The episode's MP3: the first output staged, so the first moved into place."""

_TABLE: list[OutputKind] = [
    AUDIO,
    OutputKind(".chapters.json", "application/json+chapters",
               lambda e: chapters_json(list(e.chapters), e.issue.title), FeedRole.CHAPTERS),
    OutputKind(".vtt", "text/vtt", _captions(to_vtt), FeedRole.TRANSCRIPT),
    OutputKind(".srt", "application/x-subrip", _captions(to_srt), FeedRole.TRANSCRIPT),
    OutputKind(".md", "text/markdown", lambda e: e.notes.markdown),
    OutputKind(".html", "text/html", lambda e: e.notes.html, FeedRole.PAGE),
]


def kinds() -> tuple[OutputKind, ...]:
    """Every output kind, in the order the build stages (and so moves) them: the audio first."""
    return tuple(_TABLE)


def register(kind: OutputKind) -> None:
    """Add an output kind (rendered from the record) after the built-in ones."""
    if kind.render is None:
        raise ValueError("a new output kind must render from the episode record")
    if any(k.suffix == kind.suffix for k in _TABLE):
        raise ValueError(f"an output kind with suffix {kind.suffix!r} exists already")
    _TABLE.append(kind)


def unregister(suffix: str) -> None:
    """Remove the output kind with *suffix* added by :func:`register` (built-ins stay)."""
    _TABLE[:] = [k for k in _TABLE if k.suffix != suffix or k is AUDIO]


def with_role(role: FeedRole) -> list[OutputKind]:
    """The kinds the feed links as *role*, in table order."""
    return [k for k in _TABLE if k.feed is role]


def output_dir(project: Project, out: Path | None = None) -> Path:
    """Where an episode's files go: *out* (``--out``), else the show's ``output.dir``, else
    ``audio/<show folder>`` under the current folder."""
    if out:
        return out
    if project.show.output.dir:
        return project.show.output.dir
    return Path("audio") / project.show_name


def tag_audio(mp3: Path, episode: Episode) -> None:
    """Write the ID3 tags and chapters of *episode* into the encoded *mp3*."""
    write_id3(mp3, episode.tags, list(episode.chapters))


def stage_sidecars(outputs: Outputs, out: Path, episode: Episode) -> None:
    """Stage every rendered output kind of *episode* for folder *out*, in table order."""
    for kind in _TABLE:
        if kind.render is not None:
            outputs.write_text(kind.file(out, episode.stem), kind.render(episode))


# --- the manifest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """A build's manifest, as read back."""

    path: Path
    fingerprint: str
    report: dict[str, Any]
    """The build report as stored (``BuildReport.as_json``)."""
    outputs: dict[str, str]
    """Each output's file name → its SHA-256."""
    duration_s: float
    """The episode's duration, from the report."""

    @property
    def folder(self) -> Path:
        """The output folder the manifest speaks for."""
        return self.path.parent.parent

    def files(self) -> list[Path]:
        """The outputs it lists, in the order they were written."""
        return [self.folder / name for name in self.outputs]


def manifest_path(out: Path, stem: str) -> Path:
    """Where the manifest of episode *stem* in folder *out* lives."""
    return out / MANIFEST_DIR / f"{stem}.json"


def episode_files(out: Path, stem: str) -> list[Path]:
    """Every file a build of *stem* writes into *out*, in the order it moves them: the
    manifest last."""
    return [kind.file(out, stem) for kind in _TABLE] + [manifest_path(out, stem)]


def stage_manifest(outputs: Outputs, out: Path, stem: str, fingerprint: str,
                   report: dict[str, object]) -> None:
    """Stage the manifest of every file staged in *outputs* so far (stage it last)."""
    staged = outputs.staged()
    outputs.write_text(manifest_path(out, stem), json.dumps({
        "fingerprint": fingerprint, "report": report,
        "outputs": {path.name: file_sha256(tmp) for path, tmp in staged.items()},
    }, indent=2, ensure_ascii=False) + "\n")


def read_manifest(out: Path, stem: str) -> Manifest | None:
    """The manifest of *stem* in *out*, or None when there is none or it does not parse."""
    path = manifest_path(out, stem)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        report = dict(data["report"])
        return Manifest(path, str(data["fingerprint"]), report,
                        {str(k): str(v) for k, v in data["outputs"].items()}, float(report["duration_s"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def built(out: Path, stem: str) -> Manifest | None:
    """The manifest of a complete episode *stem* in *out* (every output it lists is there;
    their contents are not hashed), else None."""
    manifest = read_manifest(out, stem)
    if manifest is None or not all(p.is_file() for p in manifest.files()):
        return None
    return manifest


def up_to_date(out: Path, stem: str, fingerprints: set[str]) -> Manifest | None:
    """The manifest of *stem* in *out* when it matches one of *fingerprints*, lists exactly the
    kinds of the table and every output is still there, byte for byte; else None."""
    manifest = read_manifest(out, stem)
    if manifest is None or manifest.fingerprint not in fingerprints:
        return None
    if sorted(manifest.outputs) != sorted(kind.file(out, stem).name for kind in _TABLE):
        return None
    for path, digest in zip(manifest.files(), manifest.outputs.values(), strict=True):
        if not path.is_file() or file_sha256(path) != digest:
            return None
    return manifest


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
