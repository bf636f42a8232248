"""Engine faults: an engine that hangs, crashes or raises mid-build is stopped by the request
timeout, the error names the segment, finished clips stay cached and a rerun does the rest.

The faulty engine (tests/fault_engine.py) is espeak with a fault on one entry. Builds run
through the CLI in a subprocess, which finds the engine through an entry point, and in this
process, with the engine registered.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from podcast.build import BuildOptions, build
from podcast.engines import registry, workers
from podcast.engines.base import Clip, LocalEngine, Request
from podcast.engines.select import choose_engine
from podcast.errors import EngineError, EngineFailing, TransientEngineError
from podcast.infra.cache import ClipCache
from podcast.input.project import load
from podcast.report import Silent
from podcast.synthesis.run import plan, run
from tests import fault_engine
from tests.conftest import ROOT, run_cli, write
from tests.fault_engine import FAULT_ENV, LOG_ENV, MARKER, FaultyEngine, logged_calls
from tests.test_engines import Quiet

SHOW = """
title: Fault Show
language: en-US
engine: faulty
synthesis: {{request_timeout_s: {timeout}, attempts: {attempts}, backoff_s: 0.1}}
"""

ISSUE = f"""
title: Fault Weekly 1
date: 2024-03-04
language: en-US
entries:
  - title: First story
    summary: A lab released a model that writes tidy code.
    url: https://example.com/1
  - title: Second story
    summary: {MARKER} stops here.
    url: https://example.com/2
  - title: Third story
    summary: A robot learned to fold towels.
    url: https://example.com/3
"""

T = TypeVar("T")

EXPECTED = {
    "hang": (r"segment entry-02: no answer from faulty within [\d.]+ s \(gave up after 1 attempts\); "
             r"worker stopped"),
    "crash": r"segment entry-02: engine crashed \(signal SIGSEGV\) \(gave up after 1 attempts\)",
    "raise": r"segment entry-02: faulty failed: RuntimeError: the synthesizer fell over",
}


def make_issue(folder: Path, timeout: float = 1, attempts: int = 1) -> Path:
    """The three-entry issue in a show that uses the faulty engine (the second entry has the fault)."""
    write(folder / "show.yaml", SHOW.format(timeout=timeout, attempts=attempts))
    return write(folder / "2024-03-04.yaml", ISSUE)


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment in which a CLI subprocess finds the faulty engine as an installed plugin."""
    site = fault_engine.install_entry_point(tmp_path_factory.mktemp("site"))
    path = os.pathsep.join(p for p in (str(site), str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


@pytest.fixture(scope="module")
def clean_episode(tmp_path_factory: pytest.TempPathFactory, plugin_env: dict[str, str]) -> tuple[bytes, int]:
    """The episode built without a fault into an empty cache, and how many clips it made."""
    tmp = tmp_path_factory.mktemp("clean")
    cache = tmp / "cache"
    result = run_cli("build", str(make_issue(tmp / "show")), "--out", str(tmp / "out"),
                     "--cache-dir", str(cache), env={**plugin_env, FAULT_ENV: ""})
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip()).read_bytes(), len(list(ClipCache(cache).keys()))


@pytest.fixture()
def faulty() -> Iterator[None]:
    """Forget the in-process registration of the faulty engine afterwards."""
    yield
    registry.unregister(fault_engine.NAME)


@pytest.mark.parametrize("fault", ["hang", "crash", "raise"])
def test_fault_fails_fast_names_segment_and_rerun_resumes(
        fault: str, tmp_path: Path, plugin_env: dict[str, str], clean_episode: tuple[bytes, int]) -> None:
    issue = make_issue(tmp_path / "show")
    log = tmp_path / "calls.log"
    cache = ClipCache(Path(os.environ["PODCAST_CACHE_DIR"]))
    env = {**plugin_env, LOG_ENV: str(log)}
    started = time.monotonic()
    failed = run_cli("build", str(issue), "--out", str(tmp_path / "out"), env={**env, FAULT_ENV: fault},
                     timeout=60)
    took = time.monotonic() - started
    assert failed.returncode == 1, failed.stderr
    assert re.search(EXPECTED[fault], failed.stderr), failed.stderr
    assert "Traceback" not in failed.stderr
    assert took < 10
    episode, clips = clean_episode
    assert len(list(cache.keys())) == clips - 1  # all but the faulty segment's clip are kept
    assert not (tmp_path / "out" / "2024-03-04.mp3").exists()
    first_calls = len(logged_calls(log))
    assert first_calls == clips

    fixed = run_cli("build", str(issue), "--out", str(tmp_path / "out"), env={**env, FAULT_ENV: ""})
    assert fixed.returncode == 0, fixed.stderr
    rerun = logged_calls(log)[first_calls:]
    assert [MARKER in text for _, text in rerun] == [True]  # only the missing segment
    assert Path(fixed.stdout.strip()).read_bytes() == episode


def test_no_worker_is_left_after_a_failure(tmp_path: Path, faulty: None) -> None:
    log = tmp_path / "calls.log"
    registry.register(fault_engine.NAME, functools.partial(FaultyEngine, fault="hang", log=str(log)))
    with pytest.raises(EngineError, match="segment entry-02: no answer from faulty within"):
        build(make_issue(tmp_path / "show"), BuildOptions(out_dir=tmp_path / "out"))
    assert multiprocessing.active_children() == []
    pids = {pid for pid, _ in logged_calls(log)}
    assert os.getpid() not in pids and len(pids) >= 1  # the engine ran in worker processes
    assert [pid for pid in pids if _running(pid)] == []


def test_a_timed_out_request_is_retried_in_a_new_worker(tmp_path: Path, faulty: None) -> None:
    log = tmp_path / "calls.log"
    registry.register(fault_engine.NAME, functools.partial(FaultyEngine, fault="hang-once", log=str(log)))
    report = build(make_issue(tmp_path / "show", attempts=2), BuildOptions(out_dir=tmp_path / "out"))
    assert report.segments.synthesized == report.segments.total == 5
    marked = [pid for pid, text in logged_calls(log) if MARKER in text]
    assert len(marked) == 2 and marked[0] != marked[1]  # the hung worker was replaced
    assert multiprocessing.active_children() == []


def test_killed_build_takes_its_hung_worker_along_and_the_next_build_cleans_up(
        tmp_path: Path, plugin_env: dict[str, str]) -> None:
    issue = make_issue(tmp_path / "show", timeout=600)
    log = tmp_path / "calls.log"
    tmp = tmp_path / "tmp"  # for what the killed build leaves behind
    tmp.mkdir()
    env = {**plugin_env, LOG_ENV: str(log), "TMPDIR": str(tmp)}
    command = [sys.executable, "-m", "podcast", "build", str(issue), "--out", str(tmp_path / "o")]
    cli = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env, FAULT_ENV: "hang"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        hung = _wait_for(lambda: [pid for pid, text in logged_calls(log) if MARKER in text], 30)
        time.sleep(0.2)  # it is asleep in the engine now
        assert _running(hung[0])
    finally:
        cli.kill()
        cli.wait()
    assert _wait_for(lambda: not _running(hung[0]), 10)
    assert [p.name for p in tmp.glob("podcast-workers-*")] != []

    result = run_cli("build", str(issue), "--out", str(tmp_path / "o"), env={**env, FAULT_ENV: ""})
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp.glob("podcast-workers-*")] == []


