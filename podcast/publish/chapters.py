"""Chapters and tags: ID3v2.4 CHAP frames with an ordered top-level CTOC, text tags and cover
art (mutagen), and the Podcasting 2.0 chapters JSON that must agree with them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from podcast.speech.languages import language_for

if TYPE_CHECKING:  # chapters are planned before any audio exists; mutagen only tags the MP3
    from podcast.audio.timeline import Mix
    from podcast.script.render import Script

_NO_OFFSET = 0xFFFFFFFF
MAX_TOC_ENTRIES = 255
"""Entries one CTOC frame can list (ID3v2 chapters: an 8-bit count)."""


@dataclass(frozen=True)
class Chapter:
    """A chapter of the episode; times in seconds."""

    id: str
    title: str
    start_s: float
    end_s: float
    url: str | None = None


@dataclass(frozen=True)
class Tags:
    """Text tags and cover art for the MP3."""

    title: str
    album: str
    artist: str
    date: str
    language: str
    description: str = ""
    cover: Path | None = None


def chapters_for(script: Script, mix: Mix) -> list[Chapter]:
    """One chapter per segment: the first starts at 0, each ends where the next starts."""
    out: list[Chapter] = []
    placements = {p.segment_id: p for p in mix.placements}
    starts = [0.0 if i == 0 else round(placements[s.id].start_s, 3)
              for i, s in enumerate(script.segments)]
    ends = [*starts[1:], round(mix.duration_s, 3)]
    for seg, start, end in zip(script.segments, starts, ends, strict=True):
        out.append(Chapter(seg.id, seg.chapter, start, end, seg.url))
    return out


def iso639_2(language: str) -> str:
    """Three-letter ISO 639-2 code for a BCP 47 tag (ID3 TLAN, COMM), from the language table."""
    return language_for(language).iso639_2


def write_id3(path: Path, tags: Tags, chapters: list[Chapter]) -> None:
    """Write an ID3v2.4 tag with text frames, cover, CHAP frames and a top-level CTOC."""
    from mutagen.id3 import (
        APIC,
        CHAP,
        COMM,
        CTOC,
        ID3,
        TALB,
        TCON,
        TDRC,
        TIT2,
        TLAN,
        TPE1,
        WXXX,
        CTOCFlags,
    )

    lang = iso639_2(tags.language)
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=[tags.title]))
    id3.add(TALB(encoding=3, text=[tags.album]))
    if tags.artist:
        id3.add(TPE1(encoding=3, text=[tags.artist]))
    id3.add(TDRC(encoding=3, text=[tags.date]))
    id3.add(TLAN(encoding=3, text=[lang]))
    id3.add(TCON(encoding=3, text=["Podcast"]))
    if tags.description:
        id3.add(COMM(encoding=3, lang=lang, desc="", text=[tags.description]))
    if tags.cover:
        mime = "image/png" if tags.cover.suffix.lower() == ".png" else "image/jpeg"
        id3.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=tags.cover.read_bytes()))
    for ch in chapters:
        sub: list[TIT2 | WXXX] = [TIT2(encoding=3, text=[ch.title])]
        if ch.url:
            sub.append(WXXX(encoding=3, desc="", url=ch.url))
        id3.add(CHAP(element_id=ch.id, start_time=round(ch.start_s * 1000),
                     end_time=round(ch.end_s * 1000), start_offset=_NO_OFFSET,
                     end_offset=_NO_OFFSET, sub_frames=sub))
    ids = [ch.id for ch in chapters]
    if len(ids) > MAX_TOC_ENTRIES:  # a CTOC counts its entries in one byte: nest ordered parts
        parts = [ids[i:i + MAX_TOC_ENTRIES] for i in range(0, len(ids), MAX_TOC_ENTRIES)]
        ids = [f"toc-{n}" for n in range(1, len(parts) + 1)]
        for part_id, part in zip(ids, parts, strict=True):
            id3.add(CTOC(element_id=part_id, flags=CTOCFlags.ORDERED, child_element_ids=part,
                         sub_frames=[]))
    id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                 child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=[tags.title])]))
    id3.save(str(path), v2_version=4, padding=lambda _info: 0)


def chapters_json(chapters: list[Chapter], title: str) -> str:
    """Podcasting 2.0 chapters document (version 1.2.0)."""
    doc = {
        "version": "1.2.0",
        "title": title,
        "chapters": [
            {"startTime": ch.start_s, "endTime": ch.end_s, "title": ch.title,
             **({"url": ch.url} if ch.url else {})}
            for ch in chapters
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
