"""Broadcast-quality output, checked on the real files: loudness, tags, cover, transcripts,
show notes, music and pauses, output format, reproducibility."""

from __future__ import annotations

import hashlib
import html.parser
import io
import os
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import srt
import webvtt
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode
from PIL import Image
from scipy.signal import resample_poly

from podcast.audio import ffmpeg
from podcast.build import BuildOptions, BuildReport, build
from tests.conftest import SAMPLE, CountingEngine, write


def _true_peak_db(path: Path) -> float:
    """True peak of the decoded file, by 4x oversampling (ITU BS.1770 annex 2 style)."""
    data = ffmpeg.decode(path, 48000, 2)
    up = resample_poly(data, 4, 1, axis=0)
    return float(20 * np.log10(np.abs(up).max()))


def test_loudness_and_true_peak_on_the_encoded_mp3(sample_build: BuildReport) -> None:
    data = ffmpeg.decode(sample_build.mp3, 44100, 2).astype(np.float64)
    lufs = pyloudnorm.Meter(44100).integrated_loudness(data)
    assert -17.0 <= lufs <= -15.0
    assert _true_peak_db(sample_build.mp3) <= -1.0
    # the report carries the figures measured on the encoded file
    assert abs(sample_build.loudness.integrated_lufs - lufs) < 0.5
    assert sample_build.loudness.true_peak_db <= -1.0


def test_tags_and_cover(sample_build: BuildReport) -> None:
    tags = ID3(str(sample_build.mp3))
    assert tags.version == (2, 4, 0)
    assert str(tags["TIT2"]) == "AI大模型周报 2024年2月第3期"
    assert str(tags["TALB"]) == "AI大模型周报"
    assert str(tags["TPE1"]) == "AI大模型周报编辑部"
    assert str(tags["TDRC"]) == "2024-02-19"
    assert str(tags["TLAN"]) == "zho"
    assert tags.getall("COMM")[0].text[0].startswith("本期介绍15项")
    pictures = tags.getall("APIC")
    assert len(pictures) == 1 and pictures[0].type == 3
    image = Image.open(io.BytesIO(pictures[0].data))
    assert image.size[0] >= 1400 and image.size[0] == image.size[1]


def test_constant_bitrate_44k_stereo_by_default(sample_build: BuildReport) -> None:
    info = MP3(str(sample_build.mp3)).info
    assert info is not None
    assert (info.sample_rate, info.channels, info.bitrate_mode) == (44100, 2, BitrateMode.CBR)
    assert info.bitrate == 128000


def test_transcripts_cover_the_script_in_order(sample_build: BuildReport) -> None:
    vtt = webvtt.read(str(sample_build.mp3.with_suffix(".vtt"))).captions
    subs = list(srt.parse(sample_build.mp3.with_suffix(".srt").read_text(encoding="utf-8")))
    assert len(vtt) == len(subs) > 17
    ends = 0.0
    for cue, sub in zip(vtt, subs, strict=True):
        start = sub.start.total_seconds()
        assert abs(cue.start_in_seconds - int(start)) <= 1
        end = sub.end.total_seconds()
        assert ends - 1e-6 <= start < end <= sample_build.duration_s
        ends = end
        assert cue.text == sub.content
        lines = sub.content.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 42 for line in lines)
    spoken = "".join(sub.content.replace("\n", "").replace(" ", "") for sub in subs)
    issue_text = SAMPLE.read_text(encoding="utf-8")
    import yaml

    for entry in yaml.safe_load(issue_text)["entries"]:
        assert entry["summary"].replace(" ", "") in spoken, entry["title"]
    assert spoken.startswith("大家好") and spoken.endswith("Thanksforlistening!")


