"""The edge engine against the local fake service, concurrency 1 and 4, through the real build.

An English issue of *segments* segments (intro, entries of two sentences, outro) in a show whose
engine is edge, ``PODCAST_EDGE_ENDPOINT`` pointing at ``python -m podcast.testing.fake_edge
--latency 0.4`` (its own process, as the service would be elsewhere). Each build runs into an
empty cache with ``--concurrency N``; the figure is the build's ``synthesize`` stage. The fake
has synthesized every text once before (a warm-up build), so the times measure the client.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Json, clean_env, podcast_cmd, run_measured, stage

TOPICS = ["a new open model for code", "a benchmark for long documents", "a robot that folds laundry",
          "a faster attention kernel", "a speech model with emotions", "a dataset of chemistry tasks"]
SHOW_YAML = """\
title: Edge Bench Weekly
language: en-US
engine: edge
fallback: espeak
"""


def issue_yaml(segments: int) -> str:
    """An English issue of *segments* segments: intro, ``segments - 2`` entries, outro."""
    lines = ["title: Edge Bench 1", "date: 2024-01-01", "language: en-US", "entries:"]
    for i in range(segments - 2):
        topic = TOPICS[i % len(TOPICS)]
        lines += [f"  - title: Story {i + 1}",
                  f"    summary: Story {i + 1} is about {topic}. The team reports strong results on "
                  f"{i + 3} tasks."]
    return "\n".join(lines) + "\n"


def run(tmp: Path, repeat: int, segments: int, latency: float) -> Json:
    """Concurrency 1 and 4, *repeat* times each, alternating."""
    show = tmp / "edge-show"
    show.mkdir(parents=True)
    (show / "show.yaml").write_text(SHOW_YAML, encoding="utf-8")
    issue = show / "2024-01-01.yaml"
    issue.write_text(issue_yaml(segments), encoding="utf-8")
    server = subprocess.Popen([sys.executable, "-m", "podcast.testing.fake_edge", "--latency", str(latency)],
                              stdout=subprocess.PIPE, text=True)
    results: Json = {"segments": segments, "latency_s": latency, "c1": [], "c4": []}
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()

        def synthesize_s(concurrency: int, name: str) -> float:
            cache = tmp / f"edge-cache-{name}"
            shutil.rmtree(cache, ignore_errors=True)
            m = run_measured(podcast_cmd("build", str(issue), "--out", str(tmp / "edge-out"), "--force",
                                         "--json", "--concurrency", str(concurrency)),
                             clean_env(cache, PODCAST_EDGE_ENDPOINT=endpoint))
            rep = m.report()
            if rep["engine"] != "edge":
                raise RuntimeError(f"the edge build fell back: {rep['fallback_reason']}")
            synth = stage(rep["timings"], "synthesize")
            if synth["done"] - synth["cached"] != synth["total"]:
                raise RuntimeError(f"the edge build did not synthesize every request: {synth}")
            return float(synth["seconds"])

        synthesize_s(4, "warm-up")
        for _ in range(repeat):
            results["c1"].append(synthesize_s(1, "c1"))
            results["c4"].append(synthesize_s(4, "c4"))
    finally:
        server.terminate()
        server.wait()
    return results
