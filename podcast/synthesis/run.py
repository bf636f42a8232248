"""Run an engine over a script: plan requests, serve them from the cache, synthesize the rest.

Requests are deduplicated by cache key, synthesized concurrently up to a bound, and each
finished clip is stored at once, so an interrupted build resumes where it stopped. Engines
that compute on this machine run in worker processes (:mod:`podcast.engines.workers`), one
per CPU at most, so that one that hangs or crashes is stopped by the request timeout. Every
failure has a kind; failures of one kind in a row stop the whole queue (:class:`Breaker`), so
a dead or hung service costs about two request timeouts, not one per request and attempt.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from podcast.engines import workers
from podcast.engines.base import Clip, Engine, Request, Voice
from podcast.errors import ClipRejected, DeadlineReached, EngineError, EngineFailing, TransientEngineError
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
    spent_s: float = 0.0
    """Seconds of the build's deadline already spent (by an engine that failed before this run)."""

    def timeout_for(self, request: Request) -> float:
        """Seconds one request may take before it counts as a transient failure."""
        return max(self.settings.request_timeout_s, qa.expected_range(request)[1] / 4)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter for retry number *attempt* (0-based)."""
        first = self.settings.backoff_s
        return float(rng.uniform(0.5, 1.0) * min(self.backoff_max_s, first * 2.0 ** attempt))


def policy_for(settings: SynthesisSettings, engine: Engine, concurrency: int | None = None,
               spent_s: float = 0.0) -> Policy:
    """The policy of a run: *concurrency* (``--concurrency``), else the show's, else the engine's own;
    *spent_s* seconds of the deadline are gone already."""
    return Policy(settings, concurrency or settings.concurrency or engine.capabilities.concurrency,
                  spent_s=spent_s)


TIMEOUT = "timeout"
"""The kind of failure of a request that took too long."""


@dataclass
class Breaker:
    """Stops the queue when the engine keeps failing the same way.

    Two failures of one kind in a row, with no clip between them, trip it when they are
    timeouts (each costs a whole timeout, so a hung service costs about two before the queue
    stops) or come from two different requests (one request that fails on its own text while
    others succeed is left to its retries). The failure that trips it is raised as
    :class:`EngineFailing`, and *on_trip* stops the other requests.
    """

    engine: str
    on_trip: Callable[[], None]
    kind: str = ""
    streak: list[tuple[str, str]] = field(default_factory=list)
    """(cache key, segment id) of each failure of the current streak."""
    tripped: EngineFailing | None = None

    def succeeded(self) -> None:
        """A request gave a clip: the streak is over."""
        self.kind, self.streak = "", []

    def failed(self, key: str, seg_id: str, kind: str, message: str) -> None:
        """Count a failure of *kind*; raise :class:`EngineFailing` when it trips the breaker."""
        if self.tripped is None:
            if kind != self.kind:
                self.kind, self.streak = kind, []
            self.streak.append((key, seg_id))
            if len(self.streak) >= 2 and (kind == TIMEOUT or len({k for k, _ in self.streak}) >= 2):
                segments = ", ".join(dict.fromkeys(s for _, s in self.streak))
                self.tripped = EngineFailing(
                    f"{self.engine} failed {len(self.streak)} requests in a row the same way (segments "
                    f"{segments}): {message}; the other requests were stopped", kind=kind)
                self.on_trip()
        if self.tripped is not None:
            raise self.tripped


def kind_of(exc: BaseException) -> str:
    """The kind of an engine failure: a timeout, the engine's own word for it, else its message
    with the numbers left out."""
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    kind = getattr(exc, "kind", "")  # a plugin's own EngineError may not have called our __init__
    return kind if isinstance(kind, str) and kind else re.sub(r"\d+(?:\.\d+)?", "#", str(exc))


def run(plans: list[SegmentPlan], engine: Engine, cache: ClipCache, *, policy: Policy | None = None,
        reporter: Reporter | None = None) -> Synthesis:
    """Synthesize every request of *plans* not already cached (blocking)."""
    return asyncio.run(run_async(plans, engine, cache, policy=policy, reporter=reporter))


async def run_async(plans: list[SegmentPlan], engine: Engine, cache: ClipCache, *,
                    policy: Policy | None = None, reporter: Reporter | None = None) -> Synthesis:
    """Synthesize every request of *plans* not already cached.

    Finished clips go into the cache at once, so whatever succeeded before a failure or the
    deadline is kept and a rerun resumes. A request that fails on its own is retried, and the
    others go on; failures of one kind in a row stop them all (:class:`Breaker`). The first
    failure is raised, naming its segment and the engine.
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
    tasks: list[asyncio.Task[None]] = []

    def stop_the_others() -> None:
        for task in tasks:
            if task is not asyncio.current_task():
                task.cancel()

    breaker = Breaker(engine.name, stop_the_others)
    attempt = partial(_attempt, policy=policy, gate=asyncio.Semaphore(max(1, policy.concurrency)),
                      rng=random.Random(), reporter=reporter, breaker=breaker,
                      marks=engine.capabilities.sentence_marks)
    info = {"engine": engine.name, "engine_version": engine.version()}

    async def one(speak: workers.Speak, key: str, seg_id: str, request: Request) -> None:
        clip = await attempt(speak, key, seg_id, request)
        cache.put(key, clip, {**info, "voice": request.voice.key(), "text": list(request.sentences)})
        result.clips[key] = clip
        result.synthesized += 1
        result.fresh.add(key)
        reporter.advance(seg_id)

    processes = min(policy.concurrency, workers.cpu_count(), len(todo))
    deadline = max(0.0, policy.settings.deadline_s - policy.spent_s)
    try:
        async with workers.speaker(engine, processes) as speak, asyncio.timeout(deadline):
            tasks += [asyncio.create_task(one(speak, k, s, r)) for k, (s, r) in todo.items()]
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    except TimeoutError:
        missing = sorted({s for k, (s, _) in todo.items() if k not in result.clips})
        raise DeadlineReached(f"build deadline of {policy.settings.deadline_s:g} s reached with "
                              f"{len(missing)} segments unfinished ({', '.join(missing)}); "
                              f"{result.synthesized} finished clips are cached, rerun to resume") from None
    if breaker.tripped is not None:
        raise breaker.tripped
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures:
        if not isinstance(failure, Exception):
            raise failure
    if failures:
        first = failures[0]
        if len(failures) > 1 and isinstance(first, EngineError):
            raise EngineError(f"{first} (and {len(failures) - 1} more failed requests)",
                              kind=kind_of(first)) from first
        raise first
    return result


