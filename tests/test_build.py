"""End-to-end builds with the real espeak engine and real ffmpeg, read back from the files."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import yaml
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from podcast.build import BuildOptions, BuildReport, build
from tests.conftest import SAMPLE, CountingEngine, decode, run_cli, write


def _id3_chapters(mp3: Path) -> list[tuple[str, int, int, str | None]]:
    """(title, start ms, end ms, url) in CTOC order, read back with mutagen."""
    tags = ID3(str(mp3))
    toc = tags.getall("CTOC")
    assert len(toc) == 1
    assert toc[0].flags & 0x01 and toc[0].flags & 0x02  # ordered, top-level
    out = []
    for element in toc[0].child_element_ids:
        chap = tags[f"CHAP:{element}"]
        title = chap.sub_frames["TIT2"].text[0]
        urls = chap.sub_frames.getall("WXXX")
        out.append((title, chap.start_time, chap.end_time, urls[0].url if urls else None))
    return out


def test_sample_issue_builds_with_17_chapters(sample_build: BuildReport) -> None:
    issue = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    chapters = _id3_chapters(sample_build.mp3)
    assert len(chapters) == 17
    titles = [c[0] for c in chapters]
    assert titles[1:-1] == [e["title"] for e in issue["entries"]]
    starts = [c[1] for c in chapters]
    assert starts[0] == 0 and starts == sorted(starts) and len(set(starts)) == 17
    for (_, _, end, _), (_, nxt, _, _) in itertools.pairwise(chapters):
        assert end == nxt
    urls = [c[3] for c in chapters[1:-1]]
    assert urls == [e.get("url") for e in issue["entries"]]
    # the report agrees with what is in the file
    assert [round(c.start_s * 1000) for c in sample_build.chapters] == starts


def test_sample_duration_is_plausible_for_its_text(sample_build: BuildReport) -> None:
    issue = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    chars = sum(len(e["summary"]) for e in issue["entries"])
    samples = decode(sample_build.mp3)
    seconds = len(samples) / 44100
    assert abs(seconds - sample_build.duration_s) < 0.1
    info = MP3(str(sample_build.mp3)).info
    assert info is not None and abs(info.length - seconds) < 0.1
    # Mandarin narration runs at roughly 3 to 8 characters a second
    assert chars / 8 < seconds < chars / 3 + 60


def test_chapters_start_where_their_speech_starts(sample_build: BuildReport) -> None:
    samples = decode(sample_build.mp3)
    rate = 44100
    for chapter in sample_build.chapters[1:-1]:
        at = round(chapter.start_s * rate)
        before = samples[at - round(0.3 * rate):at - round(0.02 * rate)]
        after = samples[at:at + round(0.3 * rate)]
        assert np.abs(before).max() < 0.01, chapter.title
        assert np.abs(after).max() > 0.05, chapter.title
        # speech begins within 20 ms of the chapter mark
        onset = int(np.argmax(np.abs(samples[at - rate // 10:at + rate // 10]) > 0.01)) - rate // 10
        assert abs(onset) < 0.02 * rate, (chapter.title, onset)


def test_chapters_json_matches_id3(sample_build: BuildReport) -> None:
    doc = json.loads(sample_build.mp3.with_suffix("").with_suffix(".chapters.json").read_text("utf-8"))
    assert doc["version"] == "1.2.0"
    id3 = _id3_chapters(sample_build.mp3)
    assert [(c["title"], round(c["startTime"] * 1000), c.get("url")) for c in doc["chapters"]] == [
        (t, s, u) for t, s, _, u in id3
    ]


def test_second_build_makes_zero_engine_calls(small_issue: Path, tmp_path: Path,
                                               counting: CountingEngine) -> None:
    """The clip cache alone serves a rebuild: up-to-date skipping is off, so the second build
    really runs (mix, encode, write) and must take every clip from the cache."""
    options = BuildOptions(out_dir=tmp_path / "out", engine="counting", skip_up_to_date=False)
    first = build(small_issue, options)
    assert len(counting.calls) == first.segments.total == 4
    assert first.segments.synthesized == 4
    counting.calls.clear()
    second = build(small_issue, options)
    assert counting.calls == []
    assert not second.skipped
    assert (second.segments.synthesized, second.segments.cached) == (0, 4)
    assert second.mp3.read_bytes() == first.mp3.read_bytes()


def test_cli_json_report(small_issue: Path, tmp_path: Path) -> None:
    result = run_cli("build", str(small_issue), "--out", str(tmp_path / "o"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert Path(report["mp3"]).is_file()
    assert report["engine"] == "espeak"
    assert report["segments"] == {"total": 4, "synthesized": 4, "cached": 0}
    assert [c["title"] for c in report["chapters"]] == ["Intro", "First story", "Second story", "Outro"]
    assert report["chapters"][1]["url"] == "https://example.com/one"
    assert report["duration_s"] > 5
    assert set(report["chapters"][0]) == {"title", "start_s", "end_s", "url"}


def test_cli_prints_mp3_path_and_uses_default_out_dir(small_issue: Path, tmp_path: Path) -> None:
    result = run_cli("build", str(small_issue), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = Path(result.stdout.strip())
    assert printed == Path("audio/show/2024-03-04.mp3")
    assert (tmp_path / printed).is_file()


def test_yaml_syntax_error_exits_2_with_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", """
        title: Broken
        date: 2024-01-01
        entries:
          - title: "unterminated
            summary: x
        """)
    result = run_cli("build", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{bad}:")
    assert ":6:" in lines[0] or ":4:" in lines[0]
    assert "YAML" in lines[0]


def test_missing_field_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    bad = write(tmp_path / "missing.yaml", """
        title: Missing summary
        date: 2024-01-01
        entries:
          - title: one
            summary: fine
          - title: two
            url: https://example.com
        """)
    result = run_cli("build", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{bad}:6:5: entries[2].summary: required field is missing"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = write(tmp_path / "many.yaml", """
        title: ""
        date: 2024-02-30
        language: not a tag
        entries:
          - title: one
            summary: fine
            url: ftp://example.com
        """)
    result = run_cli("build", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    fields = [line.split(": ")[1] for line in lines]
    assert fields == ["title", "date", "language", "entries[1].url"]
    assert lines[1].startswith(f"{bad}:2:7:")


def test_failed_build_keeps_the_good_mp3(small_issue: Path, tmp_path: Path,
                                          counting: CountingEngine) -> None:
    out = tmp_path / "out"
    good = build(small_issue, BuildOptions(out_dir=out, engine="counting"))
    before = good.mp3.read_bytes()
    text = small_issue.read_text(encoding="utf-8").replace("dataset of spoken", "dataset of broken")
    small_issue.write_text(text, encoding="utf-8")
    counting.fail_on = "broken"
    result_error = None
    try:
        build(small_issue, BuildOptions(out_dir=out, engine="counting"))
    except Exception as exc:  # the failure itself is the point here
        result_error = exc
    assert result_error is not None and "segment entry-02" in str(result_error)
    assert good.mp3.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == sorted([".podcast", *(p.name for p in good.outputs)])
    assert not any(p.name.endswith(".tmp") for p in out.rglob("*"))  # no staged leftovers


def test_unknown_engine_is_an_input_error(tmp_path: Path) -> None:
    issue = write(tmp_path / "s" / "i.yaml", """
        title: T
        date: 2024-01-01
        entries: [{title: a, summary: hello there}]
        """)
    result = run_cli("build", str(issue), "--engine", "nope")
    assert result.returncode == 2
    assert f"{issue}:1:1: --engine: unknown engine 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_issue_without_show_config_builds_in_its_language(tmp_path: Path,
                                                          counting: CountingEngine) -> None:
    issue = write(tmp_path / "zh" / "x.yaml", """
        title: 测试
        date: 2024-01-01
        entries:
          - title: 第一条
            summary: 这是一条很短的测试新闻。
        """)
    report = build(issue, BuildOptions(out_dir=tmp_path / "o", engine="counting"))
    assert report.chapters[0].title == "开场"
    assert counting.calls[0][0].startswith("大家好")


def test_undefined_template_variable_is_an_error(tmp_path: Path) -> None:
    show = tmp_path / "myshow"
    template = "{{ transition }}\n{{ entry.speaker }} says: {{ entry.summary }}\n"
    write(show / "templates" / "entry.j2", template)
    write(show / "show.yaml", "title: Mine\nlanguage: en-US\ntemplates: templates\n")
    issue = write(show / "1.yaml", """
        title: One
        date: 2024-01-01
        entries:
          - title: a
            summary: b
        """)
    result = run_cli("build", str(issue))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith(f"{show / 'templates' / 'entry.j2'}:2:")
    assert "speaker" in line and "entries[1]" in line
