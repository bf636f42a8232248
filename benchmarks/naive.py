"""The pipeline's job done the way a pydub script would do it (information, not a target).

    python -m benchmarks.naive KEYS_JSON OUT_MP3

The packaged intro music as an ``AudioSegment`` at the show's music volume; then for every cached
clip ``episode = episode + silence + clip`` (pydub converts each clip to 44.1 kHz stereo as it
appends, and copies the whole episode at each ``+``); the music tail as silence; the outro music
overlaid on the end; a gain to the loudness target from pydub's RMS level (no LUFS, no limiter);
``export`` to MP3. Prints the three parts' seconds as JSON: join, overlay + gain, export.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

RATE, CHANNELS, BITRATE = 44100, 2, "128k"
MUSIC_DB, TAIL_S, TARGET_LUFS = -6.0, 8.0, -16.0
"""The synthetic show's settings (:data:`benchmarks.assembly.SHOW_YAML`)."""


def main(keys_file: Path, out: Path) -> dict[str, float]:
    """Join, mix and export the clips listed in *keys_file*; the parts' seconds."""
    import imageio_ffmpeg
    import numpy as np

    import podcast
    from podcast.audio.ffmpeg import decode
    from podcast.infra.cache import ClipCache

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Couldn't find ffmpeg" (set below), audioop deprecation
        pydub = importlib.import_module("pydub")
    segment_cls = pydub.AudioSegment
    segment_cls.converter = imageio_ffmpeg.get_ffmpeg_exe()
    spec = json.loads(keys_file.read_text(encoding="utf-8"))
    cache = ClipCache(Path(spec["cache"]))
    assets = Path(podcast.__file__).parent / "assets"

    def music(name: str) -> Any:
        # pydub's from_file needs ffprobe, which imageio-ffmpeg does not ship: decode with the
        # pipeline's own decoder and hand pydub 16-bit PCM
        pcm = np.clip(np.round(decode(assets / name, RATE, CHANNELS) * 32767), -32768, 32767).astype("<i2")
        return segment_cls(data=pcm.tobytes(), sample_width=2, frame_rate=RATE,
                           channels=CHANNELS).apply_gain(MUSIC_DB)

    started = time.perf_counter()
    episode, outro = music("intro.mp3"), music("outro.mp3")
    for key in spec["keys"]:
        clip = cache.get(key)
        if clip is None:
            raise RuntimeError(f"clip {key} missing")
        seg = segment_cls(data=clip.samples.tobytes(), sample_width=2, frame_rate=clip.sample_rate,
                          channels=1)
        episode = episode + segment_cls.silent(duration=spec["gap_ms"], frame_rate=RATE) + seg
    episode = episode + segment_cls.silent(duration=round(TAIL_S * 1000), frame_rate=RATE)
    joined = time.perf_counter()
    episode = episode.overlay(outro, position=max(0, len(episode) - len(outro)))
    episode = episode.apply_gain(TARGET_LUFS - episode.dBFS)
    mixed = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        episode.export(str(out), format="mp3", bitrate=BITRATE,
                       parameters=["-ar", str(RATE), "-ac", str(CHANNELS)])
    done = time.perf_counter()
    return {"join_s": joined - started, "mix_s": mixed - joined, "export_s": done - mixed,
            "duration_s": len(episode) / 1000}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
