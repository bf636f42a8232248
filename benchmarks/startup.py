"""Startup: ``podcast --help`` and ``podcast validate``: wall time, heavy modules, import time."""

from __future__ import annotations

import re
import subprocess
import sys

from benchmarks.harness import (
    ROOT,
    SAMPLE_DIR,
    SAMPLE_NAME,
    Json,
    add,
    clean_env,
    podcast_cmd,
    run_measured,
    runs,
)
from podcast.testing.startup import loaded

LIBESPEAK = "libespeak-ng.so (loaded)"
"""Stands for the espeak-ng shared library being mapped into the process."""
HEAVY = ("numpy", "edge_tts", "aiohttp", "mutagen", "imageio_ffmpeg", "espeakng_loader",
         "podcast.engines.espeak", "podcast.audio.ffmpeg", LIBESPEAK)
"""What the commands are checked for (reported)."""
AUDIO_TTS = ("numpy", "edge_tts", "aiohttp", "mutagen", "imageio_ffmpeg", "podcast.audio.ffmpeg", LIBESPEAK)
"""The audio/TTS libraries of the target (as tests/test_startup.py has it: ``espeakng_loader`` only
locates espeak's files and the engine modules check voice names without loading their library)."""
COMMANDS = {"--help": ["--help"], "validate": ["validate", str(SAMPLE_DIR / SAMPLE_NAME)]}
def imported(args: list[str]) -> tuple[set[str], float]:
    """Modules ``podcast ARGS`` has loaded when done (with :data:`LIBESPEAK` when the espeak library
    is mapped), and its total import time in seconds (``python -X importtime``)."""
    found, libespeak = loaded(args, ROOT, clean_env())
    modules = found | ({LIBESPEAK} if libespeak else set())
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "podcast", *args], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, check=True)
    total_us = sum(int(m.group(1)) for line in proc.stderr.splitlines()
                   if (m := re.match(r"import time:\s+(\d+)\s+\|", line)))
    return modules, total_us / 1e6


def heavy_in(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of *names* (or their submodules) are in *modules*."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


def run(repeat: int) -> list[Json]:
    """Each command: its wall times, import time, the heavy and the audio/TTS modules it loads."""
    results = []
    for name, args in COMMANDS.items():
        modules, import_s = imported(args)
        times = runs()
        for _ in range(repeat):
            add(times, run_measured(podcast_cmd(*args), clean_env(), cwd=ROOT))
        results.append({"command": name, **times, "import_s": import_s, "heavy": heavy_in(modules, HEAVY),
                        "audio_tts": heavy_in(modules, AUDIO_TTS)})
    return results
