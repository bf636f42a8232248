"""The benchmark report is rendered from its stored results, and judged by today's targets."""

from __future__ import annotations

import json

from benchmarks.render import render
from benchmarks.targets import judge
from tests.conftest import ROOT

DOCS = ROOT / "docs"


def test_docs_benchmarks_md_is_rendered_from_the_stored_results() -> None:
    results = json.loads((DOCS / "benchmarks.json").read_text(encoding="utf-8"))
    assert render(results) == (DOCS / "benchmarks.md").read_text(encoding="utf-8")


def _assembly(pipeline_s: float, floor_s: float, naive_s: float) -> dict[str, object]:
    def runs(seconds: float) -> dict[str, list[float]]:
        return {"s": [seconds], "mb": [400.0], "cpu": [seconds]}

    return {"lengths": [{"minutes": 90, "clips": 270, "segments": 135, "pipeline": runs(pipeline_s),
                         "floor": runs(floor_s), "naive": runs(naive_s), "naive_parts": [], "reports": []}],
            "one_cpu": None, "one_clip": None}


def test_the_target_is_the_floor_and_the_naive_loop_is_information() -> None:
    passed = {t.text: t.passed for t in judge({"assembly": _assembly(34.7, 30.0, 184.0)})}
    assert passed["90-minute assembly at most 1.2x the ffmpeg floor"] is True
    assert not any("naive" in text for text in passed)
    failed = {t.text: t.passed for t in judge({"assembly": _assembly(37.0, 30.0, 400.0)})}
    assert failed["90-minute assembly at most 1.2x the ffmpeg floor"] is False
