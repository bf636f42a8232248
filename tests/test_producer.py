"""The producer's loop, through the real CLI: validate, script, preview, new, incremental
builds, batch builds and the cache commands."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from typer.testing import CliRunner

from podcast.cli import app
from tests.conftest import SAMPLE, CountingEngine, decode, run_cli, write

runner = CliRunner()

SHOW = """
title: Test Weekly
language: en-US
engine: counting
music: {intro: none, outro: none}
"""

ISSUE = """
title: Test Weekly 1
date: 2024-03-04
entries:
  - title: Robots
    summary: A robot learned to fold towels. It still drops socks.
    url: https://example.com/robots
  - title: Speech
    summary: A new speech model sounds calm and clear.
    url: https://example.com/speech
  - title: Code
    summary: A small model writes tidy code.
    url: https://example.com/code
"""


def _show(tmp_path: Path) -> Path:
    write(tmp_path / "show" / "show.yaml", SHOW)
    return write(tmp_path / "show" / "2024-03-04.yaml", ISSUE)


def test_validate_reports_every_mistake_with_its_line(tmp_path: Path) -> None:
    write(tmp_path / "s" / "show.yaml", """
        title: Broken Show
        engine: espeek
        voices:
          espeak: {name: no-such-voice}
        music:
          intro: missing.mp3
        output: {bitrate: 100k}
        """)
    issue = write(tmp_path / "s" / "bad.yaml", """
        titel: Oops
        date: 2024-13-01
        entries:
          - title: One
            summary: ""
            url: not-a-url
          - title: Two
            sumary: typo
            summary: fine
          - summary: no title
        """)
    result = runner.invoke(app, ["validate", str(issue)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    show = tmp_path / "s" / "show.yaml"
    assert lines == [
        f"{issue}:1:1: titel: unknown field (did you mean 'title'?)",
        f"{issue}:1:1: title: required field is missing",
        f"{issue}:2:7: date: is not a real date: month must be in 1..12",
        f"{issue}:5:14: entries[1].summary: must not be empty",
        f"{issue}:6:10: entries[1].url: must be an http:// or https:// URL, got 'not-a-url'",
        f"{issue}:8:5: entries[2].sumary: warning: unknown field (did you mean 'summary'?); "
        "extra fields are passed to templates",
        f"{issue}:10:5: entries[3].title: required field is missing",
        f"{show}:2:9: engine: unknown engine 'espeek'; installed engines: edge, espeak "
        "(did you mean 'espeak'?)",
        f"{show}:6:10: music.intro: file not found: 'missing.mp3' (paths are relative to the show folder)",
        f"{show}:7:19: output.bitrate: unknown value '100k' (did you mean '160k'?); "
        "choose one of: 64k, 96k, 112k, 128k, 160k, 192k, 256k, 320k",
    ]


def test_validate_reports_template_and_voice_errors(tmp_path: Path) -> None:
    write(tmp_path / "t" / "templates" / "outro.j2", "Bye from {{ show.host }}!\n")
    write(tmp_path / "t" / "show.yaml", "language: en-US\ntemplates: templates\nvoices:\n  espeak: nope\n")
    issue = write(tmp_path / "t" / "i.yaml", ISSUE)
    result = run_cli("validate", str(issue))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"{tmp_path / 't' / 'templates' / 'outro.j2'}:1:1: template outro.j2: "
                     "while rendering outro: 'dict object' has no attribute 'host'"]


def test_validate_warnings_pass_unless_strict(tmp_path: Path) -> None:
    issue = write(tmp_path / "w" / "i.yaml", ISSUE.replace("    url: https://example.com/code\n", ""))
    ok = run_cli("validate", str(issue))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"{issue}: ok (5 segments, 2 warnings)"
    assert f"{issue}:10:5: entries[3].url: warning: no link" in ok.stderr
    strict = run_cli("validate", "--strict", str(issue))
    assert strict.returncode == 2


def test_build_runs_the_same_validation(tmp_path: Path) -> None:
    issue = write(tmp_path / "v" / "i.yaml", ISSUE.replace("date: 2024-03-04", "date: 2024-02-30"))
    result = run_cli("build", str(issue))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"{issue}:2:7: date: ")


def test_script_json_is_the_spoken_narration(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    result = runner.invoke(app, ["script", str(issue), "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)
    assert [ln["id"] for ln in lines] == ["intro", "entry-01", "entry-02", "entry-03", "outro"]
    assert all(set(ln) == {"id", "chapter", "voice", "text"} for ln in lines)
    assert lines[1] == {"id": "entry-01", "chapter": "Robots", "voice": "en-us",
                        "text": "First up: A robot learned to fold towels. It still drops socks."}
    assert counting.calls == []  # nothing is synthesized
    text = runner.invoke(app, ["script", str(issue)]).stdout
    assert "2. [entry-01] Robots (en-us)\nFirst up: A robot" in text
    md = runner.invoke(app, ["script", str(issue), "-f", "md"]).stdout
    assert "## Robots\n\n*entry-01 · en-us*\n\n" in md


def test_preview_synthesizes_exactly_one_segment(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    out = tmp_path / "one.wav"
    first = runner.invoke(app, ["preview", str(issue), "Speech", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert counting.calls == [("Also this week: A new speech model sounds calm and clear.",)]
    path, seconds, seg, state, engine = first.stdout.strip().split("\t")
    assert (Path(path), seg, state, engine) == (out, "entry-02", "synthesized", "counting")
    assert 1.0 < float(seconds.split()[0]) < 6.0 and out.stat().st_size > 20000
    # by id and by index, the same segment; now cached: no engine call
    counting.calls.clear()
    for key in ("entry-02", "3"):
        again = runner.invoke(app, ["preview", str(issue), key, "--out", str(out)])
        assert again.exit_code == 0 and again.stdout.split("\t")[3] == "from cache"
    assert counting.calls == []
    missing = runner.invoke(app, ["preview", str(issue), "nothing-like-this"])
    assert missing.exit_code == 2 and "no segment 'nothing-like-this'" in missing.stderr


def test_preview_play_says_when_no_player_is_found(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    env_path = os.environ["PATH"]
    os.environ["PATH"] = str(tmp_path / "empty-bin")
    try:
        result = runner.invoke(app, ["preview", str(issue), "1", "--play", "--out", str(tmp_path / "a.mp3")])
    finally:
        os.environ["PATH"] = env_path
    assert result.exit_code == 0, result.output
    assert "no audio player found" in result.stderr
    assert len(decode(tmp_path / "a.mp3")) > 44100  # the preview is written all the same


def test_editing_one_entry_resynthesizes_only_it(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    out = tmp_path / "out"
    first = runner.invoke(app, ["build", str(issue), "--out", str(out), "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["segments"] == {"total": 5, "synthesized": 5, "cached": 0}
    issue.write_text(issue.read_text().replace("sounds calm and clear", "sounds warm"), encoding="utf-8")
    counting.calls.clear()
    second = runner.invoke(app, ["build", str(issue), "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert counting.calls == [("Also this week: A new speech model sounds warm.",)]
    assert "5 segments (1 synthesized, 4 from cache)" in second.stderr
    sections = json.loads(first.stdout)["timings"]["encode"]["sections"]
    assert f"{sections} sections (1 encoded, {sections - 1} from cache)" in second.stderr
    assert str(out / "2024-03-04.mp3") in second.stderr and str(out / "2024-03-04.vtt") in second.stderr


def test_quiet_prints_only_the_result(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    result = runner.invoke(app, ["build", str(issue), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0
    assert result.stderr == "" and result.stdout.strip() == str(tmp_path / "o" / "2024-03-04.mp3")
    verbose = runner.invoke(app, ["build", str(issue), "--out", str(tmp_path / "o"), "--verbose", "--force"])
    assert "encode took" in verbose.stderr and "[5/5] outro: cached" in verbose.stderr


def test_new_scaffolds_the_next_issue_and_never_overwrites(tmp_path: Path) -> None:
    show = tmp_path / "weekly"
    write(show / "show.yaml", "title: AI大模型周报\nlanguage: zh-CN\n")
    write(show / "2024-02-3.yaml", SAMPLE.read_text(encoding="utf-8"))
    result = run_cli("new", str(show))
    assert result.returncode == 0, result.stderr
    created = Path(result.stdout.strip())
    assert created == show / "2024-02-4.yaml"
    text = created.read_text(encoding="utf-8")
    assert "date: 2024-02-26" in text and "number: 4" in text and "# " in text
    assert run_cli("validate", str(created)).returncode == 0
    before = created.read_bytes()
    again = run_cli("new", str(show), "--date", "2024-02-26")
    assert again.returncode == 1 and "already" in again.stderr
    assert created.read_bytes() == before
    march = run_cli("new", str(show), "--date", "2024-03-04")
    assert Path(march.stdout.strip()) == show / "2024-03-1.yaml"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    dated = run_cli("new", str(fresh), "--date", "2024-05-06")
    assert Path(dated.stdout.strip()) == fresh / "2024-05-06.yaml"
    assert run_cli("new", str(fresh), "--date", "2024-05-06").returncode == 1


def test_batch_build_skips_up_to_date_issues_and_latest(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    write(issue.parent / "2024-03-11.yaml", ISSUE.replace("2024-03-04", "2024-03-11").replace(
        "Test Weekly 1", "Test Weekly 2"))
    out = tmp_path / "out"
    first = runner.invoke(app, ["build", str(issue.parent), "--out", str(out), "--json"])
    assert first.exit_code == 0, first.output
    reports = json.loads(first.stdout)
    assert [r["skipped"] for r in reports] == [False, False]
    second = runner.invoke(app, ["build", str(issue.parent), "--out", str(out), "--json"])
    assert [r["skipped"] for r in json.loads(second.stdout)] == [True, True]
    # a damaged output makes its issue out of date again
    (out / "2024-03-11.vtt").write_text("WEBVTT\n", encoding="utf-8")
    third = runner.invoke(app, ["build", str(issue.parent), "--out", str(out), "--json"])
    assert [r["skipped"] for r in json.loads(third.stdout)] == [True, False]
    latest = runner.invoke(app, ["build", "--latest", str(issue.parent), "--out", str(out)])
    assert latest.exit_code == 0 and latest.stdout.strip() == str(out / "2024-03-11.mp3")


def test_cache_info_and_prune(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    cache = tmp_path / "cache"
    assert runner.invoke(app, ["build", str(issue), "--out", str(tmp_path / "o"),
                               "--cache-dir", str(cache)]).exit_code == 0
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)])
    assert f"location: {cache}" in info.stdout and "entries: 5" in info.stdout
    sections = len(list(cache.glob("sections/*/*.mp3")))
    assert sections >= 2 and f"encoded sections: {sections} " in info.stdout
    issue.write_text(issue.read_text().replace("tidy code", "neat code"), encoding="utf-8")
    prune = runner.invoke(app, ["cache", "prune", "--unused-in", str(tmp_path / "show"),
                                "--cache-dir", str(cache)])
    assert prune.exit_code == 0, prune.output
    # the clip of the edited text goes, and the one section made from it
    assert prune.stdout.startswith("removed 1 entries") and "removed 1 encoded sections" in prune.stdout
    assert len(list(cache.glob("sections/*/*.mp3"))) == sections - 1
    old = time.time() - 40 * 86400
    for f in [*cache.glob("clips/*/*.wav"), *cache.glob("sections/*/*.mp3")]:
        os.utime(f, (old, old))
    aged = runner.invoke(app, ["cache", "prune", "--older-than", "30", "--cache-dir", str(cache)])
    assert aged.stdout.startswith("removed 4 entries")
    after = runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)]).stdout
    assert "entries: 0" in after and "encoded sections: 0 " in after


def test_unchanged_issue_is_left_alone_unless_forced(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    out = tmp_path / "o"
    assert runner.invoke(app, ["build", str(issue), "--out", str(out)]).exit_code == 0
    mp3 = out / "2024-03-04.mp3"
    stamp = mp3.stat().st_mtime_ns
    again = runner.invoke(app, ["build", str(issue), "--out", str(out)])
    assert again.exit_code == 0 and f"up to date: {mp3}" in again.stderr
    assert mp3.stat().st_mtime_ns == stamp
    forced = runner.invoke(app, ["build", str(issue), "--out", str(out), "--force"])
    assert forced.exit_code == 0 and "built 2024-03-04.mp3" in forced.stderr
    assert mp3.stat().st_mtime_ns != stamp


def test_new_starts_a_show_folder_with_a_show_file(tmp_path: Path) -> None:
    folder = tmp_path / "shows" / "daily-ai"
    result = run_cli("new", str(folder), "--date", "2024-07-01", "--language", "zh-CN")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == folder / "2024-07-01.yaml"
    assert f"created {folder / 'show.yaml'}" in result.stderr
    show = (folder / "show.yaml").read_text(encoding="utf-8")
    assert "language: zh-CN" in show and "edge: zh-CN-YunxiNeural" in show
    checked = run_cli("validate", str(folder / "2024-07-01.yaml"))
    assert checked.returncode == 0, checked.stderr
    # the next one reuses the show file and never touches it
    before = (folder / "show.yaml").read_bytes()
    again = run_cli("new", str(folder))
    assert Path(again.stdout.strip()) == folder / "2024-07-08.yaml" and "created" not in again.stderr
    assert (folder / "show.yaml").read_bytes() == before


def test_a_failing_issue_does_not_stop_a_folder_build(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    write(issue.parent / "2024-03-11.yaml", ISSUE.replace("2024-03-04", "2024-03-11").replace(
        "A small model writes tidy code.", "This one is broken."))
    write(issue.parent / "2024-03-18.yaml", ISSUE.replace("2024-03-04", "2024-03-18"))
    counting.fail_on = "broken"
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(issue.parent), "--out", str(out), "--json"])
    assert result.exit_code == 1
    assert [Path(r["mp3"]).name for r in json.loads(result.stdout)] == ["2024-03-04.mp3", "2024-03-18.mp3"]
    assert "segment entry-03" in result.stderr and "1 of 3 issues failed" in result.stderr


def test_validate_catches_what_would_fail_late(tmp_path: Path) -> None:
    folder = tmp_path / "late"
    write(folder / "templates" / "notes.md.j2", "# {{ issue.titel }}\n")
    write(folder / "templates" / "intro.j2", "Welcome to {{ show.title + 1 }}.\n")
    write(folder / "show.yaml", "language: en-US\ntemplates: templates\nvoices:\n  espek: en-us\n")
    issue = write(folder / "i.yaml", """
        title: Late
        date: 2024-01-01
        entries:
          - title: Only a link
            summary: "https://example.com/paper [pause 1s]"
            url: https://example.com/paper
            voice: {espeek: {pitch: "+10Hz"}}
        """)
    result = run_cli("validate", str(issue))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert f"{issue}:7:13: entries[1].voice.espeek: unknown field (did you mean 'espeak'?); " \
           "use rate, pitch, volume or an engine name" in lines
    assert f"{folder / 'show.yaml'}:4:3: voices.espek: unknown field (did you mean 'espeak'?)" in lines
    # once those are fixed, the template mistakes show up, each with its file and line
    write(folder / "show.yaml", "language: en-US\ntemplates: templates\n")
    issue.write_text(issue.read_text().replace("    voice: {espeek: {pitch: \"+10Hz\"}}\n", ""))
    second = run_cli("validate", str(issue)).stderr.strip().splitlines()
    assert second == [f"{folder / 'templates' / 'intro.j2'}:1:1: template intro.j2: while rendering intro: "
                      'can only concatenate str (not "int") to str']
    write(folder / "templates" / "intro.j2", "Welcome.\n")
    third = run_cli("validate", str(issue)).stderr.strip().splitlines()
    assert third == [f"{issue}:5:14: entries[1].summary: nothing to say once pauses and links are taken out",
                     f"{folder / 'templates' / 'notes.md.j2'}:1:1: template notes.md.j2: show notes: "
                     "'dict object' has no attribute 'titel'"]


def test_a_summary_with_nothing_to_say_is_an_input_error(tmp_path: Path) -> None:
    issue = write(tmp_path / "e" / "i.yaml", """
        title: Empty
        date: 2024-01-01
        language: en-US
        intro: "[pause 1s] https://example.com"
        entries:
          - title: Fine
            summary: "Hello. [pause 1s] https://example.com/x [pause 1s] Bye."
            url: https://example.com
        """)
    result = run_cli("validate", str(issue))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{issue}:1:1: intro: nothing to say once pauses and links are taken out"


def test_prune_refuses_a_folder_without_issues(tmp_path: Path, counting: CountingEngine) -> None:
    issue = _show(tmp_path)
    cache = tmp_path / "cache"
    runner.invoke(app, ["build", str(issue), "--out", str(tmp_path / "o"), "--cache-dir", str(cache)])
    wrong = runner.invoke(app, ["cache", "prune", "--unused-in", str(tmp_path / "nope"),
                                "--cache-dir", str(cache)])
    assert wrong.exit_code == 2 and "would empty the cache" in wrong.stderr
    assert "entries: 5" in runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)]).stdout


def test_an_unwritable_output_folder_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    issue = write(tmp_path / "w" / "i.yaml", ISSUE)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("build", str(issue), "--engine", "espeak", "--out", str(blocker / "out"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_validate_warns_about_example_text_left_from_new(tmp_path: Path) -> None:
    folder = tmp_path / "fresh-show"
    created = Path(run_cli("new", str(folder), "--date", "2024-07-01").stdout.strip())
    result = run_cli("validate", str(created))
    assert result.returncode == 0 and result.stdout.strip().endswith("(3 segments, 1 warning)")
    assert "entries[1]: warning: still has the example text from `podcast new`" in result.stderr
    assert run_cli("validate", "--strict", str(created)).returncode == 2
