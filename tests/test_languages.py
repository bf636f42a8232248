"""The language table: every decision by language comes from one record per language.

Cantonese and Traditional-Chinese issues are built for real (espeak's ``yue`` voice, ffmpeg)
and their outputs read back from the files.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from podcast.build import BuildOptions, build
from podcast.input.project import check
from podcast.input.scaffold import PACKAGED_SKELETON
from podcast.publish.chapters import iso639_2
from podcast.script.render import TEMPLATE_NAMES
from podcast.speech import languages
from podcast.speech.languages import TABLE, language_for
from podcast.speech.lexicon import LANGUAGES as LEXICON_KEYS
from podcast.speech.lexicon import language_key
from podcast.speech.normalize import speak
from tests.conftest import CountingEngine, run_cli, write

NUMBERS = "2024年2月有45%的模型，参数从7B到70B不等，共3个版本。"

YUE_ISSUE = """
title: 科技周刊 2024年2月第1期
date: 2024-02-05
language: yue-HK
number: 1
entries:
  - title: 模型統計
    summary: 2024年2月有45%的模型開源。
    url: https://example.com/stats
  - title: 新數據集
    summary: 研究者發佈了3個新數據集。
"""


def test_cantonese_numbers_are_read_in_chinese() -> None:
    said = speak(NUMBERS, "yue-HK")
    assert "twenty" not in said and "percent" not in said
    assert said.startswith("二〇二四年二月有百分之四十五的模型")
    assert not re.search(r"[0-9]", said)


@pytest.mark.parametrize("tag", ["yue", "yue-HK", "zh-TW", "zh-HK", "zh-Hant", "zh-Hant-CN", "cmn-Hant-TW"])
def test_traditional_numbers_are_written_in_traditional_characters(tag: str) -> None:
    said = speak("共12000人，約3.5萬個樣本，2個版本，2024年發佈。", tag)
    assert said == "共一萬兩千人，約三點五萬個樣本，兩個版本，二〇二四年發佈。", said


@pytest.mark.parametrize("tag", ["zh-CN", "zh", "cmn", "zh-SG", "zh-Hans", "zh-Hans-TW", "ZH_cn"])
def test_simplified_tags_keep_the_mandarin_rules(tag: str) -> None:
    assert speak(NUMBERS, tag) == speak(NUMBERS, "zh-CN")
    assert "一万两千" in speak("共12000人", tag)


@pytest.mark.parametrize(("tag", "code"), [
    ("zh-CN", "zh-Hans"), ("cmn", "zh-Hans"), ("zh-Hans-HK", "zh-Hans"), ("zh-TW", "zh-Hant"),
    ("zh-hk", "zh-Hant"), ("zh-MO", "zh-Hant"), ("zh-Hant", "zh-Hant"), ("yue", "yue"), ("yue-HK", "yue"),
    ("zh-yue", "yue"), ("en-US", "en"), ("en", "en"), ("EN-gb", "en")])
def test_language_for_picks_the_row(tag: str, code: str) -> None:
    assert language_for(tag).code == code


def test_a_language_without_a_row_is_read_with_the_fallback_rules() -> None:
    german = language_for("de-DE")
    assert german.code == "de" and german.iso639_2 == "deu" and german.lexicon == "de"
    assert german.numbers is languages.FALLBACK.numbers
    assert german.templates == languages.FALLBACK.templates
    assert language_for("sv").iso639_2 == "und" and language_for("fil").iso639_2 == "fil"


@pytest.mark.parametrize(("tag", "iso", "key"), [
    ("zh-CN", "zho", "zh"), ("zh-TW", "zho", "zh"), ("cmn", "zho", "zh"), ("yue-HK", "yue", "yue"),
    ("en-US", "eng", "en"), ("ja", "jpn", "ja"), ("fr-CA", "fra", "fr"), ("xx", "und", "xx")])
def test_iso639_2_and_lexicon_key_come_from_the_table(tag: str, iso: str, key: str) -> None:
    assert iso639_2(tag) == iso
    assert language_key(tag) == key


def test_every_record_is_complete() -> None:
    package = Path(languages.__file__).resolve().parent.parent / "templates"
    codes = [row.code for row in TABLE]
    assert len(set(codes)) == len(codes)
    ranges = [tag for row in TABLE for tag in row.tags]
    assert len(set(ranges)) == len(ranges), "a tag selects one row"
    for row in TABLE:
        assert language_for(row.code) is row
        assert all(language_for(tag) is row for tag in row.tags), row.code
        assert row.name and row.default_tag and language_for(row.default_tag) is row
        assert re.fullmatch(r"[a-z]{3}", row.iso639_2), row.code
        assert row.lexicon in LEXICON_KEYS
        for name in (*TEMPLATE_NAMES, PACKAGED_SKELETON):
            assert (package / row.templates / name).is_file(), (row.code, name)
        for label in (row.labels.intro, row.labels.outro, row.labels.chapters, row.labels.links):
            assert label.strip(), row.code
        said = row.symbols(row.numbers("On 2024-02-19, 45% & 3/4 of 1,000 (7B) & A/B"))
        assert not re.search(r"[0-9&]", said), (row.code, said)
        assert row.episode_title.format(show="S", date=dt.date(2024, 2, 5), number=1)
    assert not set(languages.UNRULED) & {row.lexicon for row in TABLE}, "a language with a row is ruled"


def test_a_zh_tw_issue_gets_the_traditional_templates(tmp_path: Path) -> None:
    issue = write(tmp_path / "tw" / "2024-02-05.yaml", YUE_ISSUE.replace("yue-HK", "zh-TW"))
    project, problems = check(issue, engine="espeak")
    assert project is not None, problems
    texts = [s.text for s in project.script.segments]
    assert texts[0].startswith("大家好，這裡是") and "的第1期。本期我們一起來看2條" in texts[0], texts[0]
    assert texts[1].startswith("首先，") and texts[-1].startswith("本期節目就到這裡")
    assert [s.chapter for s in project.script.segments] == ["開場", "模型統計", "新數據集", "結束語"]
    simplified, _ = check(write(tmp_path / "cn" / "2024-02-05.yaml", YUE_ISSUE.replace("yue-HK", "zh-CN")))
    assert simplified is not None
    assert simplified.script.segments[0].text.startswith("大家好，这里是")


def test_a_cantonese_issue_is_built_with_chinese_numbers_and_traditional_labels(
        tmp_path: Path, counting: CountingEngine) -> None:
    issue = write(tmp_path / "yue" / "2024-02-05.yaml", YUE_ISSUE)
    report = build(issue, BuildOptions(out_dir=tmp_path / "out", engine="counting"))
    spoken = "".join(s for call in counting.calls for s in call)
    assert "二〇二四年二月有百分之四十五的模型開源" in spoken and "三個新數據集" in spoken, spoken
    assert "twenty" not in spoken and "percent" not in spoken
    mp3 = report.mp3
    chapters = json.loads(mp3.with_suffix(".chapters.json").read_text(encoding="utf-8"))
    assert [c["title"] for c in chapters["chapters"]] == ["開場", "模型統計", "新數據集", "結束語"]
    notes = mp3.with_suffix(".md").read_text(encoding="utf-8")
    assert "## 章節" in notes and "## 本期連結" in notes and "开场" not in notes
    page = mp3.with_suffix(".html").read_text(encoding="utf-8")
    assert "<h2>章節</h2>" in page and '<html lang="yue-HK">' in page
    vtt = mp3.with_suffix(".vtt").read_text(encoding="utf-8")
    assert "這裡是" in vtt and "本期節目就到這裡" in vtt and "这里" not in vtt
    tags = ID3(str(mp3))
    assert str(tags["TLAN"]) == "yue"
    titles = {c.element_id: str(c.sub_frames["TIT2"]) for c in tags.getall("CHAP")}
    assert titles["intro"] == "開場" and titles["outro"] == "結束語"


def test_new_writes_a_traditional_skeleton_for_a_traditional_show(tmp_path: Path) -> None:
    folder = tmp_path / "hk-weekly"
    result = run_cli("new", str(folder), "--date", "2024-07-01", "--language", "zh-HK")
    assert result.returncode == 0, result.stderr
    text = (folder / "2024-07-01.yaml").read_text(encoding="utf-8")
    assert "每條新聞是一個條目" in text and "language: zh-HK" in text
    assert "2024年7月第1期" in text
    checked = run_cli("validate", str(folder / "2024-07-01.yaml"))
    assert checked.returncode == 0, checked.stderr


def test_the_language_guess_comes_from_the_table() -> None:
    assert languages.guess("这是一条很短的测试新闻。") == "zh-CN"
    assert languages.guess("A short test story.") == "en-US"


def test_validate_warns_when_a_language_has_no_row(tmp_path: Path) -> None:
    issue = write(tmp_path / "de" / "2024-02-05.yaml", YUE_ISSUE.replace("yue-HK", "de-DE"))
    result = run_cli("validate", str(issue))
    assert result.returncode == 0, result.stderr
    assert (f"{issue}:3:11: language: warning: 'de-DE' has no rules of its own: its numbers, templates "
            "and labels are English's (see Languages in the README)") in result.stderr
    assert "no rules" not in run_cli("validate", str(write(tmp_path / "yue" / "1.yaml", YUE_ISSUE))).stderr
