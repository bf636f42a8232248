"""Quality checks on a synthesized clip before it is accepted into the cache.

A clip is rejected when it is empty, silent, or implausibly short or long for its text: the
expected duration comes from a count of spoken units (a CJK character is one syllable, a
Latin word about one and a half, a digit one), scaled by the voice's rate. This catches a
service that silently truncates audio.
"""

from __future__ import annotations

import re

import numpy as np

from podcast.engines.base import Clip, Request
from podcast.speech.symbols import CJK

_CJK = re.compile(f"[{CJK}]")
_WORD = re.compile(r"[A-Za-z]+")
_DIGIT = re.compile(r"\d")
MAX_UNITS_PER_S = 9.0
"""Faster than this (at normal rate) means audio is missing."""
MIN_UNITS_PER_S = 1.2
"""Slower than this (at normal rate) means something else was spoken, or padding."""
SILENT_PEAK = 0.01


def spoken_units(text: str) -> float:
    """A rough syllable count of *text* in any mix of Chinese and Latin script."""
    words = _WORD.findall(text)
    return (len(_CJK.findall(text)) + sum(max(1.0, len(w) / 3.0) for w in words)
            + len(_DIGIT.findall(text)))


def expected_range(request: Request) -> tuple[float, float]:
    """Shortest and longest plausible duration (seconds) for *request*."""
    units = sum(spoken_units(s) for s in request.sentences)
    speed = max(0.3, 1 + request.voice.rate_pct / 100)
    low = units / (MAX_UNITS_PER_S * speed)
    high = units / (MIN_UNITS_PER_S * speed) + 3.0
    return low, high


def check(clip: Clip, request: Request) -> str | None:
    """Why *clip* is not acceptable for *request*, or None when it is."""
    if clip.frames == 0:
        return "the clip is empty"
    peak = float(np.abs(clip.samples.astype(np.float32)).max()) / 32768.0
    if peak < SILENT_PEAK:
        return "the clip is silent"
    low, high = expected_range(request)
    seconds = clip.duration_s
    if seconds < low:
        return f"the clip is too short for its text ({seconds:.1f} s, expected at least {low:.1f} s)"
    if seconds > high:
        return f"the clip is too long for its text ({seconds:.1f} s, expected at most {high:.1f} s)"
    return None