def test_show_notes_list_chapters_and_links(sample_build: BuildReport) -> None:
    md = sample_build.mp3.with_suffix(".md").read_text(encoding="utf-8")
    page = sample_build.mp3.with_suffix(".html").read_text(encoding="utf-8")
    assert md.startswith("# AI大模型周报 2024年2月第3期\n")
    assert "2024-02-19" in md
    for chapter in sample_build.chapters:
        minutes, seconds = divmod(int(chapter.start_s + 0.5), 60)
        assert f"{minutes:02d}:{seconds:02d}" in md
        assert chapter.title in md and chapter.title in page
        if chapter.url:
            assert md.count(chapter.url) >= 1

    class Links(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.hrefs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.hrefs += [v for k, v in attrs if k == "href" and v]

    parser = Links()
    parser.feed(page)
    assert {c.url for c in sample_build.chapters if c.url} <= set(parser.hrefs)


def test_music_under_the_opening_and_closing_and_silence_between(sample_build: BuildReport) -> None:
    data = ffmpeg.decode(sample_build.mp3, 44100, 1)[:, 0]
    rate = 44100

    def rms(a: float, b: float) -> float:
        chunk = data[round(a * rate):round(b * rate)]
        return float(20 * np.log10(np.sqrt(np.mean(chunk ** 2)) + 1e-9))

    first_words = sample_build.chapters[1].start_s  # intro music plays alone before the voice
    assert rms(0.5, 3.0) > -40
    # a pause between two entries (no music there): near silence
    gap_end = sample_build.chapters[5].start_s
    assert rms(gap_end - 0.5, gap_end - 0.1) < -60
    # after the last words the outro music rises: louder than it sat under the voice
    tail = rms(sample_build.duration_s - 6, sample_build.duration_s - 3.5)
    assert tail > -35
    assert first_words > 3


def test_pause_marker_is_silence_not_speech(tmp_path: Path, counting: CountingEngine) -> None:
    issue = write(tmp_path / "p" / "i.yaml", """
        title: Pauses
        date: 2024-01-01
        language: en-US
        entries:
          - title: One
            summary: Before the pause. [pause 2s] After the pause.
        """)
    write(tmp_path / "p" / "show.yaml", "music: {intro: none, outro: none}\n")
    report = build(issue, BuildOptions(out_dir=tmp_path / "o", engine="counting"))
    assert ("First up: Before the pause.",) in counting.calls and ("After the pause.",) in counting.calls
    assert not any("pause" in s and "[" in s for call in counting.calls for s in call)
    data = ffmpeg.decode(report.mp3, 44100, 1)[:, 0]
    quiet = np.abs(data) < 0.003
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    assert longest >= 1.9 * 44100
    assert "[pause" not in report.mp3.with_suffix(".vtt").read_text()


def test_output_format_follows_the_show(tmp_path: Path, counting: CountingEngine) -> None:
    write(tmp_path / "f" / "show.yaml", """
        output: {sample_rate: 48000, channels: 1, bitrate: 96k}
        loudness: {integrated_lufs: -19, true_peak_db: -2}
        """)
    issue = write(tmp_path / "f" / "i.yaml", """
        title: Format
        date: 2024-01-01
        language: en-US
        entries:
          - title: One
            summary: Mono speech at forty eight kilohertz, a little quieter than usual for this test.
        """)
    report = build(issue, BuildOptions(out_dir=tmp_path / "o", engine="counting"))
    info = MP3(str(report.mp3)).info
    assert info is not None
    assert (info.sample_rate, info.channels, info.bitrate) == (48000, 1, 96000)
    data = ffmpeg.decode(report.mp3, 48000, 1).astype(np.float64)
    assert -20.0 <= pyloudnorm.Meter(48000).integrated_loudness(data) <= -18.0
    assert _true_peak_db(report.mp3) <= -2.0


def test_two_builds_are_byte_identical(tmp_path: Path, counting: CountingEngine,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1708300800")
    issue = write(tmp_path / "r" / "i.yaml", """
        title: Reproducible
        date: 2024-02-19
        language: en-US
        entries:
          - title: One
            summary: The same input gives the same bytes, every time.
            url: https://example.com/same
        """)
    first = build(issue, BuildOptions(out_dir=tmp_path / "a", engine="counting"))
    second = build(issue, BuildOptions(out_dir=tmp_path / "b", engine="counting",
                                       cache_dir=tmp_path / "other-cache"))
    assert len(counting.calls) == 6  # the second build really synthesized again

    def digests(report: BuildReport) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in report.outputs}

    assert digests(first) == digests(second)
    assert sorted(digests(first)) == ["i.chapters.json", "i.html", "i.md", "i.mp3", "i.srt", "i.vtt"]
    assert all(int(os.stat(p).st_mtime) == 1708300800 for p in first.outputs)
