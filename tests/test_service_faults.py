"""A service that hangs, refuses or sends garbage: the build ends in bounded time with one clear
line, or with the show's fallback engine for the whole episode; never a traceback.

Everything runs against the local fake edge service (podcast/testing/fake_edge.py) through the
real edge-tts client, with small timeouts in the show so that each case takes seconds.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcast.build import BuildOptions, build
from podcast.engines.edge import EdgeEngine
from podcast.errors import EngineError, PodcastError
from podcast.infra.cache import ClipCache
from podcast.testing.fake_edge import FakeEdgeServer
from tests.conftest import run_cli, write
from tests.test_edge import ISSUE  # three English entries

SHOW = """
title: Service Fault Show
language: en-US
engine: edge
fallback: espeak
edge: {{connect_timeout_s: 1, receive_timeout_s: 1}}
synthesis: {{backoff_s: 0.05, attempts: {attempts}, request_timeout_s: {timeout}{more}}}
"""


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEdgeServer]:
    """A running fake service that the edge engine is pointed at."""
    with FakeEdgeServer.running(slow_s=20) as srv:
        monkeypatch.setenv("PODCAST_EDGE_ENDPOINT", srv.url)
        yield srv


def make_issue(folder: Path, *, attempts: int = 4, timeout: float = 5, more: str = "") -> Path:
    """The three-entry issue in a show that uses edge (timeouts of a second) with an espeak fallback."""
    write(folder / "show.yaml", SHOW.format(attempts=attempts, timeout=timeout, more=more))
    return write(folder / "2024-03-04.yaml", ISSUE)


def one_error(stderr: str) -> str:
    """The one error line of a failed command's *stderr* (the other lines are its progress),
    which must hold no traceback."""
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and stderr.endswith(errors[0] + "\n") and "Traceback" not in stderr, stderr
    return errors[0]


def test_a_service_that_accepts_and_never_answers_is_stopped_by_the_receive_timeout(
        server: FakeEdgeServer, tmp_path: Path) -> None:
    server.faults += ["hang"] * 50
    issue = make_issue(tmp_path / "show", attempts=1, timeout=30, more=", deadline_s: 8")
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        build(issue, BuildOptions(out_dir=tmp_path / "out", engine="edge", concurrency=1))
    took = time.monotonic() - started
    message = str(info.value)
    # two requests waited out connect + receive timeouts (1 + 1 s), then the queue stopped
    assert message == ("edge failed 2 requests in a row the same way (segments intro, entry-01): edge sent "
                       "nothing for 2 s (connect_timeout_s + receive_timeout_s); the other requests were "
                       "stopped"), message
    assert took < 7
    assert server.connections == 2


def test_a_hung_service_falls_back_to_espeak_within_seconds(server: FakeEdgeServer, tmp_path: Path) -> None:
    server.faults += ["hang"] * 50
    issue = make_issue(tmp_path / "show")
    started = time.monotonic()
    result = run_cli("build", str(issue), "--out", str(tmp_path / "out"), "--json", timeout=120,
                     env={"PODCAST_EDGE_ENDPOINT": server.url})
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["engine"] == "espeak"
    assert "edge sent nothing for 2 s" in report["fallback_reason"]
    assert "WARNING: engine 'edge' failed (edge failed " in result.stderr
    assert "fallback engine 'espeak'" in result.stderr and "Traceback" not in result.stderr
    assert server.connections <= 4  # one round of the 4 requests at once, none retried
    assert took < 30


def test_every_handshake_refused_falls_back_and_stops_the_queue(server: FakeEdgeServer,
                                                                tmp_path: Path) -> None:
    server.faults += ["http403"] * 200  # the voice list works
    report = build(make_issue(tmp_path / "show"), BuildOptions(out_dir=tmp_path / "out"))
    assert report.engine == "espeak"
    assert report.fallback_reason is not None and "edge handshake answered HTTP 403" in report.fallback_reason
    assert server.rejected <= 8  # edge-tts itself tries a 403 twice; 4 requests at once, none retried
    assert (report.segments.total, report.segments.synthesized) == (5, 5)


def test_a_service_that_dies_mid_build_gives_the_whole_episode_to_the_fallback(
        server: FakeEdgeServer, tmp_path: Path) -> None:
    server.faults += ["ok", "ok"] + ["http500"] * 100
    report = build(make_issue(tmp_path / "show"), BuildOptions(out_dir=tmp_path / "out", concurrency=1))
    assert report.engine == "espeak" and "HTTP 500" in (report.fallback_reason or "")
    metas = [json.loads(p.read_text()) for p in ClipCache().root.glob("clips/*/*.json")]
    engines = sorted(m["engine"] for m in metas)
    assert engines == ["edge"] * 2 + ["espeak"] * 5  # edge's two clips are kept, but not used
    assert report.segments.synthesized == 5


def test_a_forced_engine_that_keeps_failing_ends_in_one_line(server: FakeEdgeServer, tmp_path: Path) -> None:
    server.faults += ["http403"] * 200
    started = time.monotonic()
    result = run_cli("build", str(make_issue(tmp_path / "show")), "--engine", "edge", "--out",
                     str(tmp_path / "out"), env={"PODCAST_EDGE_ENDPOINT": server.url})
    assert result.returncode == 1
    error = one_error(result.stderr)
    assert error.startswith("error: edge failed 2 requests in a row the same way (segments ")
    assert error.endswith("): edge handshake answered HTTP 403; the other requests were stopped")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(("fault", "why"), [("object", "TypeError: "),
                                            ("no_shortname", "entry 1 has no ShortName)")])
def test_a_malformed_voice_list_is_one_clear_line(server: FakeEdgeServer, tmp_path: Path, fault: str,
                                                  why: str) -> None:
    server.voice_faults += [fault] * 5
    result = run_cli("build", str(make_issue(tmp_path / "show")), "--engine", "edge", "--out",
                     str(tmp_path / "out"), env={"PODCAST_EDGE_ENDPOINT": server.url})
    assert result.returncode == 1
    assert one_error(result.stderr).startswith(f"error: the edge voice list is malformed ({why}")


def test_a_malformed_voice_list_falls_back(server: FakeEdgeServer, tmp_path: Path) -> None:
    server.voice_faults += ["no_shortname"]
    report = build(make_issue(tmp_path / "show"), BuildOptions(out_dir=tmp_path / "out"))
    assert (report.engine, report.fallback_reason) == ("espeak", "the edge voice list is malformed "
                                                                 "(entry 1 has no ShortName)")


def test_a_malformed_binary_frame_is_a_classified_engine_error(server: FakeEdgeServer,
                                                                tmp_path: Path) -> None:
    server.faults += ["bad_frame"] * 20
    with pytest.raises(EngineError) as info:
        build(make_issue(tmp_path / "show"),
              BuildOptions(out_dir=tmp_path / "out", engine="edge", concurrency=1))
    message = str(info.value)
    assert message.startswith("edge failed 2 requests in a row the same way (segments intro, entry-01): "
                              "edge sent a malformed answer (ValueError: "), message


def test_audio_that_is_not_mp3_names_the_segment_and_the_service(server: FakeEdgeServer,
                                                                  tmp_path: Path) -> None:
    server.faults += ["not_mp3"]
    with pytest.raises(EngineError) as info:
        build(make_issue(tmp_path / "show", attempts=1),
              BuildOptions(out_dir=tmp_path / "out", engine="edge", concurrency=1))
    assert str(info.value) == ("segment intro: edge sent audio that is not MP3 (it starts with b'<html>no') "
                               "(gave up after 1 attempts)")
    assert ClipCache().stats().entries == 4  # the other requests went on


def test_random_voice_lists_are_refused_cleanly(server: FakeEdgeServer) -> None:
    outcomes = set()
    for seed in range(40):
        server.rng = random.Random(seed)
        server.voice_faults[:] = ["random"]
        reason = EdgeEngine().probe()  # a new engine: nothing remembered
        assert reason is None or (reason.startswith("the edge voice list is malformed (")
                                  and "\n" not in reason), reason
        outcomes.add(reason is None)
    assert False in outcomes


def test_random_answers_end_in_clips_a_clean_error_or_the_fallback(server: FakeEdgeServer,
                                                                    tmp_path: Path) -> None:
    issue = make_issue(tmp_path / "show", attempts=2)
    engines = []
    for seed in range(6):
        server.rng = random.Random(seed)
        server.faults[:] = ["random"] * 60
        try:
            report = build(issue, BuildOptions(out_dir=tmp_path / f"out{seed}"))
        except PodcastError as exc:  # anything else is a traceback for the user
            assert "\n" not in str(exc) and str(exc), repr(exc)
            engines.append("error")
            continue
        assert report.engine == "edge" or report.fallback_reason, report
        engines.append(report.engine)
    assert "espeak" in engines
    # and through the command line: one seed, the same answers in another process
    server.rng = random.Random(3)
    server.faults[:] = ["random"] * 60
    result = run_cli("build", str(issue), "--out", str(tmp_path / "cli"), "--engine", "edge",
                     env={"PODCAST_EDGE_ENDPOINT": server.url})
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    if result.returncode:
        one_error(result.stderr)
