"""A plugin engine for fault tests: real espeak underneath, with a fault on requests that say
:data:`MARKER`.

The fault is the ``fault`` argument, else ``$PODCAST_TEST_FAULT`` (for builds in another
process, which find the engine through an entry point):

* ``hang``: never answers (sleeps);
* ``hang-once``: hangs the first time only (across processes, remembered in a file beside the log);
* ``crash``: kills its own process with SIGSEGV, as a crash in a C library would;
* ``raise``: raises an ordinary exception;
* empty: no fault.

Every call is logged as ``<pid>\\t<text>`` to the ``log`` argument, else ``$PODCAST_TEST_FAULT_LOG``.
The version does not depend on the fault, so clips made with and without one share the cache.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from pathlib import Path
from typing import Any

from podcast.engines.base import Clip, LocalEngine, Request, VoiceInfo
from podcast.engines.espeak import EspeakEngine

NAME = "faulty"
MARKER = "Zanzibar"
FAULT_ENV = "PODCAST_TEST_FAULT"
LOG_ENV = "PODCAST_TEST_FAULT_LOG"
FAULTS = ("hang", "hang-once", "crash", "raise")


class FaultyEngine(LocalEngine):
    """espeak, failing on requests that contain :data:`MARKER`."""

    name = NAME
    capabilities = EspeakEngine.capabilities
    letter_names = EspeakEngine.letter_names

    def __init__(self, fault: str | None = None, log: str | None = None, data_root: str | None = None,
                 **options: Any) -> None:
        self.configure(options)
        self.fault = os.environ.get(FAULT_ENV, "") if fault is None else fault
        if self.fault and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}")
        logged = os.environ.get(LOG_ENV) if log is None else log
        self.log = Path(logged) if logged else None
        self._inner = EspeakEngine(data_root)

    def worker_options(self) -> dict[str, Any]:
        return self._inner.worker_options()

    def version(self) -> str:
        return f"{NAME}/{self._inner.version()}"

    def default_voice(self, language: str) -> str:
        return self._inner.default_voice(language)

    def check_voice(self, voice: str) -> str | None:
        return self._inner.check_voice(voice)

    def voices(self) -> list[VoiceInfo]:
        return self._inner.voices()

    def synthesize_sync(self, request: Request) -> Clip:
        if self.log:
            with self.log.open("a", encoding="utf-8") as f:
                f.write(f"{os.getpid()}\t{request.text}\n")
        if MARKER in request.text:
            self._fail()
        return self._inner.synthesize_sync(request)

    def _fail(self) -> None:
        if self.fault == "hang-once" and self.log:
            flag = self.log.with_suffix(".hung")
            if not flag.exists():
                flag.touch()
                _hang()
        elif self.fault == "hang":
            _hang()
        elif self.fault == "crash":
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
            os.kill(os.getpid(), signal.SIGSEGV)
        elif self.fault == "raise":
            raise RuntimeError("the synthesizer fell over")


def _hang() -> None:
    while True:
        time.sleep(60)


def logged_calls(log: Path) -> list[tuple[int, str]]:
    """The (process id, text) of every call in *log*, oldest first."""
    if not log.exists():
        return []
    rows = [line.split("\t", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    return [(int(pid), text) for pid, text in rows]


def install_entry_point(site: Path) -> Path:
    """Make *site* a folder that, on ``PYTHONPATH``, offers this engine as an installed plugin."""
    info = site / "podcast_fault_engine-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: podcast-fault-engine\nVersion: 1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[podcast.engines]\n{NAME} = {__name__}:FaultyEngine\n",
                                           encoding="utf-8")
    return site
