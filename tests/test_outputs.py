"""The table of output kinds and the manifest drive the build, the feed and "up to date"; and
every command that takes an issue takes a show folder too. Real builds (espeak underneath the
counting engine), the real CLI, the real feed read back."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from podcast.build import BuildOptions, build
from podcast.cli import app
from tests.conftest import CountingEngine, write

runner = CliRunner()

SHOW = """
title: Small Talk Weekly
description: Two minutes of AI news, every week.
author: The Small Talk Team
email: team@example.com
language: en-US
engine: counting
music: {intro: none, outro: none}
"""

ISSUE = """
title: Small Talk {n}
date: {date}
number: {n}
entries:
  - title: Story {n}
    summary: A lab released model number {n}. It is small and fast.
    url: https://example.com/{n}
"""


def _folder(tmp_path: Path) -> Path:
    """A show folder whose file names sort the other way round from the issues' dates."""
    show = tmp_path / "small"
    write(show / "show.yaml", SHOW)
    write(show / "week-9.yaml", ISSUE.format(n=9, date="2024-03-04"))
    write(show / "week-10.yaml", ISSUE.format(n=10, date="2024-03-11"))
    return show


def test_validate_checks_every_issue_of_a_show_folder(tmp_path: Path, counting: CountingEngine) -> None:
    show = _folder(tmp_path)
    every = runner.invoke(app, ["validate", str(show)])
    assert every.exit_code == 0, every.output
    assert every.stdout.splitlines() == [f"{show / 'week-9.yaml'}: ok (3 segments)",
                                         f"{show / 'week-10.yaml'}: ok (3 segments)"]
    newest = runner.invoke(app, ["validate", "--latest", str(show)])
    assert newest.stdout.splitlines() == [f"{show / 'week-10.yaml'}: ok (3 segments)"]
    write(show / "week-8.yaml", ISSUE.format(n=8, date="2024-02-26").replace("    summary:", "    sumary:"))
    broken = runner.invoke(app, ["validate", str(show)])
    assert broken.exit_code == 2
    assert f"{show / 'week-8.yaml'}:5:5: entries[1].summary: required field is missing" in broken.stderr
    assert len(broken.stdout.splitlines()) == 2  # the good issues are checked all the same
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(app, ["validate", str(empty), str(show / "week-9.yaml")])
    assert nothing.exit_code == 2
    assert f"{empty}:1:1: (folder): no issue files here" in nothing.stderr
    assert nothing.stdout == f"{show / 'week-9.yaml'}: ok (3 segments)\n"


def test_script_and_preview_of_a_show_folder_use_its_newest_issue(tmp_path: Path,
                                                                  counting: CountingEngine) -> None:
    show = _folder(tmp_path)
    folder = runner.invoke(app, ["script", str(show), "--format", "json"])
    assert folder.exit_code == 0, folder.output
    newest = runner.invoke(app, ["script", str(show / "week-10.yaml"), "--format", "json"])
    assert folder.stdout == newest.stdout
    assert json.loads(folder.stdout)[1]["chapter"] == "Story 10"
    wav = tmp_path / "one.wav"
    first = runner.invoke(app, ["preview", str(show), "Story", "--out", str(wav)])
    assert first.exit_code == 0, first.output
    assert first.stdout.split("\t")[2:4] == ["entry-01", "synthesized"]
    again = runner.invoke(app, ["preview", str(show / "week-10.yaml"), "Story", "--out", str(wav)])
    assert again.stdout.split("\t")[2:4] == ["entry-01", "from cache"]  # the same segment


def test_build_of_a_show_folder_goes_oldest_first_by_date(tmp_path: Path, counting: CountingEngine) -> None:
    show = _folder(tmp_path)
    out = tmp_path / "site"
    every = runner.invoke(app, ["build", str(show), "--out", str(out), "--json"])
    assert every.exit_code == 0, every.output
    assert [Path(r["mp3"]).name for r in json.loads(every.stdout)] == ["week-9.mp3", "week-10.mp3"]
    newest = runner.invoke(app, ["build", "--latest", str(show), "--out", str(out)])
    assert newest.exit_code == 0 and newest.stdout == f"{out / 'week-10.mp3'}\n"


def test_the_output_table_drives_the_build_the_manifest_and_the_feed(tmp_path: Path,
                                                                     counting: CountingEngine) -> None:
    from podcast.publish import outputs

    show = _folder(tmp_path)
    issue, out = show / "week-9.yaml", tmp_path / "site"
    assert not build(issue, BuildOptions(out_dir=out)).skipped
    plain = outputs.OutputKind(".txt", "text/plain", feed=outputs.FeedRole.TRANSCRIPT,
                               render=lambda e: "".join(" ".join(c.lines) + "\n" for c in e.captions))
    outputs.register(plain)
    try:
        report = build(issue, BuildOptions(out_dir=out))
        assert not report.skipped  # a new row: the episode built without it is out of date
        assert "A lab released model number 9." in (out / "week-9.txt").read_text(encoding="utf-8")
        names = [kind.file(out, "week-9").name for kind in outputs.kinds()]
        assert names[0] == "week-9.mp3" and names[-1] == "week-9.txt"
        assert [p.name for p in report.outputs] == names
        manifest = json.loads((out / outputs.MANIFEST_DIR / "week-9.json").read_text(encoding="utf-8"))
        assert list(manifest["outputs"]) == names
        assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(names)
        assert build(issue, BuildOptions(out_dir=out)).skipped
        fed = runner.invoke(app, ["feed", str(show), "--base-url", "https://example.org/pod",
                                  "--out", str(out)])
        assert fed.exit_code == 0, fed.output
        raw = (out / "feed.xml").read_text(encoding="utf-8")
        linked = set(re.findall(r"https://example\.org/pod/(week-9[^\"<]*)", raw))
        assert linked == {kind.file(out, "week-9").name for kind in outputs.kinds() if kind.feed}
        assert re.findall(r'<podcast:transcript url="[^"]*/([^"/]+)" type="([^"]+)"', raw) == [
            ("week-9.vtt", "text/vtt"), ("week-9.srt", "application/x-subrip"), ("week-9.txt", "text/plain")]
    finally:
        outputs.unregister(".txt")
    assert not build(issue, BuildOptions(out_dir=out)).skipped  # its manifest lists a kind gone


def test_the_feed_lists_only_episodes_with_a_complete_manifest(tmp_path: Path,
                                                                counting: CountingEngine) -> None:
    show = _folder(tmp_path)
    out = tmp_path / "site"
    assert runner.invoke(app, ["build", str(show), "--out", str(out)]).exit_code == 0
    (out / ".podcast" / "week-10.json").unlink()  # as a build killed between its moves leaves it
    fed = runner.invoke(app, ["feed", str(show), "--base-url", "https://example.org/pod", "--out", str(out)])
    assert fed.exit_code == 0, fed.output
    assert f"{show / 'week-10.yaml'}: not built yet" in fed.stderr
    raw = (out / "feed.xml").read_text(encoding="utf-8")
    assert re.findall(r"<title>(Small Talk \d+)</title>", raw) == ["Small Talk 9"]
