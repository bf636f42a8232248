"""Requests below an engine's request limit: a chunk of narration cut where speech pauses anyway.

Sentences are packed into requests in order, as many as fit. A sentence that does not fit
in a request on its own is cut at clause punctuation (commas, semicolons, colons, dashes),
a clause that still does not fit at spaces, and a run with neither (a long stretch of
Chinese without a comma) at the character that keeps it below the limit. Each piece is
cut from the *written* sentence and spoken again, so that written and spoken forms stay
side by side (the transcript shows what each request said). Text within the limit is left
exactly as it was: the same requests, the same cache keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from podcast.engines.base import RequestLimit
from podcast.speech.normalize import Chunk

Say = Callable[[str], str]
"""The spoken form of a piece of written text (``normalize.speak`` with its settings)."""

_CLAUSE = re.compile(r"(?<=[，；：、—–…])|(?<=[,;:])(?=\s)")
"""After clause punctuation (ASCII only before a space: not inside ``1,000`` or ``12:30``)."""
_SPACE = re.compile(r"(?<=\s)(?=\S)")


def fit(chunk: Chunk, limit: RequestLimit | None, say: Say) -> list[Chunk]:
    """*chunk* as consecutive chunks that each fit in one request; its pause follows the last."""
    if limit is None or limit.fits(chunk.spoken):
        return [chunk]
    pairs: list[tuple[str, str]] = []
    for written, spoken in zip(chunk.written, chunk.spoken, strict=True):
        pairs += [(written, spoken)] if limit.fits((spoken,)) else _pieces(written, limit, say, 0)
    groups: list[list[tuple[str, str]]] = []
    for pair in pairs:
        if groups and limit.fits((*(s for _, s in groups[-1]), pair[1])):
            groups[-1].append(pair)
        else:
            groups.append([pair])
    return [Chunk(tuple(w for w, _ in group), tuple(s for _, s in group),
                  chunk.pause_after_ms if i == len(groups) - 1 else 0)
            for i, group in enumerate(groups)]


def _pieces(written: str, limit: RequestLimit, say: Say, level: int) -> list[tuple[str, str]]:
    """(written, spoken) pieces of one sentence, each within *limit*: cut at clause punctuation
    (level 0), then spaces (1), then anywhere (2)."""
    atoms = _atoms(written, level, limit, say)
    out: list[tuple[str, str]] = []
    current = ""
    for atom in atoms:
        joined = current + atom
        if current and not limit.fits((say(joined.strip()),)):
            out += _settle(current, limit, say, level)
            joined = atom
        current = joined
    if current:
        out += _settle(current, limit, say, level)
    return out


def _settle(text: str, limit: RequestLimit, say: Say, level: int) -> list[tuple[str, str]]:
    """*text* as one piece when it fits, else cut finer; pieces with nothing to say are dropped."""
    written = text.strip()
    spoken = say(written)
    if not spoken:
        return []
    if limit.fits((spoken,)) or level >= 2:
        return [(written, spoken)]
    return _pieces(written, limit, say, level + 1)


def _atoms(text: str, level: int, limit: RequestLimit, say: Say) -> list[str]:
    if level == 0:
        return [a for a in _CLAUSE.split(text) if a]
    if level == 1:
        return [a for a in _SPACE.split(text) if a]
    # no punctuation or space left: the longest runs of characters whose spoken form fits
    out: list[str] = []
    rest = text
    while rest:
        size = len(rest)
        while size > 1 and not limit.fits((say(rest[:size].strip()),)):
            size = max(1, size * 3 // 4)
        out.append(rest[:size])
        rest = rest[size:]
    return out
