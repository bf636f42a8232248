"""Run an engine over a script: plan requests, serve them from the cache, synthesize the rest.

Requests are deduplicated by cache key, synthesized concurrently up to a bound, and each
finished clip is stored at once, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from podcast.cache import ClipCache, clip_key
from podcast.engines.base import Clip, Engine, Request, Voice
from podcast.errors import EngineError
from podcast.normalize import Chunk, chunks
from podcast.report import Reporter, Silent
from podcast.script import Script, Segment


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
    """Clips by cache key, with counts of what was synthesized and what was reused."""

    clips: dict[str, Clip] = field(default_factory=dict)
    synthesized: int = 0
    cached: int = 0


def plan(script: Script, engine: Engine, voice: Voice,
         only: set[str] | None = None) -> list[SegmentPlan]:
    """Requests for every segment of *script* (or only the segment ids in *only*)."""
    version = engine.version()
    plans: list[SegmentPlan] = []
    for seg in script.segments:
        if only is not None and seg.id not in only:
            continue
        parts = []
        for ch in chunks(seg.text, script.language):
            request = Request(sentences=ch.spoken, voice=voice, language=script.language)
            parts.append(Part(ch, request, clip_key(engine.name, version, request)))
        plans.append(SegmentPlan(seg, tuple(parts)))
    return plans


def run(plans: list[SegmentPlan], engine: Engine, cache: ClipCache, *, concurrency: int = 1,
        reporter: Reporter | None = None) -> Synthesis:
    """Synthesize every request of *plans* not already cached (blocking)."""
    return asyncio.run(run_async(plans, engine, cache, concurrency=concurrency, reporter=reporter))


async def run_async(plans: list[SegmentPlan], engine: Engine, cache: ClipCache, *,
                    concurrency: int = 1, reporter: Reporter | None = None) -> Synthesis:
    """Synthesize every request of *plans* not already cached."""
    reporter = reporter or Silent()
    reporter.start(sum(len(p.parts) for p in plans))
    result = Synthesis()
    todo: dict[str, tuple[str, Request]] = {}
    for p in plans:
        for part in p.parts:
            if part.key in result.clips or part.key in todo:
                continue
            clip = cache.get(part.key)
            if clip is not None:
                result.clips[part.key] = clip
                result.cached += 1
                reporter.step(p.segment.id, True)
            else:
                todo[part.key] = (p.segment.id, part.request)
    gate = asyncio.Semaphore(max(1, concurrency))
    info = {"engine": engine.name, "engine_version": engine.version()}

    async def one(key: str, seg_id: str, request: Request) -> None:
        async with gate:
            try:
                clip = await engine.synthesize(request)
            except EngineError as exc:
                raise EngineError(f"segment {seg_id}: {exc}") from exc
        cache.put(key, clip, {**info, "voice": request.voice.key(), "text": list(request.sentences)})
        result.clips[key] = clip
        result.synthesized += 1
        reporter.step(seg_id, False)

    outcomes = await asyncio.gather(*(one(k, s, r) for k, (s, r) in todo.items()),
                                    return_exceptions=True)
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures:
        if not isinstance(failure, Exception):
            raise failure
    if failures:
        more = f" (and {len(failures) - 1} more failed segments)" if len(failures) > 1 else ""
        first = failures[0]
        if isinstance(first, EngineError):
            raise EngineError(f"{first}{more}") from first
        raise first
    return result
