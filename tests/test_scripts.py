"""No word lost in any script: what is speakable, how long it takes to say, and every sentence of
every writing system spoken by espeak and shown in the transcript (issue 15, findings 1, 2, 11)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
import webvtt
from typer.testing import CliRunner

from podcast.build import BuildOptions, build
from podcast.cli import app
from podcast.engines.base import Request, Voice
from podcast.engines.espeak import EspeakEngine
from podcast.publish import transcript
from podcast.speech import units
from podcast.speech.normalize import chunks, speak, tidy
from podcast.synthesis import qa
from podcast.testing.writing_systems import REFERENCES, SAMPLES, Sample
from tests.conftest import write

SHOW = """
title: Scripts
engine: espeak
cover: none
music: {intro: none, outro: none}
"""


def _flat(text: str) -> str:
    """*text* without whitespace (subtitle lines may break where a space was, or inside a word)."""
    return re.sub(r"\s+", "", text)


def _issue(folder: Path, sample: Sample) -> Path:
    write(folder / "show.yaml", SHOW)
    return write(folder / "2024-03-04.yaml", f"""
        title: {json.dumps(sample.name)}
        date: 2024-03-04
        language: {sample.language}
        entries:
          - title: News
            summary: {json.dumps(sample.text, ensure_ascii=False)}
        """)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_every_sentence_of_every_script_is_spoken_and_shown(sample: Sample, tmp_path: Path) -> None:
    issue = _issue(tmp_path / "show", sample)
    listing = CliRunner().invoke(app, ["script", str(issue), "--engine", "espeak"])
    assert listing.exit_code == 0, listing.stderr
    report = build(issue, BuildOptions(out_dir=tmp_path / "out", engine="espeak"))
    captions = webvtt.read(str(report.mp3.with_suffix(".vtt"))).captions
    said, shown = _flat(listing.stdout), _flat(" ".join(c.text for c in captions))
    for sentence in sample.sentences:
        assert _flat(sentence) in said, (sentence, listing.stdout)
        assert _flat(sentence) in shown, (sentence, [c.text for c in captions])


@pytest.mark.parametrize("sample", (*REFERENCES, *SAMPLES), ids=lambda s: s.name)
def test_espeak_speaks_every_script_at_about_the_calibrated_rate(sample: Sample) -> None:
    engine = EspeakEngine()
    spoken = tuple(speak(s, sample.language, engine="espeak", letters=engine.letter_names)
                   for s in sample.sentences)
    request = Request(spoken, Voice(engine.default_voice(sample.language)), sample.language)
    clip = engine.synthesize_sync(request)
    assert qa.check(clip, request) is None
    rate = sum(units.spoken_units(s) for s in spoken) / clip.duration_s
    if sample.calibrates:
        assert 0.75 < rate / units.REFERENCE_UNITS_PER_S < 1.33, (sample.name, round(rate, 2))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_a_voice_that_spells_a_foreign_script_passes_the_clip_check(sample: Sample) -> None:
    engine = EspeakEngine()  # cmn says Cyrillic, Arabic, Thai... letter by letter
    request = Request(sample.sentences, Voice("cmn"), "zh-CN")
    clip = engine.synthesize_sync(request)
    assert qa.check(clip, request) is None


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_a_sentence_in_any_script_is_speakable(sample: Sample) -> None:
    for sentence in sample.sentences:
        assert units.speakable(sentence) and tidy(sentence) == sentence
    said = [s for chunk in chunks(sample.text, sample.language) for s in chunk.spoken]
    assert _flat(" ".join(said)) == _flat(sample.text)


@pytest.mark.parametrize("text", ["\u200b\u200b", "\u2060\ufeff\u00ad", "……！", "🎉 ✨",
                                  "\u200e\u202b。\u202c", "\u0301"])
def test_invisible_characters_marks_and_symbols_alone_say_nothing(text: str) -> None:
    assert not units.speakable(text) and tidy(text) == ""
    assert units.spoken_units(text) == 0


def test_invisible_characters_are_not_sent_to_the_engine() -> None:
    said = speak("Zero\u200bwidth \u2066inside\u2069 a sen\u00adtence.", "en-US")
    assert said == "Zerowidth inside a sentence."


def test_spoken_units_count_syllables_in_every_script() -> None:
    assert units.spoken_units("大家好") == 3
    assert units.spoken_units("안녕하세요") == pytest.approx(5 * units.reading("HANGUL").weight)
    assert units.spoken_units("a cat") == 2 and units.spoken_units("wonderful") == 3  # at least one a word
    assert units.spoken_units("GPT4") == 2
    assert units.spoken_units("Здравствуйте") == pytest.approx(12 * units.reading("CYRILLIC").weight)
    assert units.spoken_units("किया") == units.spoken_units("कय")  # vowel signs belong to their letter
    assert units.script_of("ｱ") == "KATAKANA" and units.script_of("Ａ") == "LATIN"
    assert units.script_of("-") is None


def test_a_subtitle_line_never_starts_with_a_combining_mark() -> None:
    thai = "โมเดลนี้เขียนสรุปสั้นได้ดีมากและอ่านเอกสารยาวได้อย่างรวดเร็วโดยไม่ต้องรอนานเลยแม้แต่น้อยครับผม"
    lines = [line for cue in transcript.pieces(thai) for line in cue]
    assert "".join(lines) == thai
    assert not [line for line in lines if unicodedata.category(line[0])[0] == "M"], lines
