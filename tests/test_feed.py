"""The podcast feed, parsed back with a real feed parser, and the CI workflows, whose every
`podcast` command is run for real against a small show."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import feedparser
import pytest
import yaml
from typer.testing import CliRunner

from podcast.build import BuildOptions, build
from podcast.cli import app
from podcast.publish.feed import episode_guid, write_feed
from tests.conftest import ROOT, CountingEngine, run_cli, write

SHOW = """
title: Small Talk Weekly
description: Two minutes of AI news, every week.
author: The Small Talk Team
email: team@example.com
website: https://example.com/small-talk
language: en-US
category: Technology
engine: {engine}
fallback: espeak
music: {{intro: none, outro: none}}
"""

ISSUE = """
title: Small Talk {n}
date: {date}
number: {n}
description: Episode {n} in one line.
entries:
  - title: Story {n}
    summary: A lab released model number {n}. It is small and fast.
    url: https://example.com/{n}
"""


def _show(folder: Path, engine: str = "counting") -> Path:
    write(folder / "show.yaml", SHOW.format(engine=engine))
    write(folder / "2024-03-04.yaml", ISSUE.format(n=1, date="2024-03-04"))
    write(folder / "2024-03-11.yaml", ISSUE.format(n=2, date="2024-03-11"))
    return folder


def test_feed_has_every_required_tag(tmp_path: Path, counting: CountingEngine) -> None:
    show = _show(tmp_path / "small")
    out = tmp_path / "site"
    for issue in sorted(show.glob("2024-*.yaml")):
        build(issue, BuildOptions(out_dir=out))
    result = CliRunner().invoke(app, ["feed", str(show), "--base-url", "https://example.org/pod",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == out / "feed.xml"
    parsed = feedparser.parse(str(out / "feed.xml"))
    assert not parsed.bozo
    assert parsed.version == "rss20"
    assert {"itunes", "podcast"} <= set(parsed.namespaces)
    channel = parsed.feed
    assert channel.title == "Small Talk Weekly"
    assert channel.subtitle == "Two minutes of AI news, every week."
    assert channel.language == "en-US"
    assert channel.author_detail.name == "The Small Talk Team"
    assert channel.publisher_detail.email == "team@example.com"  # itunes:owner
    assert channel.tags[0].term == "Technology"
    assert not channel.itunes_explicit  # feedparser: "yes" is True, anything else is not explicit
    assert channel.image.href == "https://example.org/pod/cover.png"
    assert (out / "cover.png").is_file()
    assert channel.link == "https://example.com/small-talk"
    assert [e.title for e in parsed.entries] == ["Small Talk 2", "Small Talk 1"]
    for entry, stem in zip(parsed.entries, ["2024-03-11", "2024-03-04"], strict=True):
        (enclosure,) = entry.enclosures
        mp3 = out / f"{stem}.mp3"
        assert enclosure.href == f"https://example.org/pod/{stem}.mp3"
        assert int(enclosure.length) == mp3.stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert entry.id == episode_guid(show, stem) and entry.guidislink is False
        assert entry.published == f"Mon, {stem[-2:]} Mar 2024 00:00:00 +0000"
        assert 2 <= int(entry.itunes_duration) < 60
        assert "Story" in entry.description and "00:00" in entry.description
        assert entry.podcast_chapters["url"] == f"https://example.org/pod/{stem}.chapters.json"
        assert entry.podcast_chapters["type"] == "application/json+chapters"
    raw = (out / "feed.xml").read_text(encoding="utf-8")
    assert raw.count("<podcast:transcript ") == 4 and 'type="text/vtt"' in raw
    assert "<lastBuildDate>Mon, 11 Mar 2024 00:00:00 +0000</lastBuildDate>" in raw
    assert "<itunes:explicit>false</itunes:explicit>" in raw


def test_guids_and_bytes_are_stable_across_rebuilds(tmp_path: Path, counting: CountingEngine) -> None:
    show = _show(tmp_path / "small")
    out = tmp_path / "site"
    for issue in sorted(show.glob("2024-*.yaml")):
        build(issue, BuildOptions(out_dir=out))
    first, _ = write_feed(show, "https://example.org/pod", out)
    before = first.read_bytes()
    for issue in sorted(show.glob("2024-*.yaml")):
        build(issue, BuildOptions(out_dir=out, skip_up_to_date=False))
    second, _ = write_feed(show, "https://example.org/pod", out)
    assert second.read_bytes() == before
    guids = re.findall(r"<guid[^>]*>([^<]+)</guid>", before.decode())
    assert guids == [episode_guid(show, "2024-03-11"), episode_guid(show, "2024-03-04")]
    # a new title does not change an episode's identity
    issue = show / "2024-03-04.yaml"
    issue.write_text(issue.read_text().replace("Small Talk 1", "Small Talk One"), encoding="utf-8")
    build(issue, BuildOptions(out_dir=out))
    third, _ = write_feed(show, "https://example.org/pod", out)
    assert re.findall(r"<guid[^>]*>([^<]+)</guid>", third.read_text()) == guids


def test_feed_needs_the_show_settings(tmp_path: Path, counting: CountingEngine) -> None:
    show = _show(tmp_path / "small")
    (show / "show.yaml").write_text("engine: counting\nmusic: {intro: none, outro: none}\n", encoding="utf-8")
    build(show / "2024-03-04.yaml", BuildOptions(out_dir=tmp_path / "site"))
    result = CliRunner().invoke(app, ["feed", str(show), "--base-url", "https://example.org/pod",
                                      "--out", str(tmp_path / "site")])
    assert result.exit_code == 2
    assert [line.split(": ")[1] for line in result.stderr.strip().splitlines()] == [
        "title", "description", "author", "email"]
    assert all(line.startswith(f"{show / 'show.yaml'}:1:1:") for line in result.stderr.strip().splitlines())


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in workflow["jobs"].items() for step in spec["steps"]]


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def test_weekly_workflow_schedule_trigger_and_caches() -> None:
    workflow = _load("weekly.yml")
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert int(minute) % 2 == 1 and 0 <= int(hour) < 24
    assert (day, month) == ("*", "*") and weekday.isdigit()
    assert "workflow_dispatch" in workflow["on"]
    steps = _steps(workflow)
    uses = [s.get("uses", "") for _, s in steps]
    python = next(s for _, s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["cache"] == "pip" and python["with"]["python-version"] == "3.11"
    restore = [s for _, s in steps if s.get("uses", "").startswith("actions/cache/restore")]
    save = [s for _, s in steps if s.get("uses", "").startswith("actions/cache/save")]
    assert any(s["with"]["path"] == ".podcast-cache" for s in restore)
    segment_save = next(s for s in save if s["with"]["path"] == ".podcast-cache")
    assert "steps.key.outputs.engines" in segment_save["with"]["key"]  # a voice/engine change: new cache
    assert segment_save.get("if") == "always()"
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert any(s.get("if") == "failure()" and "::error" in s.get("run", "") for _, s in steps)
    runs = " ".join(s.get("run", "") for _, s in steps)
    assert 'podcast build --latest "$SHOW_DIR"' in runs


def test_catalogue_workflow_is_a_matrix_sharing_the_cache() -> None:
    workflow = _load("catalog.yml")
    assert "workflow_dispatch" in workflow["on"]
    matrix = workflow["jobs"]["episode"]["strategy"]["matrix"]
    assert matrix["issue"] == "${{ fromJSON(needs.list.outputs.issues) }}"
    episode_steps = workflow["jobs"]["episode"]["steps"]
    assert any(s.get("uses", "").startswith("actions/cache/restore") for s in episode_steps)
    publish = workflow["jobs"]["publish"]["steps"]
    assert any(s.get("uses", "").startswith("actions/cache/save") for s in publish)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("name", ["weekly.yml", "catalog.yml"])
def test_every_podcast_command_in_the_workflows_runs(tmp_path: Path, name: str) -> None:
    show = _show(tmp_path / "small", engine="edge")
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "SHOW_DIR": str(show), "SITE_DIR": str(tmp_path / "site"),
           "PODCAST_CACHE_DIR": str(tmp_path / "cache"), "GITHUB_OUTPUT": str(tmp_path / "out.txt"),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "BASE_URL": "https://example.org/pod",
           "ISSUE": str(show / "2024-03-11.yaml"), "PATH": f"{bindir}:{os.environ['PATH']}",
           # the edge service is unreachable here: the show's fallback engine is used
           "PODCAST_EDGE_ENDPOINT": f"ws://127.0.0.1:{_closed_port()}/edge"}
    ran = []
    for _, step in _steps(_load(name)):
        script = step.get("run", "")
        if "podcast " not in script or step.get("if") == "failure()":
            continue
        result = subprocess.run(["bash", "-eo", "pipefail", "-c", script], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, (script, result.stderr)
        ran.append(script)
    assert any("podcast feed" in s for s in ran) and any("podcast build" in s for s in ran)
    outputs = (tmp_path / "out.txt").read_text()
    assert re.search(r"^engines=[0-9a-f]{16}$", outputs, re.M)
    feed = feedparser.parse(str(tmp_path / "site" / "feed.xml"))
    assert not feed.bozo and len(feed.entries) >= 1
    if name == "catalog.yml":
        assert 'issues=["' in outputs


def test_readme_weekly_setup_names_the_workflow_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for needle in ("podcast new", "weekly.yml", "catalog.yml", "GitHub Actions", "podcast feed"):
        assert needle in readme, needle
    assert run_cli("--help").returncode == 0


def test_feed_urls_are_percent_encoded(tmp_path: Path, counting: CountingEngine) -> None:
    show = tmp_path / "small"
    write(show / "show.yaml", SHOW.format(engine="counting"))
    issue = write(show / "第1期 ep.yaml", ISSUE.format(n=1, date="2024-03-04"))
    out = tmp_path / "site"
    build(issue, BuildOptions(out_dir=out))
    feed, _ = write_feed(show, "https://example.org/pod", out)
    (entry,) = feedparser.parse(str(feed)).entries
    assert entry.enclosures[0].href == "https://example.org/pod/%E7%AC%AC1%E6%9C%9F%20ep.mp3"
    assert " " not in entry.podcast_chapters["url"]
