"""Crash safety: a build killed anywhere leaves no partial output and the next build completes
it; damaged cache entries are misses; concurrent builds of an episode take turns.

Builds run through the CLI in subprocesses (real espeak, real ffmpeg), killed with SIGKILL
at fail points (:mod:`podcast.infra.failpoints`). Each runs in its own folder with ``--out out``,
so manifests, which record output paths, are comparable byte for byte between folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import pytest

from podcast.build import BuildOptions, build
from podcast.infra.atomic import TEMP_SUFFIX
from podcast.infra.cache import ClipCache
from podcast.infra.failpoints import ENV_VAR
from podcast.infra.locking import episode_lock
from podcast.publish.outputs import MANIFEST_DIR, episode_files, kinds, up_to_date
from podcast.report import Silent
from tests.conftest import SMALL_EN, CountingEngine, run_cli, write

STEM = "2024-03-04"
MANIFEST = f"{MANIFEST_DIR}/{STEM}.json"
OUTPUT_SUFFIXES = [kind.suffix for kind in kinds()]
EDITED_EN = SMALL_EN.replace("spoken questions", "spoken questions and their answers")

Files = dict[str, bytes]
"""Every file under an output folder: path relative to it → content."""


def _cli(issue: Path, folder: Path, failpoint: str | None = None,
         cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``podcast build ISSUE --out out`` run in *folder* (optionally dying at *failpoint*)."""
    extra = ("--cache-dir", str(cache)) if cache else ()
    return run_cli("build", str(issue), "--out", "out", "--engine", "espeak", "--json", *extra,
                   cwd=folder, env={ENV_VAR: failpoint} if failpoint else None)


