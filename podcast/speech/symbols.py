"""Symbols in a sentence said as words, per language: ``&``, ``/``, arrows and stray marks.

Each pass is a pure function from text to text; the language table
(:mod:`podcast.speech.languages`) names the one a language uses.
"""

from __future__ import annotations

import re

CJK = r"\u3400-\u9fff\uf900-\ufaff"
"""Han characters (a regex character-class body), shared by every module that counts them."""


def chinese_symbols(text: str) -> str:
    """Symbols in Chinese (both scripts): ``&`` → 和, ``文本/图像`` → 文本或图像; stray marks are dropped."""
    text = re.sub(rf"(?<=[{CJK}])\s*/\s*(?=[{CJK}])", "或", text)
    text = re.sub(r"\s*&\s*", "和", text)
    text = re.sub(r"\s*/\s*", " ", text)
    return re.sub(r"[#*_|~@^\\]", " ", text)


def english_symbols(text: str) -> str:
    """Symbols in English: ``&`` → and, ``text/image`` → text or image; stray marks are dropped."""
    text = re.sub(r"\band/or\b", "and or", text)
    text = re.sub(r"(?<=[a-z])/(?=[a-z])", " or ", text)
    text = re.sub(r"\s*&\s*", " and ", text)
    text = re.sub(r"\s*→\s*", " to ", text)
    text = re.sub(r"\s*@\s*", " at ", text)
    text = re.sub(r"\s*/\s*", " ", text)
    return re.sub(r"[#*_|~^\\]", " ", text)