def test_workers_give_the_same_clips_as_in_process_synthesis(small_issue: Path) -> None:
    options = BuildOptions(engine="espeak")
    project, _ = load(small_issue, "espeak")
    engine, voice, _ = choose_engine(project, options, Silent())
    assert workers.spec_for(engine) is not None
    assert engine.capabilities.concurrency == workers.cpu_count()
    plans = plan(project.script, engine, voice, lexicon=project.lexicon)
    synthesis = run(plans, engine, ClipCache())
    requests = {part.key: part.request for p in plans for part in p.parts}
    assert synthesis.synthesized == len(requests) >= 4
    assert isinstance(engine, LocalEngine)
    for key, request in requests.items():
        mine = engine.synthesize_sync(request)
        theirs = synthesis.clips[key]
        assert np.array_equal(theirs.samples, mine.samples), key
        assert (theirs.marks, theirs.sample_rate) == (mine.marks, mine.sample_rate)


class DownEngine(Quiet):
    """An engine in this process that fails every request with *error*, counting them."""

    name = "down"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls: list[str] = []

    async def synthesize(self, request: Request) -> Clip:
        self.calls.append(request.text)
        raise self.error


@pytest.fixture()
def down() -> Iterator[Callable[[Exception], DownEngine]]:
    """Register a ``down`` engine failing with a given error (and forget it afterwards)."""
    def make(error: Exception) -> DownEngine:
        engine = DownEngine(error)
        registry.register("down", lambda **_: engine)
        return engine

    yield make
    registry.unregister("down")


def test_failures_of_one_kind_in_a_row_stop_the_queue(tmp_path: Path,
                                                      down: Callable[[Exception], DownEngine]) -> None:
    engine = down(TransientEngineError("the service refused", kind="refused"))
    issue = make_issue(tmp_path / "show", attempts=4)
    with pytest.raises(EngineFailing) as info:
        build(issue, BuildOptions(out_dir=tmp_path / "out", engine="down", concurrency=1))
    assert str(info.value) == ("down failed 2 requests in a row the same way (segments intro, entry-01): "
                               "the service refused; the other requests were stopped")
    assert len(engine.calls) == 2  # not 5 segments x 4 attempts


def test_an_engine_raising_its_own_exception_is_named_not_a_traceback(
        tmp_path: Path, down: Callable[[Exception], DownEngine]) -> None:
    down(ValueError("bad state"))
    issue = make_issue(tmp_path / "show", attempts=4)
    with pytest.raises(EngineError) as info:
        build(issue, BuildOptions(out_dir=tmp_path / "out", engine="down", concurrency=1))
    assert "(segments intro, entry-01): down failed: ValueError: bad state;" in str(info.value)


def _running(pid: int) -> bool:
    """Whether process *pid* exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(probe: Callable[[], T], seconds: float) -> T:
    """*probe*'s first true answer within *seconds*, else its last answer."""
    deadline = time.monotonic() + seconds
    while not (answer := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer
