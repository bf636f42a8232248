"""The pipeline: load, render, synthesize, assemble, publish. Gather first, then write.

Every output is staged beside its final path and moved into place only when the whole build
has succeeded, so a failed build never leaves a partial file or replaces a good one. The
manifest is moved last: it proves a set of outputs complete. Builds of one episode into one
folder take turns (:mod:`podcast.infra.locking`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from podcast.audio import ffmpeg
from podcast.audio.encode import EncodeStats, encode_normalized
from podcast.audio.timeline import mix
from podcast.engines.select import Choice, choose_engine, fall_back
from podcast.errors import DeadlineReached, EngineError
from podcast.infra import failpoints
from podcast.infra.atomic import Outputs, remove_stale_temps, source_date_epoch, writing_to
from podcast.infra.cache import ClipCache, SectionCache
from podcast.infra.locking import episode_lock
from podcast.input.project import Project, check_length, load
from podcast.publish import outputs as published
from podcast.publish.chapters import Chapter
from podcast.publish.fingerprint import first_choice_fingerprint, input_fingerprint
from podcast.publish.outputs import AUDIO, episode_files, output_dir
from podcast.report import Reporter, Silent, StageClock, Timings
from podcast.synthesis import qa
from podcast.synthesis.run import SegmentPlan, Synthesis, plan, policy_for, run

OUT_OF_SPACE = "free some space there, or build into another folder (--out)"


@dataclass(frozen=True)
class BuildOptions:
    """Choices for one build that are not part of the show."""

    out_dir: Path | None = None
    engine: str | None = None
    cache_dir: Path | None = None
    concurrency: int | None = None
    skip_up_to_date: bool = True
    """Leave an episode alone when its outputs were built from exactly these inputs."""


@dataclass(frozen=True)
class SegmentCounts:
    """How many requests the build had, synthesized and took from the cache."""

    total: int
    synthesized: int
    cached: int


@dataclass(frozen=True)
class BuildReport:
    """What a build produced."""

    mp3: Path
    duration_s: float
    engine: str
    chapters: list[Chapter]
    segments: SegmentCounts
    loudness: ffmpeg.Loudness
    outputs: list[Path] = field(default_factory=list)
    fallback_reason: str | None = None
    skipped: bool = False
    timings: Timings | None = None
    """Where this build's time went (not stored in the manifest)."""

    def as_json(self) -> dict[str, object]:
        """The ``--json`` report."""
        return {
            "mp3": str(self.mp3),
            "duration_s": round(self.duration_s, 3),
            "engine": self.engine,
            "fallback_reason": self.fallback_reason,
            "chapters": [{"title": c.title, "start_s": c.start_s, "end_s": c.end_s, "url": c.url}
                         for c in self.chapters],
            "segments": {"total": self.segments.total, "synthesized": self.segments.synthesized,
                         "cached": self.segments.cached},
            "loudness": {"integrated_lufs": self.loudness.integrated_lufs,
                         "true_peak_dbtp": self.loudness.true_peak_db,
                         "range_lu": self.loudness.range_lu},
            "outputs": [str(p) for p in self.outputs],
            "skipped": self.skipped,
            **({"timings": self.timings.as_json()} if self.timings else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, skipped: bool = False) -> BuildReport:
        """A report read back from :meth:`as_json`."""
        loud = data["loudness"]
        seg = data["segments"]
        chapters = [Chapter(f"chapter-{i}", c["title"], c["start_s"], c["end_s"], c["url"])
                    for i, c in enumerate(data["chapters"])]
        counts = (SegmentCounts(seg["total"], 0, seg["total"]) if skipped
                  else SegmentCounts(seg["total"], seg["synthesized"], seg["cached"]))
        return cls(Path(data["mp3"]), data["duration_s"], data["engine"], chapters, counts,
                   ffmpeg.Loudness(loud["integrated_lufs"], loud["true_peak_dbtp"], loud["range_lu"]),
                   [Path(p) for p in data["outputs"]], data.get("fallback_reason"), skipped)


def build(issue_file: Path, options: BuildOptions | None = None,
          reporter: Reporter | None = None) -> BuildReport:
    """Build one episode; returns what was written.

    Holding the episode's lock, first removes what killed builds (of any episode) left staged
    in its output folder.
    """
    options = options or BuildOptions()
    source_date_epoch()  # a bad value stops the build here, before any work
    clock = StageClock(reporter or Silent())
    project, warnings = load(issue_file, options.engine)
    clock.stage("load")
    for warning in warnings:
        clock.warn(str(warning))
    cache = ClipCache(options.cache_dir)
    out = output_dir(project, options.out_dir)
    with episode_lock(cache.root, out, project.issue.stem, clock):
        remove_stale_temps(episode_files(out, project.issue.stem))
        report, encode_stats = _build(project, options, clock, cache, out)
    return replace(report, timings=clock.finish(encode_stats))


def _build(project: Project, options: BuildOptions, reporter: Reporter, cache: ClipCache,
           out: Path) -> tuple[BuildReport, EncodeStats | None]:
    """Build one episode of a loaded project into *out* (holding its lock); with the encoder's
    counters (None when it is up to date)."""
    voiced = _synthesize(project, options, reporter, cache, out)
    if isinstance(voiced, BuildReport):
        return voiced, None
    choice, plans, synthesis, fingerprint = voiced
    engine, fallback_reason = choice.engine, choice.fallback_reason
    stem = project.issue.stem
    reporter.stage("mix")
    episode = mix(plans, synthesis, project.show)
    failpoints.hit("mixed")
    check_length(project, episode.duration_s)
    record = published.gather(project, episode)
    mp3 = AUDIO.file(out, stem)
    with writing_to("output", out, OUT_OF_SPACE), Outputs() as outputs:
        staged = outputs.stage(mp3)
        encoding = encode_normalized(episode, project.show, staged, SectionCache(cache.root), reporter)
        reporter.stage("publish")
        loudness = encoding.loudness
        goal = project.show.loudness
        if (abs(loudness.integrated_lufs - goal.integrated_lufs) > 1.0
                or loudness.true_peak_db > goal.true_peak_db):
            reporter.warn(f"loudness {loudness.integrated_lufs:.1f} LUFS / {loudness.true_peak_db:.1f} "
                          f"dBTP misses the show's {goal.integrated_lufs:g} LUFS / "
                          f"{goal.true_peak_db:g} dBTP")
        published.tag_audio(staged, record)
        failpoints.hit("encoded")
        published.stage_sidecars(outputs, out, record)
        fresh = synthesis.segments_synthesized(plans)
        counts = SegmentCounts(len(plans), fresh, len(plans) - fresh)
        report = BuildReport(mp3, episode.duration_s, engine.name, list(record.chapters), counts, loudness,
                             list(outputs.staged()), fallback_reason)
        published.stage_manifest(outputs, out, stem, fingerprint, report.as_json())
        failpoints.hit("staged")
        outputs.commit(mtime=source_date_epoch())
    return report, encoding.stats


Voiced = tuple[Choice, list[SegmentPlan], Synthesis, str]
"""The engine that voiced the episode, its requests, their clips and the input fingerprint."""


def _synthesize(project: Project, options: BuildOptions, reporter: Reporter, cache: ClipCache,
                out: Path) -> Voiced | BuildReport:
    """Every clip of the episode, from one engine: the show's, or its fallback when the show's
    is unavailable or fails mid-synthesis (its clips stay cached but are not used); or the
    report of the outputs already built from these inputs."""
    choice = choose_engine(project, options, reporter)
    started = time.monotonic()
    while True:
        plans = plan(project.script, choice.engine, choice.voice, lexicon=project.lexicon)
        shortest = sum(qa.expected_range(part.request)[0] for p in plans for part in p.parts)
        check_length(project, shortest, estimate=True)
        fingerprint = input_fingerprint(project, choice.engine, plans)
        if options.skip_up_to_date:
            accepted = {fingerprint, first_choice_fingerprint(project, options.engine, choice.engine)}
            previous = published.up_to_date(out, project.issue.stem, accepted)
            if previous is not None:
                return BuildReport.from_json(previous.report, skipped=True)
        policy = policy_for(project.show.synthesis, choice.engine, options.concurrency,
                            spent_s=time.monotonic() - started)
        try:
            synthesis = run(plans, choice.engine, cache, policy=policy, reporter=reporter)
            return choice, plans, synthesis, fingerprint
        except DeadlineReached:
            raise
        except EngineError as exc:
            choice = fall_back(project, options, choice, exc, reporter)
