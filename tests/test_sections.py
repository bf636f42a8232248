"""The episode is encoded in sections: each is normalized, encoded and cached on its own, and
their MP3 frames are joined. Checked on real encodes, real decodes and real cache files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3, BitrateMode

from podcast.audio import ffmpeg, timeline
from podcast.audio.timeline import mix
from podcast.build import BuildOptions, BuildReport, build
from podcast.engines.select import choose_engine
from podcast.errors import AudioError
from podcast.infra.cache import ClipCache
from podcast.input.project import load
from podcast.report import Silent
from podcast.synthesis.run import plan, run
from tests.conftest import SAMPLE, SMALL_EN, decode, write


def _encode(samples: np.ndarray, rate: int) -> bytes:
    mp3, _ = ffmpeg.encode_measured([samples.astype("<f4").tobytes()], rate, samples.shape[1],
                                   bitrate="64k", gain_db=0.0, ceiling_db=-1.0)
    return mp3


@pytest.mark.parametrize(("rate", "channels"), [(22050, 1), (24000, 2), (44100, 2), (48000, 1)])
def test_frame_count_and_delay_are_what_the_sections_assume(rate: int, channels: int) -> None:
    """LAME writes the frames :func:`ffmpeg.lame_frames` says, and a sound plays
    ``ENCODER_DELAY`` samples late when decoded: the arithmetic the timeline is built on."""
    spf = ffmpeg.samples_per_frame(rate)
    for n in (1, spf - 1, spf, spf + 1, 3 * spf + 5):
        mp3 = _encode(np.zeros((n, channels), np.float32), rate)
        assert ffmpeg.mp3_frames(mp3) == ffmpeg.lame_frames(n, rate), n
    n = 5 * spf
    click = np.zeros((n, channels), np.float32)
    t = np.arange(400)
    click[2000:2400, 0] = 0.5 * np.sin(t / 3.0) * np.hanning(400)
    out = ffmpeg.ffmpeg(["-f", "mp3", "-i", "-", "-f", "f32le", "-ac", "1", "-"], _encode(click, rate))[0]
    decoded = np.frombuffer(out, "<f4")
    assert decoded.shape[0] == ffmpeg.lame_frames(n, rate) * spf
    lag = int(np.argmax(np.correlate(decoded, click[2000:2400, 0], "valid")))
    assert lag - 2000 == ffmpeg.ENCODER_DELAY


def test_mp3_frames_refuses_anything_else() -> None:
    mp3 = _encode(np.zeros((3000, 1), np.float32), 44100)
    with pytest.raises(AudioError):
        ffmpeg.mp3_frames(b"ID3" + mp3)
    with pytest.raises(AudioError):
        ffmpeg.mp3_frames(mp3[:-10])


def _sections_of(issue: Path, cache: Path) -> tuple[list[int], int]:
    """The sample's sections as laid out by the build: first frames and the frame size."""
    project, _ = load(issue, "espeak")
    engine, voice, _ = choose_engine(project, BuildOptions(engine="espeak"), Silent())
    plans = plan(project.script, engine, voice, lexicon=project.lexicon)
    episode = mix(plans, run(plans, engine, ClipCache(cache)), project.show)
    return [s.first_frame for s in episode.sections], ffmpeg.samples_per_frame(episode.sample_rate)


def test_sample_is_cut_between_segments_in_silence(sample_build: BuildReport, sample_cache: Path) -> None:
    """One section per segment (the outro shares the last entry's, under its music); every
    join sits in silence in the decoded episode, so it cannot click."""
    firsts, spf = _sections_of(SAMPLE, sample_cache)
    assert len(firsts) == len(sample_build.chapters) - 1
    data = decode(sample_build.mp3)
    for first in firsts[1:]:  # the join, and the encoder's delay before the next section's sound
        around = data[first * spf - spf:first * spf + ffmpeg.ENCODER_DELAY]
        assert np.abs(around).max() < 10 ** (-50 / 20), first


def test_info_frame_gives_players_the_exact_length(sample_build: BuildReport) -> None:
    info = MP3(str(sample_build.mp3)).info
    assert info is not None
    assert info.bitrate_mode == BitrateMode.CBR and not info.sketchy
    assert info.length == pytest.approx(sample_build.duration_s, abs=1e-6)
    assert decode(sample_build.mp3).shape[0] == round(sample_build.duration_s * 44100)


def test_episode_loudness_is_computed_from_the_sections_like_a_meter(sample_build: BuildReport) -> None:
    """The report's loudness, combined from the sections' block values, is what ffmpeg's meter
    says of the whole file."""
    _, err = ffmpeg.ffmpeg(["-i", str(sample_build.mp3), "-af", "ebur128=peak=true", "-f", "null", "-"])
    summary = err[err.rfind("Summary:"):]
    whole = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    assert abs(sample_build.loudness.integrated_lufs - whole) <= 0.2
    assert sample_build.loudness.true_peak_db == pytest.approx(peak, abs=0.15)


