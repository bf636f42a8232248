"""Fail points: a testing hook that kills this process at a named place in the pipeline.

Crash-safety tests set ``PODCAST_FAILPOINTS`` to a comma-separated list of point names; a
name alone means the first time that point is reached, ``name:N`` the N-th time. When a
listed point is reached the process sends itself SIGKILL: no cleanup, no ``finally``, just
like a power cut or the OOM killer. Unset (always, outside tests), :func:`hit` does nothing.

The points: ``clip-stored`` (a clip was stored in the cache), ``mixed`` (the episode is
mixed), ``encoded`` (the MP3 is complete in its staged file), ``staged`` (every output is
staged) and ``commit`` (between two moves of staged files into place).
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

ENV_VAR = "PODCAST_FAILPOINTS"

_hits: Counter[str] = Counter()
_lock = threading.Lock()


def hit(name: str) -> None:
    """Count a pass through point *name*; die at once if ``$PODCAST_FAILPOINTS`` asks for it."""
    spec = os.environ.get(ENV_VAR)
    if not spec:
        return
    with _lock:
        _hits[name] += 1
        count = _hits[name]
    for item in spec.split(","):
        point, _, nth = item.strip().partition(":")
        if point == name and count == (int(nth) if nth.strip().isdigit() else 1):
            os.kill(os.getpid(), signal.SIGKILL)
