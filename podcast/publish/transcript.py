"""Timed transcripts (WebVTT and SRT) from the sentence timings of the assembled episode.

Each sentence is shown as written (not as normalized for speech). A sentence too long for
two subtitle lines is cut at clause punctuation (or, failing that, at a line's width) and its
time shared among the pieces by length. Cues never overlap and stay inside the audio.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from podcast.audio.timeline import Cue

_CLAUSE = re.compile(r"(?<=[，、；：,;:—])")
_CJK_LINE = 20  # characters per line for Chinese and Japanese text
_LATIN_LINE = 42


@dataclass(frozen=True)
class Caption:
    """One subtitle cue: at most two lines."""

    start_s: float
    end_s: float
    lines: tuple[str, ...]


def _width(text: str) -> float:
    """Display width in Latin-line units: wide (CJK) characters count double."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.0 for ch in text)


def _line_width(text: str) -> float:
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return float(_CJK_LINE * 2) if wide * 2 > len(text) else float(_LATIN_LINE)


_CLOSING = set("，。、；：！？）」』”’,.;:!?)]}%")
_CLAUSE_END = set("，。、；：！？,.;:!?—")


def _allowed(text: str, i: int) -> bool:
    """May a line break go before ``text[i]``? Not inside a Latin word or number, and never
    before closing punctuation or a combining mark (a Thai tone mark, a Devanagari vowel sign)."""
    if i <= 0 or i >= len(text):
        return False
    left, right = text[i - 1], text[i]
    if right in _CLOSING or unicodedata.category(right)[0] == "M":
        return False
    return not (left.isascii() and left.isalnum() and right.isascii() and right.isalnum())


def _preferred(text: str, i: int) -> bool:
    return text[i - 1] in _CLAUSE_END or text[i - 1].isspace() or text[i].isspace()


def split_long(text: str, width: float) -> list[str]:
    """Cut *text* into balanced pieces of at most two lines (``2 * width``), at good places."""
    text = text.strip()
    total = _width(text)
    if total <= 2 * width:
        return [text] if text else []
    target = total / math.ceil(total / (2 * width))
    best: tuple[float, int] | None = None
    for i in range(1, len(text)):
        left = _width(text[:i])
        if left > 2 * width:
            break
        if not _allowed(text, i):
            continue
        score = abs(left - target) - (width / 2 if _preferred(text, i) else 0)
        if best is None or score < best[0]:
            best = (score, i)
    cut = best[1] if best else _fit(text, 2 * width)
    return [text[:cut].strip(), *split_long(text[cut:], width)]


def _nice(text: str, width: float) -> bool:
    """Does *text* fit one line, or two lines broken at clause punctuation or a space?"""
    if _width(text) <= width:
        return True
    total = _width(text)
    return any(_allowed(text, i) and _preferred(text, i) and _width(text[:i]) <= width
               and total - _width(text[:i]) <= width for i in range(1, len(text)))


def two_lines(text: str, width: float) -> list[str]:
    """*text* (at most ``2 * width``) as one line, or two balanced lines broken at a good place."""
    if _width(text) <= width:
        return [text]
    total = _width(text)
    best: tuple[float, int] | None = None
    for i in range(1, len(text)):
        left = _width(text[:i])
        if left > width:
            break
        if total - left > width or not _allowed(text, i):
            continue
        score = abs(2 * left - total) - (width / 2 if _preferred(text, i) else 0)
        if best is None or score < best[0]:
            best = (score, i)
    cut = best[1] if best else _fit(text, width)
    return [text[:cut].strip(), text[cut:].strip()]


def _fit(text: str, width: float) -> int:
    used = 0.0
    for i, ch in enumerate(text):
        used += _width(ch)
        if used > width:
            return max(1, i)
    return len(text)


def pieces(sentence: str) -> list[list[str]]:
    """*sentence* cut into cues of at most two lines each (as lists of lines)."""
    width = _line_width(sentence)
    spaced = " " in sentence
    cues: list[str] = []
    current = ""
    for clause in (c.strip() for c in _CLAUSE.split(sentence)):
        if not clause:
            continue
        joined = f"{current} {clause}" if current and spaced else current + clause
        if _width(joined) <= 2 * width and (not current or _nice(joined, width)):
            current = joined
            continue
        if current:
            cues.append(current)
        parts = split_long(clause, width)
        cues.extend(parts[:-1])
        current = parts[-1] if parts else ""
    if current:
        cues.append(current)
    return [two_lines(c, width) for c in cues]


def captions(cues: list[Cue], duration_s: float) -> list[Caption]:
    """Subtitle cues for the sentence *cues*, in order, non-overlapping, inside the audio."""
    out: list[Caption] = []
    for cue in cues:
        groups = pieces(cue.text)
        if not groups:
            continue
        start = max(cue.start_s, out[-1].end_s if out else 0.0)
        end = min(max(cue.end_s, start + 0.001), duration_s)
        total = sum(_width("".join(g)) for g in groups) or 1.0
        t = start
        for g in groups:
            share = (end - start) * _width("".join(g)) / total
            out.append(Caption(round(t, 3), round(min(end, t + share), 3), tuple(g)))
            t += share
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _blocks(caps: list[Caption], sep: str, text: Callable[[str], str] = str) -> list[str]:
    return [f"{i}\n{_stamp(c.start_s, sep)} --> {_stamp(c.end_s, sep)}\n"
            + "\n".join(text(line) for line in c.lines) + "\n" for i, c in enumerate(caps, start=1)]


def vtt_text(line: str) -> str:
    """Cue text escaped for WebVTT, where ``&``, ``<`` and ``>`` would start markup."""
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(caps: list[Caption]) -> str:
    """A WebVTT document (text shown literally: markup characters are escaped)."""
    return "\n".join(["WEBVTT\n", *_blocks(caps, ".", vtt_text)])


def to_srt(caps: list[Caption]) -> str:
    """A SubRip document."""
    return "\n".join(_blocks(caps, ","))