def _files(out: Path) -> Files:
    """Every file under *out*, staged temporary files included."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _outcome(out: Path) -> Files:
    """:func:`_files`, but the manifest without how many segments came from the cache."""
    files = _files(out)
    if MANIFEST in files:
        manifest = json.loads(files[MANIFEST])
        del manifest["report"]["segments"]
        files[MANIFEST] = json.dumps(manifest, sort_keys=True).encode()
    return files


def _temps(files: Files) -> list[str]:
    return [name for name in files if name.endswith(TEMP_SUFFIX)]


def _clean_build(tmp: Path, text: str) -> Files:
    """The :func:`_outcome` of building *text* once into ``tmp/out`` with a cache of its own."""
    issue = write(tmp / "show" / f"{STEM}.yaml", text)
    done = _cli(issue, tmp, cache=tmp / "cache")
    assert done.returncode == 0, done.stderr
    files = _outcome(tmp / "out")
    assert not _temps(files) and MANIFEST in files
    return files


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The small issue, built cleanly."""
    return _clean_build(tmp_path_factory.mktemp("reference"), SMALL_EN)


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The small issue with one summary edited, built cleanly."""
    return _clean_build(tmp_path_factory.mktemp("edited"), EDITED_EN)


def _assert_never_partial(out: Path, old: Files, new: Files) -> None:
    """Every visible file in *out* is wholly its old or wholly its new version, the new
    manifest is there only once every new output is, and whatever manifest is there vouches
    only for a complete set, old or new."""
    files = {name: data for name, data in _outcome(out).items() if not name.endswith(TEMP_SUFFIX)}
    for name, data in files.items():
        assert data in (old.get(name), new.get(name)), f"{name} is partial"
    if files.get(MANIFEST) == new[MANIFEST] != old.get(MANIFEST):
        assert files == new  # the manifest is moved last
    manifest = out / MANIFEST
    if manifest.is_file():
        claimed = up_to_date(out, STEM, {json.loads(manifest.read_bytes())["fingerprint"]})
        assert claimed is None or files in (old, new)


@pytest.mark.parametrize("point", ["clip-stored:2", "mixed", "encoded", "staged", "commit:1", "commit:3"])
def test_killed_build_leaves_nothing_partial_and_rerun_completes(point: str, reference: Files,
                                                                 tmp_path: Path) -> None:
    issue = write(tmp_path / "show" / f"{STEM}.yaml", SMALL_EN)
    out = tmp_path / "out"
    killed = _cli(issue, tmp_path, failpoint=point)
    assert killed.returncode == -9, killed.stderr
    if point in ("clip-stored:2", "mixed"):
        assert not out.exists()  # nothing is written before the outputs are staged
    else:
        _assert_never_partial(out, {}, reference)
        assert _temps(_files(out))  # what a killed build leaves staged, for the rerun to clear
    rerun = _cli(issue, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert not json.loads(rerun.stdout)["skipped"]
    assert _outcome(out) == reference


def test_killed_rebuild_of_an_edited_issue(reference: Files, edited: Files, tmp_path: Path) -> None:
    issue = write(tmp_path / "show" / f"{STEM}.yaml", SMALL_EN)
    out = tmp_path / "out"
    assert _cli(issue, tmp_path).returncode == 0
    write(issue, EDITED_EN)
    killed = _cli(issue, tmp_path, failpoint="commit:2")
    assert killed.returncode == -9, killed.stderr
    # killed between the second and third move: MP3 and chapters new, the rest old
    files = _outcome(out)
    moved = {f"{STEM}{suffix}" for suffix in OUTPUT_SUFFIXES[:2]}
    assert all(files[n] == (edited if n in moved else reference)[n] for n in reference)
    _assert_never_partial(out, reference, edited)
    rerun = _cli(issue, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert _outcome(out) == edited


def _damage(path: Path, how: str) -> None:
    """Flip bytes in the middle, truncate, or overwrite with garbage."""
    data = bytearray(path.read_bytes())
    if how == "flip":
        middle = len(data) // 2
        data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
    elif how == "truncate":
        del data[len(data) * 2 // 3:]
    else:
        data = bytearray(b"{not json")
    path.write_bytes(bytes(data))


def test_damaged_cache_entries_are_resynthesized(counting: CountingEngine, small_issue: Path,
                                                 tmp_path: Path) -> None:
    options = BuildOptions(out_dir=tmp_path / "out", engine="counting")
    build(small_issue, options)
    before = _outcome(tmp_path / "out")
    cache = ClipCache()
    keys = sorted(cache.keys())
    assert len(keys) >= 4
    damaged = []
    harm = [(".wav", "flip"), (".wav", "truncate"), (".json", "garbage"), (".json", "no checksum")]
    for key, (suffix, how) in zip(keys, harm, strict=False):
        wav = cache.root / "clips" / key[:2] / f"{key}.wav"
        meta = json.loads(wav.with_suffix(".json").read_text("utf-8"))
        damaged.append(tuple(meta["text"]))
        if how == "no checksum":  # as an older version wrote it
            del meta["sha256"]
            wav.with_suffix(".json").write_text(json.dumps(meta), "utf-8")
        else:
            _damage(wav.with_suffix(suffix), how)
    counting.calls.clear()
    build(small_issue, replace(options, skip_up_to_date=False))
    assert sorted(counting.calls) == sorted(damaged)
    assert _outcome(tmp_path / "out") == before
    assert sorted(cache.keys()) == keys


def _start(issue: Path, folder: Path, stderr: TextIO | int = subprocess.PIPE) -> subprocess.Popen[str]:
    """Start ``podcast build ISSUE --out out`` in *folder* without waiting for it."""
    return subprocess.Popen(
        [sys.executable, "-m", "podcast", "build", str(issue), "--out", "out", "--engine", "espeak",
         "--json"], cwd=folder, text=True, stdout=subprocess.PIPE, stderr=stderr)


def _finish(procs: list[subprocess.Popen[str]]) -> list[dict[str, object]]:
    """Wait for every build; each must succeed; their JSON reports."""
    reports = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        reports.append(json.loads(stdout))
    return reports


def test_concurrent_builds_of_one_episode_take_turns(reference: Files, tmp_path: Path) -> None:
    issue = write(tmp_path / "show" / f"{STEM}.yaml", SMALL_EN)
    reports = _finish([_start(issue, tmp_path), _start(issue, tmp_path)])
    # whichever came second waited, then found the first one's outputs up to date
    assert sorted(bool(r["skipped"]) for r in reports) == [False, True]
    assert _outcome(tmp_path / "out") == reference


def test_a_build_waits_for_the_lock_and_says_so(reference: Files, tmp_path: Path) -> None:
    issue = write(tmp_path / "show" / f"{STEM}.yaml", SMALL_EN)
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr, episode_lock(ClipCache().root, tmp_path / "out", STEM, Silent()):
        proc = _start(issue, tmp_path, stderr)
        deadline = time.monotonic() + 30
        while "waiting for another build" not in log.read_text("utf-8"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text("utf-8")
            time.sleep(0.05)
        assert not (tmp_path / "out").exists()  # a waiting build writes nothing
    assert _finish([proc])[0]["skipped"] is False
    assert f"waiting for another build of {STEM} into out" in log.read_text("utf-8")
    assert _outcome(tmp_path / "out") == reference


def test_concurrent_builds_of_two_issues_share_a_cache(reference: Files, edited: Files,
                                                       tmp_path: Path) -> None:
    first = write(tmp_path / "show" / f"{STEM}.yaml", SMALL_EN)
    second = write(tmp_path / "show" / f"{STEM}.b.yaml", EDITED_EN)  # a stem that extends the first
    _finish([_start(first, tmp_path), _start(second, tmp_path)])
    out = tmp_path / "out"
    for stem, episode in ((STEM, reference), (f"{STEM}.b", edited)):
        for suffix in OUTPUT_SUFFIXES:
            assert (out / f"{stem}{suffix}").read_bytes() == episode[f"{STEM}{suffix}"], suffix
        manifest = json.loads(episode_files(out, stem)[-1].read_text("utf-8"))
        assert manifest["outputs"] == {
            f"{stem}{s}": hashlib.sha256((out / f"{stem}{s}").read_bytes()).hexdigest()
            for s in OUTPUT_SUFFIXES}
    assert not _temps(_files(out))


def test_episode_files_are_what_a_build_writes(reference: Files) -> None:
    names = [p.relative_to("out").as_posix() for p in episode_files(Path("out"), STEM)]
    assert sorted(names) == sorted(reference)
    assert names[-1] == MANIFEST


def test_prune_removes_half_stored_entries_and_old_temporary_files(tmp_path: Path) -> None:
    """A process killed between a clip's WAV and its JSON, or while writing either, leaves
    files that no build will read; pruning clears them (fresh temporary files stay)."""
    cache = ClipCache(tmp_path)
    folder = tmp_path / "clips" / "ab"
    folder.mkdir(parents=True)
    orphan = folder / ("ab" + "0" * 62 + ".wav")
    orphan.write_bytes(b"RIFF" + bytes(100))
    old_tmp, new_tmp = folder / ".x.wav.1.tmp", folder / ".y.wav.2.tmp"
    old_tmp.write_bytes(bytes(10))
    new_tmp.write_bytes(bytes(10))
    hours_ago = time.time() - 2 * 3600
    os.utime(old_tmp, (hours_ago, hours_ago))
    assert list(cache.keys()) == [orphan.stem]
    assert cache.prune(keep=set()) == (1, 114)
    assert sorted(p.name for p in folder.iterdir()) == [new_tmp.name]
