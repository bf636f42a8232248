"""Loudness and encoding: every section of the episode is brought to the show's integrated
loudness and true-peak ceiling on its own, measured on its encoded MP3 (EBU R128 / ITU
BS.1770), and the sections' MP3 frames are joined.

For each section: its integrated loudness is measured, and it is encoded with the gain that
brings it to the target plus what the limiter and the encoder usually take away, while a
second ffmpeg measures the encoded frames as decoded. Only if they miss the target does a
corrected encode follow. A section's result depends on its audio and the settings alone
(checked: LAME wrote the frames the layout counted on), so it is cached
(:class:`podcast.infra.cache.SectionCache`): a rebuild re-encodes only the sections that changed,
and the sections are encoded in parallel, one per CPU. Segments at the same loudness make an
episode at that loudness; the episode's figures are computed from the sections' block values.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podcast.audio import ffmpeg
from podcast.audio.timeline import Mix, Section
from podcast.infra.cache import Encoded, SectionCache
from podcast.errors import AudioError
from podcast.report import Reporter, Silent
from podcast.input.show import Show

MAX_PASSES = 4
TOLERANCE_LU = 0.3
EXPECTED_LOSS_LU = 0.7
"""What the limiter and the MP3 encoder usually take away (espeak's voice at 128k: 0.6-0.8 LU);
the first encode makes up for it, a corrected one follows only when the result misses."""
HEADROOM_DB = 1.0
"""The limiter's first ceiling sits this far under the true-peak target (MP3 overshoot)."""


@dataclass(frozen=True)
class Settings:
    """What an encoded section depends on besides its ffmpeg."""

    integrated_lufs: float
    true_peak_db: float
    bitrate: str
    encoder: str

    def key(self, section_key: str) -> str:
        """The cache key of a section encoded with these settings."""
        payload = json.dumps([section_key, self.integrated_lufs, self.true_peak_db, self.bitrate,
                              self.encoder, MAX_PASSES, TOLERANCE_LU, HEADROOM_DB, EXPECTED_LOSS_LU])
        return hashlib.sha256(payload.encode()).hexdigest()


def workers() -> int:
    """Sections encoded at once: one per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class EncodeStats:
    """The work encoding an episode took, counted by the encoder."""

    sections: int
    cached: int
    """Sections read back from the section cache."""
    encoded: int
    """Sections encoded by this build."""
    passes: int
    """Encodes made: one per encoded section, plus a corrected one for each miss."""
    reencoded: int
    """Sections that missed the target on their first encode and were encoded again."""
    workers: int
    """Sections encoded at once (threads; 0 when every section came from the cache)."""
    busy_s: float
    """Time the workers spent on sections (measure, encodes, cache store), summed over threads."""
    measure_s: float
    """Of which measuring the sections before encoding, summed over threads."""
    encode_s: float
    """Of which encoding them while measuring the encoded frames, summed over threads."""
    span_s: float
    """Wall time from the first section started to the last one finished."""


@dataclass(frozen=True)
class Encoding:
    """An encoded episode's loudness as decoded, and what encoding it took."""

    loudness: ffmpeg.Loudness
    stats: EncodeStats


@dataclass(frozen=True)
class _Work:
    """What encoding one section took."""

    passes: int
    measure_s: float
    encode_s: float


def encode_normalized(episode: Mix, show: Show, path: Path, cache: SectionCache | None = None,
                      reporter: Reporter | None = None) -> Encoding:
    """Write the episode's MP3 frames to *path*; returns its loudness as decoded.

    Reports the ``encode`` stage with one item per section: those found in the cache first,
    then each encoded one as it is finished.
    """
    reporter = reporter or Silent()
    settings = Settings(show.loudness.integrated_lufs, show.loudness.true_peak_db, show.output.bitrate,
                        ffmpeg.ffmpeg_version())
    rate, channels = episode.sample_rate, episode.channels
    keys = [settings.key(s.key(rate, channels)) for s in episode.sections]
    reporter.stage("encode", len(keys))
    results: list[Encoded | None] = [cache.get(k) if cache else None for k in keys]
    todo = [i for i, r in enumerate(results) if r is None]
    threads = min(workers(), len(todo))
    reporter.note(f"encoding {len(todo)} of {len(keys)} sections "
                  f"({len(keys) - len(todo)} from the cache), {workers()} at a time")
    for i, result in enumerate(results):
        if result is not None:
            reporter.advance(f"section {i + 1}", cached=True)

    def job(i: int) -> tuple[Encoded, _Work, float, float]:
        started = time.perf_counter()
        done, work = encode_section(episode, episode.sections[i], settings)
        if cache:
            cache.put(keys[i], done, [p.key for p in episode.sections[i].clips])
        return done, work, started, time.perf_counter()

    works: list[tuple[_Work, float, float]] = []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        futures = {pool.submit(job, i): i for i in todo}
        try:
            for future in as_completed(futures):
                i = futures[future]
                results[i], work, started, ended = future.result()
                works.append((work, started, ended))
                reporter.advance(f"section {i + 1}")
        except BaseException:  # a section failed, or the build is stopped: start no other one
            pool.shutdown(cancel_futures=True)
            raise
    encoded = [r for r in results if r is not None]
    with path.open("wb") as out:
        out.write(ffmpeg.info_frame(encoded[0].mp3, episode.mp3_frames, sum(len(r.mp3) for r in encoded)))
        for result in encoded:
            out.write(result.mp3)
    span = max((e for _, _, e in works), default=0.0) - min((s for _, s, _ in works), default=0.0)
    stats = EncodeStats(len(keys), len(keys) - len(todo), len(todo), sum(w.passes for w, _, _ in works),
                        sum(1 for w, _, _ in works if w.passes > 1), threads,
                        sum(e - s for _, s, e in works), sum(w.measure_s for w, _, _ in works),
                        sum(w.encode_s for w, _, _ in works), span)
    return Encoding(combined([r.loudness for r in encoded]), stats)


def combined(parts: list[ffmpeg.BlockLoudness]) -> ffmpeg.Loudness:
    """The loudness of consecutive pieces from their block values."""
    momentary = [m for p in parts for m in p.momentary]
    integrated = ffmpeg.gated_loudness(momentary)
    if integrated == float("-inf"):
        raise AudioError("the episode is silent")
    return ffmpeg.Loudness(round(integrated, 1), max(p.true_peak_db for p in parts),
                          round(ffmpeg.loudness_range(s for p in parts for s in p.short_term), 1))


def encode_section(episode: Mix, section: Section, settings: Settings) -> tuple[Encoded, _Work]:
    """Encode one section at the target loudness, verified on the encoded frames."""
    rate, channels = episode.sample_rate, episode.channels
    voices = episode.voices(section)

    def pcm() -> Iterator[bytes]:
        for block in episode.render(section, voices):
            yield block.tobytes()

    target, ceiling = settings.integrated_lufs, settings.true_peak_db - HEADROOM_DB
    started = time.perf_counter()
    raw = ffmpeg.integrated_loudness(pcm(), rate, channels)
    measured = time.perf_counter()
    gain = target - raw + EXPECTED_LOSS_LU if np.isfinite(raw) else 0.0
    for attempt in range(MAX_PASSES):
        mp3, result = ffmpeg.encode_measured(pcm(), rate, channels, bitrate=settings.bitrate,
                                            gain_db=gain, ceiling_db=ceiling)
        if not np.isfinite(result.integrated_lufs):  # a section of silence stays silent
            break
        loud_ok = abs(result.integrated_lufs - target) <= TOLERANCE_LU + 1e-6  # ffmpeg prints 0.1s
        peak_ok = result.true_peak_db <= settings.true_peak_db
        if (loud_ok and peak_ok) or attempt + 1 == MAX_PASSES:
            break
        gain += target - result.integrated_lufs
        if not peak_ok:
            ceiling -= result.true_peak_db - settings.true_peak_db + 0.3
    frames, expected = ffmpeg.mp3_frames(mp3), ffmpeg.lame_frames(section.frames, rate)
    if frames != expected:
        raise AudioError(f"the MP3 encoder wrote {frames} frames for a section that should take {expected}: "
                         "an unsupported LAME version?")
    work = _Work(attempt + 1, measured - started, time.perf_counter() - measured)
    return Encoded(mp3, result), work
