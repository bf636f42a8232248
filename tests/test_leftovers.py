"""What a build leaves behind when it is stopped, killed or runs out of disk.

SIGTERM (a CI timeout, ``docker stop``, systemd) and SIGHUP end a build like Ctrl-C: one
line, exit 128 + the signal, workers and temporary files gone. What a build killed outright
(SIGKILL) leaves, staged outputs and espeak's data overlay, the next build removes, whichever
episode it builds; what a running build uses stays. A full disk names the folder.

Builds run through the CLI in subprocesses with their own temp dir (``TMPDIR``), so that what
they leave there can be seen; the faulty engine (tests/fault_engine.py) hangs on a marked
entry, so the signal arrives mid-synthesis at a known moment; mid-encoding, it is sent once
the staged MP3 appears beside the episode.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from typer.testing import CliRunner

from podcast.cli import app
from podcast.errors import DiskFull
from podcast.infra.atomic import TEMP_SUFFIX, release, remove_stale_temps, temp_beside, writing_to
from podcast.infra.failpoints import ENV_VAR as FAILPOINTS
from tests import fault_engine
from tests.conftest import ROOT, SAMPLE, SMALL_EN, run_cli, write
from tests.fault_engine import FAULT_ENV, LOG_ENV, MARKER, logged_calls
from tests.test_faults import make_issue

T = TypeVar("T")


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment in which a CLI subprocess finds the faulty engine as an installed plugin."""
    site = fault_engine.install_entry_point(tmp_path_factory.mktemp("site"))
    path = os.pathsep.join(p for p in (str(site), str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


def _wait_for(probe: Callable[[], T], seconds: float) -> T:
    """*probe*'s first true answer within *seconds*, else its last answer."""
    deadline = time.monotonic() + seconds
    while not (answer := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


def _running(pid: int) -> bool:
    """Whether process *pid* exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _descendants(pid: int) -> set[int]:
    """Every living process under *pid* (its workers, their fork server)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in found if _running(p)}


def _hangup_not_ignored() -> None:
    """In the child: SIGHUP's default action, even when these tests run under ``nohup``."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=lambda signum: signum.name)
def test_a_build_stopped_by_a_signal_says_so_and_leaves_nothing(
        signum: signal.Signals, tmp_path: Path, plugin_env: dict[str, str]) -> None:
    issue = make_issue(tmp_path / "show", timeout=600)  # the second entry hangs until the signal
    log, temp, out = tmp_path / "calls.log", tmp_path / "tmp", tmp_path / "out"
    temp.mkdir()
    env = {**os.environ, **plugin_env, LOG_ENV: str(log), FAULT_ENV: "hang", "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "podcast", "build", str(issue), "--out", str(out), "--quiet"]
    cli = subprocess.Popen(command, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=_hangup_not_ignored)
    try:
        hung = _wait_for(lambda: [pid for pid, text in logged_calls(log) if MARKER in text], 60)
        assert hung, "the build never reached the hanging request"
        assert any(temp.glob("podcast-espeak-*")) and any(temp.glob("pymp-*"))
        helpers = _descendants(cli.pid)
        assert hung[0] in helpers
        cli.send_signal(signum)
        stdout, stderr = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 128 + signum, stderr
    assert stderr.splitlines() == [f"interrupted by {signum.name}"]
    assert stdout == ""
    assert _wait_for(lambda: not any(_running(p) for p in helpers), 10), "a worker outlived the build"
    assert sorted(p.name for p in temp.iterdir()) == []  # overlay, fork server's folder, scratch
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_a_build_stopped_while_encoding_removes_its_staged_outputs(tmp_path: Path) -> None:
    temp, out = tmp_path / "tmp", tmp_path / "out"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "podcast", "build", str(SAMPLE), "--out", str(out), "--engine", "espeak",
               "--quiet"]
    cli = subprocess.Popen(command, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    try:  # the MP3 is staged from the first encoded section until the commit, a second or more
        staged = _wait_for(lambda: [p.name for p in out.glob(f"*{TEMP_SUFFIX}")] if out.is_dir() else [],
                           120)
        assert staged and cli.poll() is None
        cli.send_signal(signal.SIGTERM)
        _, stderr = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert (cli.returncode, stderr) == (143, "interrupted by SIGTERM\n")
    assert [p.name for p in out.rglob("*")] == []
    assert list(temp.iterdir()) == []


def test_any_build_removes_what_killed_builds_left_in_its_folder(tmp_path: Path) -> None:
    first = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)
    second = write(tmp_path / "show" / "2024-03-11.yaml", SMALL_EN.replace("2024-03-04", "2024-03-11"))
    temp, out = tmp_path / "tmp", tmp_path / "out"
    temp.mkdir()
    env = {"TMPDIR": str(temp)}
    killed = run_cli("build", str(first), "--out", str(out), "--engine", "espeak", cwd=tmp_path,
                     env={**env, FAILPOINTS: "encoded"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = sorted(p.name for p in out.iterdir() if p.name.endswith(TEMP_SUFFIX))
    assert left and all(name.startswith(".2024-03-04.mp3.") for name in left)
    assert any(temp.glob("podcast-espeak-*"))
    running = temp_beside(out / "2024-03-18.mp3")  # a build of a third episode, still writing
    try:
        done = run_cli("build", str(second), "--out", str(out), "--engine", "espeak", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        temps = sorted(p.name for p in out.rglob(f"*{TEMP_SUFFIX}"))
        assert temps == [running.name]  # the killed build's are gone, the running one's stays
        assert list(temp.glob("podcast-espeak-*")) == []  # the killed build's overlay too
    finally:
        running.unlink()
        release(running)


def test_a_temporary_file_is_removed_only_once_its_process_lets_go(tmp_path: Path) -> None:
    target = tmp_path / "episode.mp3"
    tmp = temp_beside(target)
    assert remove_stale_temps([target]) == []  # claimed by this (living) process
    release(tmp)  # as the kernel does when the process dies
    assert remove_stale_temps([target]) == [tmp]
    assert not tmp.exists()


# --- a full disk ----------------------------------------------------------------------------------

def test_a_full_disk_is_named_where_the_message_is_made(tmp_path: Path) -> None:
    full = r"^no space left on the device of the cache folder .*cache: free some space$"
    with pytest.raises(DiskFull, match=full), writing_to("cache", tmp_path / "cache", "free some space"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    # wrapped by a library (mutagen raises its own error from the OSError)
    with pytest.raises(DiskFull, match="output folder"), writing_to("output", tmp_path, "free some space"):
        try:
            raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))
        except OSError as exc:
            raise RuntimeError("could not save the tags") from exc
    with pytest.raises(PermissionError), writing_to("output", tmp_path, "free some space"):
        raise PermissionError(errno.EACCES, "not this one")


@pytest.fixture()
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (skips where mounting is not permitted), filled up to its last 64 KB."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, timeout=10, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        free = shutil.disk_usage(mount).free
        (mount / "filler").write_bytes(bytes(max(0, free - 64 * 1024)))
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10, check=False)


@pytest.mark.parametrize("where", ["cache", "output"])
def test_a_full_disk_names_the_folder(where: str, tiny_disk: Path, small_issue: Path,
                                     tmp_path: Path) -> None:
    full = where == "cache"
    cache, out = (tiny_disk, tmp_path / "out") if full else (tmp_path / "cache", tiny_disk / "out")
    result = CliRunner().invoke(app, ["build", str(small_issue), "--out", str(out), "--engine", "espeak",
                                      "--cache-dir", str(cache), "--quiet"])
    assert result.exit_code == 1
    folder = cache if where == "cache" else out
    remedy = "--cache-dir or $PODCAST_CACHE_DIR" if where == "cache" else "--out"
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error")] == [
        f"error: no space left on the device of the {where} folder {folder}: free some space there, "
        f"or {'put the cache elsewhere' if where == 'cache' else 'build into another folder'} ({remedy})"]
    assert not [p for p in tiny_disk.rglob(f"*{TEMP_SUFFIX}")]
