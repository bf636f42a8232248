"""Small, fast checks of the building blocks: YAML positions, chunks, cache, espeak, mixing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from podcast.audio.timeline import trim
from podcast.engines.base import Clip, Request, Voice
from podcast.engines.espeak import EspeakEngine
from podcast.errors import InputError
from podcast.infra.cache import ClipCache, clip_key
from podcast.input.yamlio import field_name, load_document
from podcast.speech.normalize import chunks, split_sentences


def test_yaml_positions_and_duplicate_keys(tmp_path: Path) -> None:
    doc = load_document(tmp_path / "x.yaml", "a: 1\nlist:\n  - k: v\n    k: w\n")
    assert doc.marks[("list", 0, "k")] == (4, 8)
    assert doc.key_marks[("list", 0, "k")] == (4, 5)
    assert [str(p) for p in doc.problems] == [
        f"{tmp_path / 'x.yaml'}:4:5: list[1].k: duplicate key (first set on line 3)"]


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_document(tmp_path / "x.yaml", "a: [1, 2\nb: 3\n")
    assert info.value.problems[0].line == 2


def test_field_names_are_one_based() -> None:
    assert field_name(("entries", 2, "url")) == "entries[3].url"
    assert field_name(()) == "(document)"


def test_sentences_split_in_both_languages() -> None:
    assert split_sentences("你好。今天天气很好！OK? Yes. 3.5 is a number.") == [
        "你好。", "今天天气很好！", "OK?", "Yes.", "3.5 is a number."]


def test_pause_markers_become_chunk_pauses() -> None:
    parts = chunks("First. [pause 800ms] Second one. [pause 1.5s][pause 200] Third.", "en-US")
    assert [p.written for p in parts] == [("First.",), ("Second one.",), ("Third.",)]
    assert [p.pause_after_ms for p in parts] == [800, 1700, 0]


def test_cache_round_trip_and_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    request = Request(("hello",), Voice("en-us"), "en-US")
    key = clip_key("e", "1", request)
    assert key != clip_key("e", "2", request)
    assert key != clip_key("e", "1", Request(("hello",), Voice("en-us", rate="+5%"), "en-US"))
    clip = Clip(np.arange(-500, 500, dtype=np.int16), 22050, (0, 400))
    cache.put(key, clip)
    back = cache.get(key)
    assert back is not None and np.array_equal(back.samples, clip.samples) and back.marks == (0, 400)
    wav = next(tmp_path.glob("clips/*/*.wav"))
    wav.write_bytes(wav.read_bytes()[:100])
    assert cache.get(key) is None
    assert not cache.has(key)


def test_espeak_speaks_mandarin_with_sentence_marks() -> None:
    engine = EspeakEngine()
    assert engine.version().startswith("espeak-ng 1.52")
    request = Request(("大家好。", "这里是AI大模型周报。"), Voice("cmn"), "zh-CN")
    clip = asyncio.run(engine.synthesize(request))
    assert clip.sample_rate == 22050
    assert len(clip.marks) == 2 and 0 <= clip.marks[0] < clip.marks[1] < clip.frames
    assert 1.0 < clip.duration_s < 6.0
    assert np.abs(clip.samples).max() > 3000


def test_espeak_rate_changes_duration() -> None:
    engine = EspeakEngine()
    text = ("Speech rate should change how long this sentence takes.",)
    slow = engine.synthesize_sync(Request(text, Voice("en-us", rate="-30%"), "en-US"))
    fast = engine.synthesize_sync(Request(text, Voice("en-us", rate="+50%"), "en-US"))
    assert fast.frames < 0.75 * slow.frames


def test_espeak_rejects_unknown_voice() -> None:
    assert EspeakEngine().check_voice("no-such-voice") is not None
    assert EspeakEngine().check_voice("en-us") is None


def test_trim_removes_edge_silence_and_moves_marks() -> None:
    samples = np.zeros(3000, dtype=np.int16)
    samples[1000:2000] = 8000
    clip = trim(Clip(samples, 1000, (1000, 1500)))
    assert clip.frames == 1000 + 5 + 40
    assert clip.marks == (5, 505)


def test_espeak_clips_do_not_depend_on_what_was_said_before() -> None:
    engine = EspeakEngine()
    request = Request(("The same input gives the same bytes.", "Every time!"), Voice("en-us"), "en-US")
    first = engine.synthesize_sync(request).samples
    for other in ("Something else, of another length entirely.", "大家好，这里是周报。", "Hi."):
        engine.synthesize_sync(Request((other,), Voice("cmn" if other[0] > "~" else "en-us"), "en-US"))
        assert np.array_equal(engine.synthesize_sync(request).samples, first)


def test_more_chapters_than_one_table_of_contents_can_list(tmp_path: Path) -> None:
    """A CTOC frame counts its entries in one byte: 300 chapters go into nested ordered parts,
    and reading the tables in order gives every chapter in order."""
    from mutagen.id3 import ID3

    from podcast.audio import ffmpeg
    from podcast.publish.chapters import Chapter, Tags, write_id3

    mp3 = tmp_path / "long.mp3"
    ffmpeg.encode_mp3(np.zeros((44100, 1), dtype=np.float32), 44100, mp3, bitrate="64k", gain_db=0,
                     ceiling_db=-1)
    chapters = [Chapter(f"ch-{i}", f"Chapter {i}", float(i), float(i + 1), None) for i in range(300)]
    write_id3(mp3, Tags(title="Long", album="Long", artist="", date="2024-01-01", language="en",
                        description="", cover=None), chapters)
    tags = ID3(mp3)
    tables = {frame.element_id: frame for frame in tags.getall("CTOC")}

    def walk(element: str) -> list[str]:
        table = tables.get(element)
        return [leaf for child in table.child_element_ids for leaf in walk(child)] if table else [element]

    assert walk("toc") == [c.id for c in chapters]
    assert len(tags.getall("CHAP")) == 300
    assert all(len(t.child_element_ids) <= 255 for t in tables.values())
