"""Progress comes from the library's stage events, with each stage's own true count, and the
build report carries the stages' timings."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from podcast.build import BuildOptions, build
from tests.conftest import run_cli

SEGMENTS = ["intro", "entry-01", "entry-02", "outro"]


@dataclass
class Recording:
    """A reporter that writes down every event it gets, in order."""

    events: list[tuple[str, str, int | bool]] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.events.append(("warn", message, False))

    def stage(self, name: str, total: int = 0) -> None:
        self.events.append(("stage", name, total))

    def advance(self, item: str, cached: bool = False) -> None:
        self.events.append(("advance", item, cached))

    def note(self, message: str) -> None:
        """Notes are free text; not recorded."""


def stages(events: list[tuple[str, str, int | bool]]) -> list[tuple[str, int, list[tuple[str, bool]]]]:
    """The events grouped: each stage with its total and the items advanced in it."""
    grouped: list[tuple[str, int, list[tuple[str, bool]]]] = []
    for kind, text, value in events:
        if kind == "stage":
            grouped.append((text, int(value), []))
        elif kind == "advance":
            grouped[-1][2].append((text, bool(value)))
    return grouped


def test_build_events_come_in_order_with_true_counts(small_issue: Path, tmp_path: Path) -> None:
    options = BuildOptions(out_dir=tmp_path / "out", engine="espeak", skip_up_to_date=False)
    first = Recording()
    report = build(small_issue, options, first)
    assert report.timings is not None and report.timings.encode is not None
    sections = report.timings.encode.sections
    assert sections >= 2
    grouped = stages(first.events)
    assert [(name, total) for name, total, _ in grouped] == [
        ("load", 0), ("synthesize", 4), ("mix", 0), ("encode", sections), ("publish", 0)]
    _, _, synthesized = grouped[1]
    assert Counter(synthesized) == Counter((s, False) for s in SEGMENTS)
    _, _, encoded = grouped[3]
    assert Counter(encoded) == Counter((f"section {i}", False) for i in range(1, sections + 1))
    assert grouped[0][2] == grouped[2][2] == grouped[4][2] == []

    again = Recording()
    build(small_issue, options, again)
    grouped = stages(again.events)
    assert [(name, total) for name, total, _ in grouped] == [
        ("load", 0), ("synthesize", 4), ("mix", 0), ("encode", sections), ("publish", 0)]
    assert [cached for _, cached in grouped[1][2]] == [True] * 4
    assert grouped[3][2] == [(f"section {i}", True) for i in range(1, sections + 1)]


def test_report_timings_count_what_each_stage_did(small_issue: Path, tmp_path: Path) -> None:
    options = BuildOptions(out_dir=tmp_path / "out", engine="espeak", skip_up_to_date=False)
    cold = build(small_issue, options).timings
    warm = build(small_issue, options).timings
    assert cold is not None and warm is not None and cold.encode and warm.encode
    assert [s.name for s in cold.stages] == ["load", "synthesize", "mix", "encode", "publish"]
    synth, encode = cold.stage("synthesize"), cold.stage("encode")
    assert synth and encode and encode.total == cold.encode.sections
    assert (synth.total, synth.done, synth.cached) == (4, 4, 0)
    assert (encode.done, encode.cached) == (encode.total, 0)
    assert cold.encode.encoded == cold.encode.sections and cold.encode.cached == 0
    assert cold.encode.passes >= cold.encode.encoded >= 1 and cold.encode.workers >= 1
    assert cold.encode.busy_s >= cold.encode.measure_s + cold.encode.encode_s > 0
    assert all(s.seconds >= 0 and s.peak_rss_mb > 0 for s in cold.stages)
    assert encode.child_cpu_s > 0  # ffmpeg did the encoding
    synth, encode = warm.stage("synthesize"), warm.stage("encode")
    assert synth and encode and (synth.done, synth.cached) == (4, 4)
    assert (encode.done, encode.cached) == (encode.total, encode.total)
    assert (warm.encode.encoded, warm.encode.passes, warm.encode.workers) == (0, 0, 0)


def test_plain_progress_lines_show_the_section_counts(small_issue: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_cli("build", str(small_issue), "--out", str(out), "--engine", "espeak")
    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    assert "synthesize: 4 requests" in lines
    assert sum(1 for line in lines if re.fullmatch(r"\[\d/4\] [a-z0-9-]+: synthesized", line)) == 4
    found = [line for line in lines if re.fullmatch(r"encode: \d+ sections", line)]
    assert len(found) == 1
    sections = int(found[0].split()[1])
    encoded = [line for line in lines if re.fullmatch(rf"\[\d+/{sections}\] section \d+: encoded", line)]
    assert len(encoded) == sections
    assert lines.index(found[0]) < lines.index(encoded[0])

    again = run_cli("build", str(small_issue), "--out", str(out), "--engine", "espeak", "--force")
    assert again.returncode == 0, again.stderr
    lines = again.stderr.splitlines()
    assert f"encode: {sections} sections" in lines
    assert [line for line in lines if line.startswith("[") and "section" in line] == [
        f"[{i}/{sections}] section {i}: cached" for i in range(1, sections + 1)]


def test_json_report_has_timings_and_the_manifest_does_not(small_issue: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("build", str(small_issue), "--out", str(out), "--engine", "espeak", "--json")
    assert result.returncode == 0, result.stderr
    timings = json.loads(result.stdout)["timings"]
    assert [s["name"] for s in timings["stages"]] == ["load", "synthesize", "mix", "encode", "publish"]
    assert timings["encode"]["encoded"] == timings["encode"]["sections"] == timings["stages"][3]["total"]
    manifest = json.loads((out / ".podcast" / f"{small_issue.stem}.json").read_text(encoding="utf-8"))
    assert "timings" not in manifest["report"]
