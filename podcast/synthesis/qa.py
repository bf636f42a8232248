"""Quality checks on a synthesized clip before it is accepted into the cache.

A clip is rejected when it is empty, silent, or implausibly short or long for its text: the
expected duration comes from a count of spoken units in any script (a Han character or a
Hangul syllable is one, a Latin word about one and a half; see :mod:`podcast.speech.units`,
calibrated per script on espeak's speech), scaled by the voice's rate. This catches a
service that silently truncates audio.
"""

from __future__ import annotations

import numpy as np

from podcast.engines.base import Clip, Request
from podcast.speech.units import native_scripts, spoken_units

MAX_UNITS_PER_S = 9.0
"""Faster than this (at normal rate) means audio is missing."""
MIN_UNITS_PER_S = 1.2
"""Slower than this (at normal rate) means something else was spoken, or padding."""
SILENT_PEAK = 0.01


def expected_range(request: Request) -> tuple[float, float]:
    """Shortest and longest plausible duration (seconds) for *request*: the shortest reads every
    script as words, the longest spells the letters of scripts its language does not read."""
    units = sum(spoken_units(s) for s in request.sentences)
    native = native_scripts(request.language)
    spelled = sum(spoken_units(s, native) for s in request.sentences)  # foreign letters spelled out
    speed = max(0.3, 1 + request.voice.rate_pct / 100)
    low = units / (MAX_UNITS_PER_S * speed)
    high = spelled / (MIN_UNITS_PER_S * speed) + 3.0
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
