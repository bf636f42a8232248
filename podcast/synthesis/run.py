"""Run an engine over a script: plan requests, serve them from the cache, synthesize the rest.

Requests are deduplicated by cache key, synthesized concurrently up to a bound, and each
finished clip is stored at once, so an interrupted build resumes where it stopped. Engines
that compute on this machine run in worker processes (:mod:`podcast.engines.workers`), one
per CPU at most, so that one that hangs or crashes is stopped by the request timeout.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from functools import partial

from podcast.engines import workers
from podcast.engines.base import Clip, Engine, Request, Voice
from podcast.errors import ClipRejected, EngineError, TransientEngineError
from podcast.infra.cache import ClipCache, clip_key
from podcast.input.show import SynthesisSettings
from podcast.report import Reporter, Silent
from podcast.script.render import Script, Segment
from podcast.speech.lexicon import Lexicon
from podcast.speech.normalize import Chunk, chunks, speak
from podcast.speech.split import fit
from podcast.synthesis import qa


@dataclass(frozen=True)
class Part:
    """One engine request of a segment: a chunk of sentences and its cache key."""

    chunk: Chunk
    request: Request
    key: str


@dataclass(frozen=True)
class SegmentPlan:
    """A segment and the requests that voice it."""

    segment: Segment
    parts: tuple[Part, ...]


@dataclass
class Synthesis:
    """Clips by cache key, and which of them this run synthesized."""

    clips: dict[str, Clip] = field(default_factory=dict)
    synthesized: int = 0
    fresh: set[str] = field(default_factory=set)
    """Keys synthesized by this run."""

    def segments_synthesized(self, plans: list[SegmentPlan]) -> int:
        """How many of *plans*' segments needed at least one new clip."""
        return sum(1 for p in plans if any(part.key in self.fresh for part in p.parts))


def plan(script: Script, engine: Engine, voice: Voice, only: set[str] | None = None,
         lexicon: Lexicon | None = None) -> list[SegmentPlan]:
    """Requests for every segment of *script* (or only the segment ids in *only*), with the
    text normalized for speech (the show's *lexicon* over the packaged one, letters spelled as
    *engine* declares) and cut into requests below *engine*'s request limit."""
    version = engine.version()
    say = partial(speak, language=script.language, lexicon=lexicon, engine=engine.name,
                  letters=engine.letter_names)
    plans: list[SegmentPlan] = []
    for seg in script.segments:
        if only is not None and seg.id not in only:
            continue
        seg_voice = seg.voice.apply(voice, engine.name) if seg.voice else voice
        parts = []
        for whole in chunks(seg.text, script.language, lexicon, engine.name, engine.letter_names):
            for ch in fit(whole, engine.request_limit, say):
                request = Request(sentences=ch.spoken, voice=seg_voice, language=script.language)
                parts.append(Part(ch, request, clip_key(engine.name, version, request)))
        plans.append(SegmentPlan(seg, tuple(parts)))
    return plans