def test_an_edit_re_encodes_only_its_section_and_matches_a_cold_build(tmp_path: Path) -> None:
    """Editing the first entry changes the length of everything after it, yet only its own
    section is encoded again, and the result is byte for byte a cold build of the edited issue."""
    text = SMALL_EN + """  - title: Third story
    summary: A third lab measured how long people listen to a weekly show.
"""
    issue = write(tmp_path / "show" / "2024-03-04.yaml", text)
    cache = tmp_path / "cache"
    options = BuildOptions(out_dir=tmp_path / "out", engine="espeak", cache_dir=cache)
    build(issue, options)
    before = {p.name for p in cache.glob("sections/*/*.mp3")}
    assert len(before) >= 3
    issue.write_text(text.replace("writes tidy code", "writes remarkably tidy and well tested code"),
                     encoding="utf-8")
    edited = build(issue, options)
    after = {p.name for p in cache.glob("sections/*/*.mp3")}
    assert len(after - before) == 1
    cold = build(issue, BuildOptions(out_dir=tmp_path / "cold", engine="espeak", cache_dir=tmp_path / "c2"))
    assert cold.mp3.read_bytes() == edited.mp3.read_bytes()


def test_a_damaged_section_is_encoded_again(tmp_path: Path) -> None:
    issue = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)
    cache = tmp_path / "cache"
    options = BuildOptions(out_dir=tmp_path / "out", engine="espeak", cache_dir=cache, skip_up_to_date=False)
    good = build(issue, options).mp3.read_bytes()
    victim = sorted(cache.glob("sections/*/*.mp3"))[0]
    damaged = bytearray(victim.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    victim.write_bytes(bytes(damaged))
    assert build(issue, options).mp3.read_bytes() == good
    assert victim.read_bytes() != bytes(damaged)


def test_sections_play_back_as_one_stream(tmp_path: Path) -> None:
    """The joined file is one valid stream: ffmpeg decodes it without a complaint, and the
    joins of independently encoded sections decode exactly as the sections do alone."""
    first = _encode(0.3 * np.sin(np.arange(30000, dtype=np.float32)[:, None] / 9.0) * np.ones((1, 2),
                    np.float32), 44100)
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(ffmpeg.info_frame(first, 2 * ffmpeg.mp3_frames(first), 2 * len(first)) + first + first)
    exe = ffmpeg.ffmpeg_exe()
    result = subprocess.run([exe, "-v", "error", "-i", str(joined), "-f", "f32le", "-"],
                            capture_output=True, check=True)
    assert result.stderr == b""
    alone = np.frombuffer(ffmpeg.ffmpeg(["-f", "mp3", "-i", "-", "-f", "f32le", "-"], first)[0], "<f4")
    both = np.frombuffer(result.stdout, "<f4")
    assert both.shape[0] == 2 * alone.shape[0]
    assert np.array_equal(both[alone.shape[0]:], alone)


def test_a_long_segment_is_cut_between_its_clips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A segment longer than MAX_SECTION_S is cut in the pauses between its clips (here with
    the limit lowered to 4 s), and the episode still plays its speech where the chapters say."""

    monkeypatch.setattr(timeline, "MAX_SECTION_S", 4.0)
    long_text = " [pause 600ms] ".join(
        f"Part {word} of a long story, told slowly so that it takes a few seconds."
        for word in ("one", "two", "three", "four"))
    issue = write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN.replace(
        "Another team shared a dataset of spoken questions.", long_text))
    cache = tmp_path / "cache"
    report = build(issue, BuildOptions(out_dir=tmp_path / "out", engine="espeak", cache_dir=cache))
    project, _ = load(issue, "espeak")
    engine, voice, _ = choose_engine(project, BuildOptions(engine="espeak"), Silent())
    plans = plan(project.script, engine, voice, lexicon=project.lexicon)
    episode = mix(plans, run(plans, engine, ClipCache(cache)), project.show)
    later = {part.key for part in next(p for p in plans if len(p.parts) == 4).parts[1:]}
    assert any(s.clips and s.clips[0].key in later for s in episode.sections)
    data = decode(report.mp3)
    spf = ffmpeg.samples_per_frame(44100)
    for section in episode.sections[1:]:
        around = data[section.first_frame * spf - spf:section.first_frame * spf + ffmpeg.ENCODER_DELAY]
        assert np.abs(around).max() < 10 ** (-50 / 20)
    assert len(data) == round(report.duration_s * 44100)
