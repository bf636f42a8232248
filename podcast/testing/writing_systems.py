"""Two short sentences in each of many writing systems, with the language tag that reads them.

Used by ``tests/test_scripts.py`` (every sentence must be spoken and shown) and by
``scripts/calibrate_units.py`` (how fast espeak-ng speaks each script, for
:mod:`podcast.speech.units`). The sentences hold no digits, acronyms or links, so their
spoken form is their written form in every language.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """Sentences of one writing system."""

    name: str
    """For test ids: ``korean``."""
    language: str
    """The issue's BCP 47 tag (the engine's default voice for it reads the sentences)."""
    script: str
    """The script whose weight the sentences calibrate: the first word of its letters' Unicode
    names (``HANGUL``), as :func:`podcast.speech.units.script_of` gives it."""
    sentences: tuple[str, ...]
    calibrates: bool = True
    """Written in its script alone, so that it measures that script's speed."""

    @property
    def text(self) -> str:
        """The sentences as one paragraph."""
        return " ".join(self.sentences)


REFERENCES: tuple[Sample, ...] = (
    Sample("english", "en-US", "LATIN", (
        "The company released a new model for writing short summaries.",
        "It reads long documents quickly and answers questions about them.")),
    Sample("mandarin", "zh-CN", "CJK", (
        "这家公司发布了一个新的模型，专门用来写简短的摘要。",
        "它能很快读完很长的文档，并回答有关的问题。")),
)
"""The two scripts whose weights are the reference (see :mod:`podcast.speech.units`)."""

SAMPLES: tuple[Sample, ...] = (
    Sample("korean", "ko-KR", "HANGUL", (
        "오늘은 새로운 언어 모델을 소개합니다.",
        "이 모델은 긴 문서를 빠르게 요약합니다.")),
    Sample("russian", "ru-RU", "CYRILLIC", (
        "Компания представила новую модель.",
        "Она создаёт короткие ролики по описанию.")),
    Sample("greek", "el-GR", "GREEK", (
        "Η εταιρεία παρουσίασε ένα νέο μοντέλο.",
        "Το μοντέλο γράφει σύντομες περιλήψεις.")),
    Sample("arabic", "ar-EG", "ARABIC", (
        "أعلنت الشركة عن نموذج جديد.",
        "يكتب النموذج ملخصات قصيرة؟")),
    Sample("hebrew", "he-IL", "HEBREW", (
        "החברה הציגה מודל חדש.",
        "המודל כותב סיכומים קצרים.")),
    Sample("japanese", "ja-JP", "HIRAGANA", (
        "あたらしい もでるが でました。",
        "これは とても はやくて べんりです。")),
    Sample("hindi", "hi-IN", "DEVANAGARI", (
        "कंपनी ने एक नया मॉडल पेश किया।",
        "यह मॉडल छोटे सारांश लिखता है।")),
    Sample("thai", "th-TH", "THAI", (
        "บริษัทเปิดตัวโมเดลใหม่",  # Thai writes no sentence punctuation: a space ends a sentence
        "โมเดลนี้เขียนสรุปสั้นได้ดี")),
    Sample("vietnamese", "vi-VN", "LATIN", (
        "Công ty vừa giới thiệu một mô hình mới.",
        "Mô hình này viết bản tóm tắt rất ngắn.")),
    Sample("mandarin-arabic", "zh-CN", "CJK", (
        "这个模型的阿拉伯语名字是سلام。",
        "مرحبا بكم في برنامجنا."), calibrates=False),
)
