"""Findings of the hostile review (issue 15), each reproduced as a user meets it: French by
default, out-of-range dates and environment values, bad base URLs, a mangled manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast.engines.espeak import _DEFAULT_VOICES, EspeakEngine
from podcast.speech.languages import TABLE, UNRULED
from tests.conftest import SMALL_EN, run_cli, write

FRENCH = """
title: L'hebdo IA 1
date: 2024-03-04
language: fr-FR
entries:
  - title: Premier sujet
    summary: Un laboratoire a publié un modèle qui écrit du code propre.
"""

APPENDED = "file names are appended to it"
LANGUAGE_TAGS = sorted({tag for row in TABLE for tag in (*row.tags, row.default_tag)}
                       | set(UNRULED) | set(_DEFAULT_VOICES) | {"fr-FR", "pt-BR", "en-GB", "de-DE"})


@pytest.mark.parametrize("tag", LANGUAGE_TAGS)
def test_every_default_espeak_voice_is_one_the_library_accepts(tag: str) -> None:
    """The voice a show gets when it names none is put to espeak-ng itself (``fr-fr`` was not
    a voice of espeak-ng 1.52, so every French show failed by default)."""
    engine = EspeakEngine()
    voice = engine.default_voice(tag)
    assert engine.check_voice(voice) is None, (tag, voice)


def test_a_french_show_builds_with_the_default_voice(tmp_path: Path) -> None:
    issue = write(tmp_path / "hebdo" / "2024-03-04.yaml", FRENCH)
    checked = run_cli("validate", str(issue))
    assert checked.returncode == 0, checked.stderr
    built = run_cli("build", str(issue), "--out", str(tmp_path / "out"), "--engine", "espeak", "-q")
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "out" / "2024-03-04.mp3").stat().st_size > 10_000


@pytest.mark.parametrize(("url", "says"), [
    ("https://", "has no host"),
    ("ftp://example.com/show", "must be an http:// or https:// URL"),
    ("example.com/show", "must be an http:// or https:// URL"),
    ("https://example.com/show?token=1", f"must not have a query or a fragment: {APPENDED}"),
    ("https://example.com/show#top", f"must not have a query or a fragment: {APPENDED}"),
])
def test_a_base_url_that_cannot_prefix_file_names_is_refused(tmp_path: Path, url: str, says: str) -> None:
    write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)
    result = run_cli("feed", str(tmp_path / "show"), "--base-url", url)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: --base-url {says}, not {url!r}"]
    assert not (tmp_path / "show" / "feed.xml").exists()


def test_a_manifest_that_is_not_a_mapping_is_not_a_built_episode(tmp_path: Path) -> None:
    issue = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)
    out = tmp_path / "out"
    assert run_cli("build", str(issue), "--out", str(out), "--engine", "espeak", "-q").returncode == 0
    (out / ".podcast" / "2024-03-04.json").write_text("[]\n", encoding="utf-8")
    result = run_cli("feed", str(tmp_path / "show"), "--base-url", "https://example.com/s", "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "no built episodes" in result.stderr


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01"])
def test_an_issue_date_out_of_range_is_a_located_error(tmp_path: Path, date: str) -> None:
    issue = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN.replace("2024-03-04", date))
    result = run_cli("validate", str(issue))
    assert result.returncode == 2
    line = next(n for n, text in enumerate(issue.read_text().splitlines(), 1) if text.startswith("date:"))
    assert result.stderr.strip().splitlines() == [
        f"{issue}:{line}:7: date: must be a date from 1900-01-01 to 2999-12-31, got {date}"]


def test_podcast_new_refuses_dates_it_cannot_follow(tmp_path: Path) -> None:
    show = tmp_path / "show"
    result = run_cli("new", str(show), "--date", "9999-12-31")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --date must be a date YYYY-MM-DD from 1900-01-01 to 2999-12-31, not '9999-12-31'"]
    write(show / "9999-12-31.yaml", SMALL_EN.replace("2024-03-04", "9999-12-31"))
    after = run_cli("new", str(show))
    assert after.returncode == 2, after.stderr
    assert "Traceback" not in after.stderr
    assert after.stderr.strip().splitlines() == [
        f"error: the newest issue, {show / '9999-12-31.yaml'}, is dated 9999-12-31: give the new one's "
        "date with --date (from 1900-01-01 to 2999-12-31)"]


@pytest.mark.parametrize("value", ["99999999999999", "yesterday", "-5"])
def test_a_bad_source_date_epoch_stops_the_build_before_any_work(tmp_path: Path, value: str) -> None:
    issue = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)
    out = tmp_path / "out"
    result = run_cli("build", str(issue), "--out", str(out), "--engine", "espeak",
                     env={"SOURCE_DATE_EPOCH": value})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: SOURCE_DATE_EPOCH must be whole seconds since 1970 up to 253402300799 (9999-12-31), "
        f"not {value!r}"]
    assert not out.exists()


def test_a_move_that_fails_midway_puts_the_old_set_back(tmp_path: Path) -> None:
    """The `.srt` path is a folder now: the build fails while moving its outputs into place, and
    the MP3, chapters and VTT it had already moved are put back, so the folder keeps the old set."""
    issue = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)
    out = tmp_path / "out"
    assert run_cli("build", str(issue), "--out", str(out), "--engine", "espeak", "-q").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (out / "2024-03-04.srt").unlink()
    (out / "2024-03-04.srt").mkdir()
    issue.write_text(SMALL_EN.replace("Second story", "Another story"), encoding="utf-8")
    result = run_cli("build", str(issue), "--out", str(out), "--engine", "espeak", "-q")
    assert result.returncode == 1
    assert "2024-03-04.srt" in result.stderr and "Traceback" not in result.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == {name: data for name, data in before.items() if name != "2024-03-04.srt"}
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []
    manifest = out / ".podcast" / "2024-03-04.json"
    assert manifest.is_file() and "Another story" not in manifest.read_text(encoding="utf-8")



def test_a_set_that_is_not_committed_leaves_no_folder_it_made(tmp_path: Path) -> None:
    """Staging makes the output folder (and `.podcast/`); a build that fails before its commit
    removes them again, and leaves alone a folder that was there before."""
    from podcast.infra.atomic import Outputs

    out = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError), Outputs() as outputs:
        outputs.write_text(out / "2024-03-04.vtt", "WEBVTT\n")
        outputs.write_text(out / ".podcast" / "2024-03-04.json", "{}\n")
        raise RuntimeError("encoding failed")
    assert not (tmp_path / "new").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(RuntimeError), Outputs() as outputs:
        outputs.write_text(kept / ".podcast" / "x.json", "{}\n")
        raise RuntimeError("encoding failed")
    assert sorted(kept.iterdir()) == []


@pytest.mark.parametrize(("name", "value", "says"), [
    ("PODCAST_FFMPEG", "/no/such/ffmpeg",
     "PODCAST_FFMPEG must be the path of an ffmpeg program, not '/no/such/ffmpeg' "
     "(unset it to use the one that comes with imageio-ffmpeg)"),
    ("PODCAST_CACHE_DIR", "FILE",
     "PODCAST_CACHE_DIR must be a folder (it is made if missing), not the file 'FILE'"),
])
def test_a_bad_environment_value_is_one_line_naming_it(tmp_path: Path, name: str, value: str,
                                                        says: str) -> None:
    issue = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)
    if value == "FILE":
        value = str(write(tmp_path / "a-file", "not a folder\n"))
        says = says.replace("FILE", value)
    result = run_cli("build", str(issue), "--out", str(tmp_path / "out"), "--engine", "espeak",
                     env={name: value})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"error: {says}"
    assert "Traceback" not in result.stderr