@dataclass(frozen=True)
class Policy:
    """How hard to try: the show's synthesis settings (retries with backoff and jitter, QA
    retries, timeouts, deadline), with the concurrency this run uses."""

    settings: SynthesisSettings = field(default_factory=SynthesisSettings)
    concurrency: int = 1
    """Requests at once: ``--concurrency``, else the show's, else the engine's own."""
    backoff_max_s: float = 8.0

    def timeout_for(self, request: Request) -> float:
        """Seconds one request may take before it counts as a transient failure."""
        return max(self.settings.request_timeout_s, qa.expected_range(request)[1] / 4)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter for retry number *attempt* (0-based)."""
        first = self.settings.backoff_s
        return float(rng.uniform(0.5, 1.0) * min(self.backoff_max_s, first * 2.0 ** attempt))


def policy_for(settings: SynthesisSettings, engine: Engine, concurrency: int | None = None) -> Policy:
    """The policy of a run: *concurrency* (``--concurrency``), else the show's, else the engine's own."""
    return Policy(settings, concurrency or settings.concurrency or engine.capabilities.concurrency)


def run(plans: list[SegmentPlan], engine: Engine, cache: ClipCache, *, policy: Policy | None = None,
        reporter: Reporter | None = None) -> Synthesis:
    """Synthesize every request of *plans* not already cached (blocking)."""
    return asyncio.run(run_async(plans, engine, cache, policy=policy, reporter=reporter))


async def run_async(plans: list[SegmentPlan], engine: Engine, cache: ClipCache, *,
                    policy: Policy | None = None, reporter: Reporter | None = None) -> Synthesis:
    """Synthesize every request of *plans* not already cached.

    Finished clips go into the cache at once, so whatever succeeded before a failure or the
    deadline is kept and a rerun resumes. The first failure is raised, naming its segment.
    """
    policy = policy or Policy()
    reporter = reporter or Silent()
    reporter.stage("synthesize", len({part.key for p in plans for part in p.parts}))
    result = Synthesis()
    todo: dict[str, tuple[str, Request]] = {}
    for p in plans:
        for part in p.parts:
            if part.key in result.clips or part.key in todo:
                continue
            clip = cache.get(part.key)
            if clip is not None:
                result.clips[part.key] = clip
                reporter.advance(p.segment.id, cached=True)
            else:
                todo[part.key] = (p.segment.id, part.request)
    if not todo:
        return result
    gate = asyncio.Semaphore(max(1, policy.concurrency))
    rng = random.Random()
    info = {"engine": engine.name, "engine_version": engine.version()}
    marks = engine.capabilities.sentence_marks

    async def one(speak: workers.Speak, key: str, seg_id: str, request: Request) -> None:
        clip = await _attempt(speak, request, seg_id, policy, gate, rng, reporter, marks)
        cache.put(key, clip, {**info, "voice": request.voice.key(), "text": list(request.sentences)})
        result.clips[key] = clip
        result.synthesized += 1
        result.fresh.add(key)
        reporter.advance(seg_id)

    processes = min(policy.concurrency, workers.cpu_count(), len(todo))
    try:
        async with workers.speaker(engine, processes) as speak, asyncio.timeout(policy.settings.deadline_s):
            outcomes = await asyncio.gather(*(one(speak, k, s, r) for k, (s, r) in todo.items()),
                                            return_exceptions=True)
    except TimeoutError:
        missing = sorted({s for k, (s, _) in todo.items() if k not in result.clips})
        raise EngineError(f"build deadline of {policy.settings.deadline_s:g} s reached with "
                          f"{len(missing)} segments unfinished ({', '.join(missing)}); "
                          f"{result.synthesized} finished clips are cached, rerun to resume") from None
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures:
        if not isinstance(failure, Exception):
            raise failure
    if failures:
        first = failures[0]
        if len(failures) > 1 and isinstance(first, EngineError):
            raise EngineError(f"{first} (and {len(failures) - 1} more failed requests)") from first
        raise first
    return result


async def _attempt(speak: workers.Speak, request: Request, seg_id: str, policy: Policy,
                   gate: asyncio.Semaphore, rng: random.Random, reporter: Reporter, marks: bool) -> Clip:
    """One request with retries for transient failures and one more try for a rejected clip
    (one that fails its checks, or lacks the sentence timings its engine promises: *marks*)."""
    transient = rejected = 0
    limit = policy.timeout_for(request)
    while True:
        try:
            async with gate:
                clip = await speak(request, limit)
        except (TransientEngineError, TimeoutError) as exc:
            reason, after = ((f"no answer within {round(limit, 1):g} s", f"; {exc}" if str(exc) else "")
                             if isinstance(exc, TimeoutError) else (str(exc), ""))
            transient += 1
            if transient >= policy.settings.attempts:
                raise EngineError(f"segment {seg_id}: {reason} (gave up after {transient} attempts)"
                                  f"{after}") from exc
            wait = policy.delay(transient - 1, rng)
            reporter.note(f"{seg_id}: {reason}{after}; retrying in {wait:.1f} s")
            await asyncio.sleep(wait)
            continue
        except EngineError as exc:
            raise EngineError(f"segment {seg_id}: {exc}") from exc
        problem = qa.check(clip, request)
        if problem is None and marks and len(clip.marks) != len(request.sentences):
            problem = (f"the engine gave {len(clip.marks)} sentence timings for "
                       f"{len(request.sentences)} sentences")
        if problem is None:
            return clip
        rejected += 1
        if rejected > policy.settings.qa_retries:
            raise ClipRejected(f"segment {seg_id}: {problem} (rejected {rejected} times)")
        reporter.note(f"{seg_id}: {problem}; synthesizing again")
