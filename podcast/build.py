"""The pipeline: load, render, synthesize, assemble, publish. Gather first, then write.

Every output is staged beside its final path and moved into place only when the whole build
has succeeded, so a failed build never leaves a partial file or replaces a good one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from podcast import audio
from podcast.assemble import Mix, mix
from podcast.atomic import Outputs
from podcast.cache import ClipCache
from podcast.chapters import Chapter, Tags, chapters_for, chapters_json, write_id3
from podcast.engines import registry
from podcast.engines.base import Engine, Voice
from podcast.errors import AudioError, EngineUnavailable, InputError, Problem
from podcast.issue import Issue, load_issue
from podcast.notes import render_notes
from podcast.report import Reporter, Silent
from podcast.script import Script, render
from podcast.show import Show, find_show, load_show
from podcast.synthesize import Policy, SegmentPlan, plan, run
from podcast.transcript import captions, to_srt, to_vtt

_MAX_LOUDNESS_PASSES = 4


@dataclass(frozen=True)
class BuildOptions:
    """Choices for one build that are not part of the show."""

    out_dir: Path | None = None
    engine: str | None = None
    cache_dir: Path | None = None
    concurrency: int | None = None


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
    loudness: audio.Loudness
    outputs: list[Path] = field(default_factory=list)
    fallback_reason: str | None = None

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
        }


@dataclass(frozen=True)
class Project:
    """An issue with its show, rendered: everything known before any audio is made."""

    issue: Issue
    show: Show
    script: Script


def load(issue_file: Path) -> Project:
    """Load the issue and its show, and render the script (raises InputError)."""
    problems: list[Problem] = []
    issue: Issue | None = None
    show = Show()
    try:
        issue = load_issue(issue_file)
    except InputError as exc:
        problems += exc.problems
    try:
        show = load_show(find_show(issue_file))
    except InputError as exc:
        problems += exc.problems
    if problems or issue is None:
        raise InputError(problems)
    return Project(issue, show, render(issue, show))


def output_dir(project: Project, options: BuildOptions) -> Path:
    """``--out``, else the show's output folder, else ``audio/<show folder>``."""
    if options.out_dir:
        return options.out_dir
    if project.show.output.dir:
        return project.show.output.dir
    return Path("audio") / project.issue.file.resolve().parent.name


def choose_engine(project: Project, options: BuildOptions,
                  reporter: Reporter) -> tuple[Engine, Voice, str | None]:
    """The engine for this build and its voice, checked before any synthesis.

    When the show's engine is unavailable (for edge: its service does not answer one short
    probe) and the show names a ``fallback``, the whole episode uses the fallback engine and
    the reason is reported as a warning. An engine chosen with ``--engine`` never falls back.
    """
    show = project.show
    name = options.engine or show.engine
    reason = _unavailable(name, show)
    fallback_reason = None
    if reason:
        if options.engine or not show.fallback:
            raise EngineUnavailable(reason)
        fallback_reason = reason
        reporter.warn(f"engine {name!r} unavailable ({reason}); "
                      f"building the whole episode with fallback engine {show.fallback!r}")
        name = show.fallback
        second = _unavailable(name, show)
        if second:
            raise EngineUnavailable(f"fallback engine {name!r} is unavailable too: {second}")
    engine = registry.get(name, **show.options_for(name))
    voice = show.voice_spec(name).resolve(engine.default_voice(project.script.language))
    return engine, voice, fallback_reason


