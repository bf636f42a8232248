"""Benchmark: edge synthesis concurrency against the local fake service.

30 segments, 400 ms service latency per request; the same work with concurrency 1 and 4, in
one run, each into an empty cache. The fake service runs in its own process (as the real one
would be elsewhere) and has already synthesized every text once (warm-up), so the times
measure the client pipeline, not the fake's own espeak.

    python scripts/bench_edge.py [--segments 30] [--latency 0.4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from podcast.engines.base import Voice
from podcast.engines.edge import EdgeEngine
from podcast.infra.cache import ClipCache
from podcast.script.render import Script, Segment
from podcast.synthesis.run import Policy, plan, run_async

TOPICS = ["a new open model for code", "a benchmark for long documents", "a robot that folds laundry",
          "a faster attention kernel", "a speech model with emotions", "a dataset of chemistry tasks"]


def script(segments: int) -> Script:
    """*segments* distinct English segments of two sentences each."""
    items = []
    for i in range(segments):
        topic = TOPICS[i % len(TOPICS)]
        text = f"Story {i + 1} is about {topic}. The team reports strong results on {i + 3} tasks."
        items.append(Segment(f"s{i + 1:02d}", "entry", f"Story {i + 1}", text))
    return Script("en-US", tuple(items))


async def timed(engine: EdgeEngine, s: Script, concurrency: int) -> float:
    """Seconds to synthesize *s* into a fresh cache."""
    with tempfile.TemporaryDirectory() as folder:
        plans = plan(s, engine, Voice("en-US-AndrewMultilingualNeural"))
        started = time.perf_counter()
        result = await run_async(plans, engine, ClipCache(Path(folder)),
                                 policy=Policy(concurrency=concurrency))
        elapsed = time.perf_counter() - started
        assert result.synthesized == len(plans)
        return elapsed


def main() -> None:
    """Run the benchmark and print the times and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.4)
    args = parser.parse_args()
    s = script(args.segments)
    server = subprocess.Popen([sys.executable, "-m", "podcast.testing.fake_edge",
                               "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        os.environ["PODCAST_EDGE_ENDPOINT"] = server.stdout.readline().strip()
        engine = EdgeEngine()
        asyncio.run(timed(engine, s, 4))  # warm-up: the fake synthesizes each text once
        serial = asyncio.run(timed(engine, s, 1))
        parallel = asyncio.run(timed(engine, s, 4))
    finally:
        server.terminate()
        server.wait()
    ratio = parallel / serial
    print(f"segments={args.segments} latency={args.latency * 1000:.0f}ms")
    print(f"concurrency 1: {serial:.2f} s")
    print(f"concurrency 4: {parallel:.2f} s")
    print(f"ratio (4 / 1): {ratio:.3f}  (target <= 0.3: {'met' if ratio <= 0.3 else 'MISSED'})")


if __name__ == "__main__":
    main()
