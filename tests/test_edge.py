"""The edge engine through the real edge-tts client, against a local protocol-faithful server."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcast.build import BuildOptions, build
from podcast.engines import registry
from podcast.engines.edge import EdgeEngine, coverage, sentence_marks
from podcast.errors import EngineError, EngineUnavailable
from podcast.infra.cache import ClipCache
from podcast.testing.fake_edge import FakeEdgeServer
from tests.conftest import SAMPLE, run_cli, write

SHOW = """
title: Edge Test Show
language: en-US
engine: edge
fallback: espeak
voices:
  edge: {name: en-US-AndrewMultilingualNeural, rate: "+5%"}
synthesis:
  backoff_s: 0.05
  attempts: 4
  request_timeout_s: 3
"""

ISSUE = """
title: Edge Weekly 1
date: 2024-03-04
language: en-US
entries:
  - title: First story
    summary: A lab released a model that writes tidy code. It is small and fast.
    url: https://example.com/1
  - title: Second story
    summary: Another team shared a dataset of spoken questions.
    url: https://example.com/2
  - title: Third story
    summary: A robot learned to fold towels. It still drops socks.
    url: https://example.com/3
"""


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEdgeServer]:
    """A running fake service that the edge engine is pointed at."""
    with FakeEdgeServer.running() as srv:
        monkeypatch.setenv("PODCAST_EDGE_ENDPOINT", srv.url)
        yield srv


@pytest.fixture()
def issue(tmp_path: Path) -> Path:
    """A three-entry English issue in a show that uses edge with an espeak fallback."""
    write(tmp_path / "edge-show" / "show.yaml", SHOW)
    return write(tmp_path / "edge-show" / "2024-03-04.yaml", ISSUE)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_builds_with_edge_voices_and_stores_sentence_timings(server: FakeEdgeServer, issue: Path,
                                                             tmp_path: Path) -> None:
    report = build(issue, BuildOptions(out_dir=tmp_path / "out"))
    assert report.engine == "edge" and report.fallback_reason is None
    assert report.segments.synthesized == 5 == len(server.requests)
    assert {r.voice for r in server.requests} == {"en-US-AndrewMultilingualNeural"}
    assert {r.rate for r in server.requests} == {"+5%"}
    # timings are stored with each clip in the cache: one mark per sentence, increasing
    cache = ClipCache()
    metas = [json.loads(p.read_text()) for p in cache.root.glob("clips/*/*.json")]
    two = [m for m in metas if len(m["text"]) == 2]
    assert two and all(0 <= m["marks"][0] < m["marks"][1] < m["frames"] for m in two)
    assert all(m["engine"] == "edge" and m["engine_version"].startswith("edge-tts 7.") for m in metas)


def test_sample_issue_builds_through_the_fake_server(server: FakeEdgeServer, tmp_path: Path) -> None:
    report = build(SAMPLE, BuildOptions(out_dir=tmp_path / "out"))
    assert report.engine == "edge"
    assert len(report.chapters) == 17
    assert {r.voice for r in server.requests} == {"zh-CN-YunxiNeural"}
    assert len(server.requests) == 17


def test_transient_failures_are_retried(server: FakeEdgeServer, issue: Path, tmp_path: Path) -> None:
    server.faults += ["refuse", "http429", "drop", "http500", "no_audio"]
    report = build(issue, BuildOptions(out_dir=tmp_path / "out", concurrency=1))
    assert report.engine == "edge" and report.segments.synthesized == 5
    assert server.faults == []
    assert server.connections >= 10


def test_truncated_and_silent_audio_is_rejected_and_redone(server: FakeEdgeServer, issue: Path,
                                                           tmp_path: Path) -> None:
    server.faults += ["truncate", "silent", "drop_mid"]
    report = build(issue, BuildOptions(out_dir=tmp_path / "out", concurrency=1))
    assert report.segments.synthesized == 5
    assert len(server.requests) == 8  # three answers rejected, each asked again


def test_a_segment_that_keeps_failing_names_itself_and_the_rest_is_cached(
        server: FakeEdgeServer, issue: Path, tmp_path: Path) -> None:
    server.fail_texts.add("towels")
    started = time.monotonic()
    with pytest.raises(EngineError) as info:  # edge named for the run: no fallback
        build(issue, BuildOptions(out_dir=tmp_path / "out", engine="edge", concurrency=2))
    assert time.monotonic() - started < 20
    message = str(info.value)
    assert "segment entry-03" in message and "no audio" in message and "4 attempts" in message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert ClipCache().stats().entries == 4
    # the rerun synthesizes only what was missing
    server.fail_texts.clear()
    server.requests.clear()
    report = build(issue, BuildOptions(out_dir=tmp_path / "out"))
    assert [r.text for r in server.requests] == [
        "And finally: A robot learned to fold towels. It still drops socks."]
    assert (report.segments.synthesized, report.segments.cached) == (1, 4)


def test_slow_answers_time_out_and_are_retried(server: FakeEdgeServer, issue: Path, tmp_path: Path) -> None:
    server.slow_s = 30
    server.faults += ["slow"]
    started = time.monotonic()
    report = build(issue, BuildOptions(out_dir=tmp_path / "out", concurrency=4))
    assert report.segments.synthesized == 5
    assert time.monotonic() - started < 15  # request timeout is 3 s


def test_build_deadline_is_enforced(server: FakeEdgeServer, issue: Path, tmp_path: Path) -> None:
    show = issue.parent / "show.yaml"
    show.write_text(show.read_text() + "  deadline_s: 2\n", encoding="utf-8")
    server.slow_s = 30
    server.faults += ["slow"] * 20
    started = time.monotonic()
    with pytest.raises(EngineError, match="deadline of 2 s"):
        build(issue, BuildOptions(out_dir=tmp_path / "out"))
    assert time.monotonic() - started < 8


def test_unreachable_service_falls_back_to_espeak_loudly(issue: Path, tmp_path: Path) -> None:
    endpoint = f"ws://127.0.0.1:{_free_port()}/consumer/speech/synthesize/readaloud/edge/v1"
    result = run_cli("build", str(issue), "--out", str(tmp_path / "o"), "--json",
                     env={"PODCAST_EDGE_ENDPOINT": endpoint})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["engine"] == "espeak"
    assert "cannot connect to 127.0.0.1" in report["fallback_reason"]
    assert "WARNING: engine 'edge' unavailable" in result.stderr
    assert "fallback engine 'espeak'" in result.stderr


def test_explicit_edge_engine_does_not_fall_back(issue: Path, tmp_path: Path) -> None:
    endpoint = f"ws://127.0.0.1:{_free_port()}/x?y=1"
    result = run_cli("build", str(issue), "--engine", "edge", "--out", str(tmp_path / "o"),
                     env={"PODCAST_EDGE_ENDPOINT": endpoint})
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the edge service: cannot connect to 127.0.0.1")
    assert "Connection refused" in result.stderr


def test_voice_names_are_checked_before_synthesis(server: FakeEdgeServer, issue: Path,
                                                  tmp_path: Path) -> None:
    show = issue.parent / "show.yaml"
    show.write_text(SHOW.replace("en-US-AndrewMultilingualNeural", "en-US-NobodyNeural"), encoding="utf-8")
    result = run_cli("build", str(issue), "--out", str(tmp_path / "o"),
                     env={"PODCAST_EDGE_ENDPOINT": server.url})
    assert result.returncode == 2
    assert result.stderr.strip() == (f"{show}:7:9: voices.edge: the edge service has no voice "
                                     "'en-US-NobodyNeural'; see `podcast voices --engine edge`")
    assert server.requests == []
    assert EdgeEngine().check_voice("Yunxi") is not None  # the form is checked offline


def test_entry_voice_override(server: FakeEdgeServer, issue: Path, tmp_path: Path) -> None:
    text = issue.read_text().replace(
        "  - title: Second story\n",
        "  - title: Second story\n    voice: {edge: en-US-AriaNeural, pitch: \"+10Hz\"}\n")
    issue.write_text(text, encoding="utf-8")
    build(issue, BuildOptions(out_dir=tmp_path / "out"))
    voices = {(r.voice, r.pitch) for r in server.requests}
    assert voices == {("en-US-AndrewMultilingualNeural", "+0Hz"), ("en-US-AriaNeural", "+10Hz")}


def test_voices_command_lists_edge_voices(server: FakeEdgeServer) -> None:
    result = run_cli("voices", "--engine", "edge", "--language", "zh",
                     env={"PODCAST_EDGE_ENDPOINT": server.url})
    assert result.returncode == 0, result.stderr
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert "zh-CN-YunxiNeural" in names and all(n.startswith("zh-") for n in names)


def test_voices_command_says_when_edge_is_unreachable() -> None:
    endpoint = f"ws://127.0.0.1:{_free_port()}/x"
    result = run_cli("voices", "--engine", "edge", env={"PODCAST_EDGE_ENDPOINT": endpoint})
    assert result.returncode == 1
    assert "cannot list edge voices" in result.stderr and "Traceback" not in result.stderr


def test_endpoint_must_be_a_websocket_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODCAST_EDGE_ENDPOINT", "http://127.0.0.1:1/")
    engine = registry.get("edge")
    with pytest.raises(EngineUnavailable):
        _ = engine.endpoint  # type: ignore[attr-defined]


def test_sentence_marks_follow_the_service_boundaries() -> None:
    boundaries = [(0, 20_000_000, "Hello there."), (21_000_000, 10_000_000, "How are you? Fine.")]
    marks = sentence_marks(("Hello there.", "How are you?", "Fine."), boundaries, 24000)
    assert marks[0] == 0 and marks[1] == round(2.1 * 24000)
    assert marks[1] < marks[2] < round(3.1 * 24000)
    assert coverage(("Hello there.", "How are you?"), boundaries[:1]) < 0.6