def check_voices(project: Project, engine: Engine, plans: list[SegmentPlan]) -> None:
    """Every voice the plans use must exist for *engine*: checked before any synthesis."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for p in plans:
        for part in p.parts:
            name = part.request.voice.name
            if name in seen:
                continue
            seen.add(name)
            problem = engine.check_voice(name)
            if problem is None:
                continue
            entry = p.segment.entry
            if entry is not None and p.segment.voice and name in dict(p.segment.voice.names).values():
                line = project.issue.entries[entry - 1].line
                problems.append(Problem(project.issue.file, line, 1,
                                        f"entries[{entry}].voice.{engine.name}", problem))
            else:
                where = project.show.file or project.issue.file
                field = f"voices.{engine.name}"
                problems.append(Problem(where, *project.show.locate(field), field, problem))
    if problems:
        raise InputError(problems)


def _unavailable(name: str, show: Show) -> str | None:
    """Why engine *name* cannot be used now, or None when it can."""
    try:
        engine = registry.get(name, **show.options_for(name))
    except EngineUnavailable as exc:
        return str(exc)
    probe = getattr(engine, "probe", None)
    return probe() if callable(probe) else None


def build(issue_file: Path, options: BuildOptions | None = None,
          reporter: Reporter | None = None) -> BuildReport:
    """Build one episode; returns what was written."""
    options = options or BuildOptions()
    reporter = reporter or Silent()
    project = load(issue_file)
    engine, voice, fallback_reason = choose_engine(project, options, reporter)
    plans = plan(project.script, engine, voice)
    check_voices(project, engine, plans)
    cache = ClipCache(options.cache_dir)
    synthesis = run(plans, engine, cache, policy=policy_for(project.show, engine, options),
                    reporter=reporter)
    reporter.stage("mix")
    episode = mix(plans, synthesis, project.show)
    chapters = chapters_for(project.script, episode)
    out = output_dir(project, options)
    stem = project.issue.stem
    mp3 = out / f"{stem}.mp3"
    reporter.stage("encode")
    with Outputs() as outputs:
        staged = outputs.stage(mp3)
        loudness = encode_normalized(episode, project.show, staged)
        write_id3(staged, tags_for(project), chapters)
        outputs.write_text(out / f"{stem}.chapters.json",
                           chapters_json(chapters, project.issue.title))
        caps = captions([c for p in episode.placements for c in p.cues], episode.duration_s)
        outputs.write_text(out / f"{stem}.vtt", to_vtt(caps))
        outputs.write_text(out / f"{stem}.srt", to_srt(caps))
        notes = render_notes(project.issue, project.show, project.script.language, chapters,
                             episode.duration_s)
        outputs.write_text(out / f"{stem}.md", notes.markdown)
        outputs.write_text(out / f"{stem}.html", notes.html)
        written = outputs.commit(mtime=source_date_epoch())
    total = sum(len(p.parts) for p in plans)
    counts = SegmentCounts(total, synthesis.synthesized, total - synthesis.synthesized)
    return BuildReport(mp3, episode.duration_s, engine.name, chapters, counts, loudness, written,
                       fallback_reason)


def policy_for(show: Show, engine: Engine, options: BuildOptions) -> Policy:
    """Synthesis policy: ``--concurrency``, else the show's, else the engine's own default."""
    spec = show.synthesis
    concurrency = options.concurrency or spec.concurrency or int(getattr(engine, "concurrency", 1))
    return Policy(concurrency=concurrency, attempts=spec.attempts, backoff_s=spec.backoff_s,
                  qa_retries=spec.qa_retries, deadline_s=spec.deadline_s,
                  request_timeout_s=spec.request_timeout_s)


def source_date_epoch() -> int | None:
    """``$SOURCE_DATE_EPOCH`` as an integer, when set (reproducible-builds convention)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else None


def tags_for(project: Project) -> Tags:
    """ID3 tags of the episode."""
    show, issue = project.show, project.issue
    return Tags(
        title=issue.title,
        album=show.title or issue.title,
        artist=show.author,
        date=issue.date.isoformat(),
        language=project.script.language,
        description=issue.description or show.description,
        cover=show.cover if show.cover and show.cover.is_file() else None,
    )


def encode_normalized(episode: Mix, show: Show, path: Path) -> audio.Loudness:
    """Encode *episode* once to *path* at the show's loudness, verified on the encoded file.

    The gain comes from a measurement of the mix; the true-peak ceiling starts below the
    target to leave room for MP3 overshoot. If the encoded file still misses a target, the
    gain and ceiling are corrected and the (single) encode is redone from the same mix.
    """
    target = show.loudness
    measured = audio.measure(episode.samples, episode.sample_rate)
    if measured.integrated_lufs == float("-inf"):
        raise AudioError("the episode is silent")
    gain = target.integrated_lufs - measured.integrated_lufs
    ceiling = target.true_peak_db - 1.0
    result = measured
    for _ in range(_MAX_LOUDNESS_PASSES):
        audio.encode_mp3(episode.samples, episode.sample_rate, path,
                         bitrate=show.output.bitrate, gain_db=gain, ceiling_db=ceiling)
        result = audio.measure_file(path)
        loud_ok = abs(result.integrated_lufs - target.integrated_lufs) <= 0.5
        peak_ok = result.true_peak_db <= target.true_peak_db
        if loud_ok and peak_ok:
            break
        gain += target.integrated_lufs - result.integrated_lufs
        if not peak_ok:
            ceiling -= result.true_peak_db - target.true_peak_db + 0.3
    return result
