"""Hear one segment while writing: synthesize only it (or take it from the cache) and write it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from podcast.audio import ffmpeg
from podcast.audio.timeline import trim
from podcast.build import BuildOptions
from podcast.engines.select import choose_engine
from podcast.errors import InputError, Problem
from podcast.infra.atomic import atomic_path
from podcast.infra.cache import ClipCache
from podcast.input.project import load
from podcast.publish.outputs import output_dir
from podcast.report import Reporter, Silent
from podcast.synthesis.run import plan, policy_for, run

if TYPE_CHECKING:
    from podcast.engines.base import Samples



@dataclass(frozen=True)
class PreviewResult:
    """What a preview wrote."""

    path: Path
    segment: str
    duration_s: float
    synthesized: int
    engine: str


def preview(issue_file: Path, key: str, out: Path | None = None, options: BuildOptions | None = None,
            reporter: Reporter | None = None) -> PreviewResult:
    """Synthesize segment *key* (id, 1-based index, or start of its title) and write it.

    The file type follows *out*'s extension: ``.wav`` (default) or ``.mp3``.
    """
    options = options or BuildOptions()
    reporter = reporter or Silent()
    project, _ = load(issue_file, options.engine)
    segment = project.script.find(key)
    if segment is None:
        choices = ", ".join(s.id for s in project.script.segments)
        raise InputError([Problem(issue_file, 1, 1, "SEGMENT",
                                  f"no segment {key!r}: use an id ({choices}), a number or a title start")])
    engine, voice, _ = choose_engine(project, options, reporter)
    plans = plan(project.script, engine, voice, only={segment.id}, lexicon=project.lexicon)
    synthesis = run(plans, engine, ClipCache(options.cache_dir),
                    policy=policy_for(project.show.synthesis, engine, options.concurrency), reporter=reporter)
    clips = [trim(synthesis.clips[part.key]) for part in plans[0].parts]
    if not clips:
        raise InputError([Problem(issue_file, 1, 1, segment.id, "this segment has nothing to say")])
    rate = clips[0].sample_rate
    pieces: list[Samples] = []
    for part, clip in zip(plans[0].parts, clips, strict=True):
        pieces += [clip.samples, np.zeros(round(part.chunk.pause_after_ms * rate / 1000), np.int16)]
    samples = np.concatenate(pieces)
    path = out or output_dir(project, options.out_dir) / "previews" / f"{project.issue.stem}.{segment.id}.wav"
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".mp3":
            data = ffmpeg.as_frames(samples)
            ffmpeg.encode_mp3(data, rate, tmp, bitrate="128k", gain_db=0.0, ceiling_db=-1.0)
        else:
            ffmpeg.write_wav(tmp, samples, rate)
    return PreviewResult(path, segment.id, len(samples) / rate, synthesis.synthesized, engine.name)
