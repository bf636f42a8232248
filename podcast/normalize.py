"""Speech normalization: written narration to what the engine should say.

Pure functions from text to text. A segment's text is cut into *chunks* at explicit pauses
(``[pause 800ms]``) and into sentences; each sentence keeps its written form (for transcripts
and show notes) beside its spoken form (for the engine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAUSE_RE = re.compile(r"\[\s*pause\s+(\d+(?:\.\d+)?)\s*(ms|s)?\s*\]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[。！？；!?])(?![。！？；!?”’」』）)])|(?<=[.])(?=\s+\S)")
_SPACES = re.compile(r"\s+")
MAX_PAUSE_MS = 60_000


@dataclass(frozen=True)
class Chunk:
    """Narration between two explicit pauses: sentences as written and as spoken."""

    written: tuple[str, ...]
    spoken: tuple[str, ...]
    pause_after_ms: int = 0


def pause_ms(match: re.Match[str]) -> int:
    """Milliseconds of a ``[pause ...]`` marker (bare numbers are milliseconds)."""
    value = float(match.group(1))
    ms = value * 1000 if (match.group(2) or "ms").lower() == "s" else value
    return min(MAX_PAUSE_MS, round(ms))


def split_sentences(text: str) -> list[str]:
    """Sentences of *text*, split after Chinese and Western sentence punctuation."""
    flat = _SPACES.sub(" ", text).strip()
    if not flat:
        return []
    return [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]


def speak(sentence: str, language: str) -> str:
    """The spoken form of one written sentence."""
    return _SPACES.sub(" ", sentence).strip()


def chunks(text: str, language: str) -> list[Chunk]:
    """Cut *text* at pause markers and sentences; leading pauses are dropped."""
    out: list[Chunk] = []
    pos = 0
    pending: list[str] = []
    for match in PAUSE_RE.finditer(text):
        pending.append(text[pos:match.start()])
        written = split_sentences(" ".join(pending))
        pending = []
        if written:
            out.append(_chunk(written, language, pause_ms(match)))
        elif out:
            last = out[-1]
            out[-1] = Chunk(last.written, last.spoken, last.pause_after_ms + pause_ms(match))
        pos = match.end()
    written = split_sentences(text[pos:])
    if written:
        out.append(_chunk(written, language, 0))
    return out


def _chunk(written: list[str], language: str, pause: int) -> Chunk:
    spoken = [speak(s, language) for s in written]
    keep = [(w, s) for w, s in zip(written, spoken, strict=True) if s]
    return Chunk(tuple(w for w, _ in keep), tuple(s for _, s in keep), pause)
