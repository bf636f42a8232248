"""The bad-input corpus: every file a producer or a pull request could hand us, and its answer.

Each folder of ``tests/corpus/bad`` is a show folder with an ``issue.yaml`` (and maybe a
``show.yaml``, templates, links) plus ``expected.txt``: the exact error ``podcast build``
prints. Every case must exit with code 2 and that one line, naming file, line and field, and
must leave the output folder and the show folder exactly as they were. ``podcast validate``
must say the same. Set ``UPDATE_CORPUS=1`` to rewrite the expected files from the actual
output (then read every change before committing it).
"""

from __future__ import annotations

import hashlib
import html as html_module
import json
import os
import random
import shutil
from pathlib import Path

import feedparser
import pytest
import webvtt
from mutagen.id3 import ID3
from typer.testing import CliRunner

from podcast.cli import app
from podcast.testing.fake_edge import FakeEdgeServer

CORPUS = Path(__file__).parent / "corpus" / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
EXPECTED = "expected.txt"


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under *folder* (hidden ones too): files by content hash, links by target."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            out[rel + " mtime"] = str(path.stat().st_mtime_ns)
    return out


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_refused_with_one_located_line(name: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    show = tmp_path / "show"
    shutil.copytree(CORPUS / name, show, symlinks=True, ignore=shutil.ignore_patterns(EXPECTED))
    out = tmp_path / "out"
    (out / ".podcast").mkdir(parents=True)
    (out / "issue.mp3").write_bytes(b"the good episode of an earlier build")
    (out / ".podcast" / "issue.json").write_text("{}", encoding="utf-8")
    before = snapshot(out), snapshot(show)
    monkeypatch.chdir(show)

    built = CliRunner().invoke(app, ["build", "issue.yaml", "--out", str(out)])
    checked = CliRunner().invoke(app, ["validate", "issue.yaml"])

    expected_file = CORPUS / name / EXPECTED
    if os.environ.get("UPDATE_CORPUS"):
        expected_file.write_text(built.stderr, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert (built.exit_code, built.stderr) == (2, expected)
    assert built.stdout == ""
    assert len(expected.splitlines()) == 1
    file, line, column, field, message = expected.split(":", 4)
    assert file in ("issue.yaml", "show.yaml", str(Path("templates") / file.rpartition("/")[2]))
    assert line.isdigit() and column.isdigit() and field.strip() and message.strip()
    assert (checked.exit_code, checked.stderr) == (2, expected)
    assert (snapshot(out), snapshot(show)) == before


GOOD = Path(__file__).parent / "corpus" / "good"


def _build(issue: Path, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(app, ["build", str(issue), "--out", str(out), "--quiet", *extra])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out / f"{issue.stem}.mp3")


def test_markup_characters_are_shown_and_spoken_literally(tmp_path: Path) -> None:
    issue = GOOD / "markup" / "issue.yaml"
    _build(issue, tmp_path)
    title = "<speak>Literal</speak> & friends"
    chapters = json.loads((tmp_path / "issue.chapters.json").read_text(encoding="utf-8"))["chapters"]
    assert [c["title"] for c in chapters][1:3] == [title, "CDATA <![CDATA[ends]]> here"]
    tags = ID3(tmp_path / "issue.mp3")
    assert str(tags["TIT2"]) == 'Markup <b>&amp;</b> Weekly ]]> "quoted"'
    assert [str(c.sub_frames["TIT2"]) for c in tags.getall("CHAP")].count(title) == 1

    html = (tmp_path / "issue.html").read_text(encoding="utf-8")
    assert "&lt;speak&gt;Literal&lt;/speak&gt; &amp; friends" in html
    assert "<speak" not in html and "<script" not in html and "<b>" not in html
    markdown = (tmp_path / "issue.md").read_text(encoding="utf-8")
    assert r"\<speak\>Literal\</speak\> \& friends" in markdown
    assert r"\<script\>" in markdown and r"\[links\](javascript:" in markdown
    vtt = (tmp_path / "issue.vtt").read_text(encoding="utf-8")
    assert "&lt;speak&gt;&lt;prosody" in vtt and "<speak" not in vtt
    cues = " ".join(html_module.unescape(c.text) for c in webvtt.read(str(tmp_path / "issue.vtt")).captions)
    assert "<speak><prosody" in cues  # a VTT player shows the characters back

    feed = CliRunner().invoke(app, ["feed", str(issue.parent), "--base-url", "https://example.org/p",
                                    "--out", str(tmp_path)])
    assert feed.exit_code == 0, feed.stderr
    parsed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert parsed.feed.title == 'Show <i>&</i> ]]> "Weekly"' and not parsed.bozo
    assert parsed.entries[0].title == 'Markup <b>&amp;</b> Weekly ]]> "quoted"'

    script = CliRunner().invoke(app, ["script", str(issue), "-f", "json"])
    spoken = " ".join(s["text"] for s in json.loads(script.stdout))
    assert "<speak><prosody" in spoken and "{{" in spoken and "49" not in spoken
    assert "braces" in spoken and "$" in spoken


def test_markup_reaches_the_edge_service_as_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeEdgeServer.running() as server:
        monkeypatch.setenv("PODCAST_EDGE_ENDPOINT", server.url)
        _build(GOOD / "markup" / "issue.yaml", tmp_path, "--engine", "edge")
    said = " ".join(r.text for r in server.requests)
    # the service parsed the SSML and found our characters as text, not as markup
    assert '<speak><prosody rate="x-fast">slowly' in said
    assert '<audio src="x.mpthree" >' in said and "]]>" in said


def test_a_byte_order_mark_and_windows_line_endings_build(tmp_path: Path) -> None:
    issue = GOOD / "bom-crlf" / "issue.yaml"
    assert issue.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in issue.read_bytes()
    _build(issue, tmp_path)
    chapters = json.loads((tmp_path / "issue.chapters.json").read_text(encoding="utf-8"))
    assert chapters["chapters"][1]["title"] == "Windows line endings"
    assert str(ID3(tmp_path / "issue.mp3")["TIT2"]) == "Byte Order Mark Weekly"


@pytest.mark.parametrize(("minutes", "message"), [
    (0.1, "the episode would be at least 0:12 long; the limit is 0.1 minutes"),  # known before synthesis
    (0.3, "the episode would be 0:36 long; the limit is 0.3 minutes"),  # known once it is mixed
])
def test_episode_length_limit(minutes: float, message: str, small_issue: Path, tmp_path: Path) -> None:
    show = small_issue.parent / "show.yaml"
    show.write_text(f"limits: {{episode_minutes: {minutes}}}\n", encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    result = CliRunner().invoke(app, ["build", str(small_issue), "--out", str(out), "--quiet",
                                      "--cache-dir", str(cache)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"{show}:1:27: limits.episode_minutes: {message}"
    assert not out.exists()
    clips = list(cache.glob("clips/*/*.wav"))
    assert len(clips) == (0 if minutes == 0.1 else 4)  # synthesized work is kept for the next try


_NOISE = [b"\t", b"\n", b" ", b":", b"-", b"&", b"*", b"!", b"[", b"]", b"{", b"}", b"'", b'"', b"#", b"|",
          b">", b"%", b"@", b"`", b"\x00", b"\xff", b"\xe4", b"?", b",", b"\\", b"<<", b"&a", b"*a", b"~",
          b"!!python/name:os.system", b"2024-02-30", b"1e999", b"null", b"\r", b"{{", b"{%"]


def test_mangled_issue_files_never_crash(tmp_path: Path) -> None:
    """Random damage to the sample issue (inserted YAML syntax, cuts, copies, bad bytes) always
    ends in a checked project or located problems, never in another exception."""
    from podcast.input.project import check

    source = (Path(__file__).parent.parent / "seeds" / "ai-weekly" / "2024-02-3.yaml").read_bytes()
    rng = random.Random(20261124)
    issue = tmp_path / "issue.yaml"
    outcomes = {"built": 0, "refused": 0}
    for _ in range(150):
        data = bytearray(source)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data))
            roll = rng.random()
            if roll < 0.4:
                data[at:at] = rng.choice(_NOISE)
            elif roll < 0.7:
                del data[at:at + rng.randint(1, 40)]
            else:
                start = rng.randrange(len(data))
                data[at:at] = data[start:start + rng.randint(1, 80)]
        issue.write_bytes(bytes(data))
        project, problems = check(issue, "espeak")
        assert project is not None or problems
        assert all(p.file == issue and p.line >= 1 and p.field for p in problems)
        outcomes["built" if project else "refused"] += 1
    assert outcomes["built"] >= 5 and outcomes["refused"] >= 100