async def _attempt(speak: workers.Speak, key: str, seg_id: str, request: Request, *, policy: Policy,
                   gate: asyncio.Semaphore, rng: random.Random, reporter: Reporter, breaker: Breaker,
                   marks: bool) -> Clip:
    """One request with retries for transient failures and one more try for a rejected clip
    (one that fails its checks, or lacks the sentence timings its engine promises: *marks*).
    Every failure is counted by the *breaker*, and every clip ends its streak."""
    transient = rejected = 0
    limit = policy.timeout_for(request)
    engine = breaker.engine
    while True:
        try:
            async with gate:
                clip = await speak(request, limit)
        except (TransientEngineError, TimeoutError) as exc:
            reason, after = ((f"no answer from {engine} within {round(limit, 1):g} s",
                              f"; {exc}" if str(exc) else "")
                             if isinstance(exc, TimeoutError) else (str(exc), ""))
            breaker.failed(key, seg_id, kind_of(exc), reason)
            transient += 1
            if transient >= policy.settings.attempts:
                raise EngineError(f"segment {seg_id}: {reason} (gave up after {transient} attempts)"
                                  f"{after}", kind=kind_of(exc)) from exc
            wait = policy.delay(transient - 1, rng)
            reporter.note(f"{seg_id}: {reason}{after}; retrying in {wait:.1f} s")
            await asyncio.sleep(wait)
            continue
        except EngineError as exc:
            breaker.failed(key, seg_id, kind_of(exc), str(exc))
            raise EngineError(f"segment {seg_id}: {exc}", kind=kind_of(exc)) from exc
        except Exception as exc:  # an engine in this process that raised something of its own
            message = f"{engine} failed: {type(exc).__name__}: {exc}"
            breaker.failed(key, seg_id, type(exc).__name__, message)
            raise EngineError(f"segment {seg_id}: {message}", kind=type(exc).__name__) from exc
        breaker.succeeded()
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
