"""The language table: everything the pipeline decides by language, one record per language.

Every place that treats languages differently asks :func:`language_for` for the record of a
BCP 47 tag (``zh-CN``, ``yue-HK``, ``en-US``) and reads it: the number and symbol passes
(:mod:`podcast.speech.normalize`), the lexicon key (:mod:`podcast.speech.lexicon`), the
packaged template set and the chapter labels (:mod:`podcast.script.render`), the show notes'
headings (:mod:`podcast.publish.notes`), the ID3 language (:mod:`podcast.publish.chapters`),
the issue skeleton and default title (:mod:`podcast.input.scaffold`) and the guess for an
issue that names no language (:mod:`podcast.input.issue`). The tag itself still travels with
the episode unchanged (engines, cache keys, feed): a record says how to treat it.

A record is chosen by its ``tags``: language ranges matched on whole subtags, the longest
match wins, so ``zh-Hans-TW`` is Simplified (``zh-hans``) while ``zh-TW`` is Traditional.
Case and ``_`` for ``-`` do not matter. A tag no row matches is read with the :data:`FALLBACK`
row's rules and templates (English) under its own code, ISO 639-2 code and lexicon key.

**Adding a language** (German, say) is one new row in :data:`TABLE` plus its number rules:

1. write ``german(text) -> str`` in :mod:`podcast.speech.numbers` (digits to German words;
   ``num2words`` speaks German: ``num2words(n, lang="de")``), and symbol rules in
   :mod:`podcast.speech.symbols` if English's do not fit;
2. add the four narration templates and the issue skeleton in ``podcast/templates/de/``;
3. add ``Language(code="de", tags=("de",), ...)`` below (``de`` then leaves :data:`UNRULED`).

``tests/test_languages.py`` checks that every row is complete.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from podcast.speech import numbers, symbols

Pass = Callable[[str], str]


@dataclass(frozen=True)
class Labels:
    """Words the episode shows, not says: chapter titles and show-notes headings."""

    intro: str
    """Title of the intro chapter (``开场``)."""
    outro: str
    """Title of the outro chapter (``结束语``)."""
    chapters: str
    """Show notes: heading of the chapter list."""
    links: str
    """Show notes: heading of the entries' links."""


@dataclass(frozen=True)
class Language:
    """One row of the language table."""

    code: str
    """The row's name, a BCP 47 tag: ``zh-Hans``, ``zh-Hant``, ``yue``, ``en``."""
    name: str
    """In English, for messages and docs."""
    tags: tuple[str, ...]
    """Language ranges (lower case) that select this row: ``zh`` matches ``zh-CN`` and ``zh``."""
    default_tag: str
    """The tag to write when this language is meant (the guess, ``podcast new``)."""
    lexicon: str
    """The key of this language's forms in a pronunciation lexicon (``zh``, ``yue``, ``en``)."""
    iso639_2: str
    """Three-letter code for ID3 (TLAN, COMM)."""
    numbers: Pass
    """Reads the numbers left after names: text → text with no ASCII digit left."""
    symbols: Pass
    """Says symbols as words (``&``, ``/``) and drops stray marks."""
    quantity: re.Pattern[str]
    """Matched right after a number, makes it a quantity rather than part of a name."""
    spaced: bool
    """Words are separated by spaces: template lines are joined with a space, and a number after
    a space belongs to a name only when the name is capitalized (``Llama 2``, not ``in 2``)."""
    templates: str
    """The packaged template set, a folder of ``podcast/templates/``: narration templates and the
    issue skeleton of ``podcast new``."""
    labels: Labels
    episode_title: str
    """``podcast new``'s default episode title, a :meth:`str.format` string with ``show``,
    ``date`` and ``number``."""
    guess: str | None = None
    """A regex character class: an issue with no language whose text is mostly (over a
    quarter) these characters is guessed to be this language (``default_tag``)."""


_SIMPLIFIED_LABELS = Labels(intro="开场", outro="结束语", chapters="章节", links="本期链接")
_TRADITIONAL_LABELS = Labels(intro="開場", outro="結束語", chapters="章節", links="本期連結")
_CHINESE_TITLE = "{show} {date.year}年{date.month}月第{number}期"

SIMPLIFIED_CHINESE = Language(
    code="zh-Hans", name="Chinese (Simplified)", tags=("zh", "zh-hans", "cmn", "cmn-hans"),
    default_tag="zh-CN", lexicon="zh", iso639_2="zho", numbers=numbers.mandarin,
    symbols=symbols.chinese_symbols, quantity=numbers.ZH_QUANTITY, spaced=False, templates="zh",
    labels=_SIMPLIFIED_LABELS, episode_title=_CHINESE_TITLE, guess=symbols.CJK)
ENGLISH = Language(
    code="en", name="English", tags=("en",), default_tag="en-US", lexicon="en", iso639_2="eng",
    numbers=numbers.english, symbols=symbols.english_symbols, quantity=numbers.EN_QUANTITY,
    spaced=True, templates="en",
    labels=Labels(intro="Intro", outro="Outro", chapters="Chapters", links="Links"),
    episode_title="{show}, {date:%B} {date.day}, {date.year}")
TRADITIONAL_CHINESE = Language(
    code="zh-Hant", name="Chinese (Traditional)",
    tags=("zh-hant", "zh-tw", "zh-hk", "zh-mo", "cmn-hant", "cmn-tw", "cmn-hk", "cmn-mo"),
    default_tag="zh-TW", lexicon="zh", iso639_2="zho", numbers=numbers.traditional,
    symbols=symbols.chinese_symbols, quantity=numbers.ZH_QUANTITY, spaced=False, templates="zh-Hant",
    labels=_TRADITIONAL_LABELS, episode_title=_CHINESE_TITLE)
CANTONESE = dataclasses.replace(
    TRADITIONAL_CHINESE, code="yue", name="Cantonese", tags=("yue", "zh-yue"), default_tag="yue-HK",
    lexicon="yue", iso639_2="yue")

TABLE: tuple[Language, ...] = (SIMPLIFIED_CHINESE, ENGLISH, TRADITIONAL_CHINESE, CANTONESE)
"""Every language with its own rules."""
FALLBACK = ENGLISH
"""The rules, templates and labels of a tag no row matches."""
UNRULED = {"ja": "jpn", "ko": "kor", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt": "por",
           "ru": "rus"}
"""Languages without a row yet, with their ISO 639-2 codes: a lexicon may give their forms
and ID3 names them, but they are read with the :data:`FALLBACK` row's rules and templates."""

_BY_RANGE = {tag: row for row in TABLE for tag in row.tags}
_SUBTAG = re.compile(r"[-_]")


@cache
def language_for(tag: str) -> Language:
    """The record for BCP 47 *tag*: the row with the longest range that matches it, else the
    :data:`FALLBACK` rules under the tag's own primary subtag (its code and lexicon key)."""
    subtags = _SUBTAG.split(tag.strip().lower())
    for n in range(len(subtags), 0, -1):
        row = _BY_RANGE.get("-".join(subtags[:n]))
        if row is not None:
            return row
    primary = subtags[0]
    if not primary:
        return FALLBACK
    iso = UNRULED.get(primary) or (primary if re.fullmatch(r"[a-z]{3}", primary) else "und")
    return dataclasses.replace(FALLBACK, code=primary, name=primary, tags=(), default_tag=tag.strip(),
                               lexicon=primary, iso639_2=iso, guess=None)


def lexicon_keys() -> tuple[str, ...]:
    """Every language key a lexicon may use, in table order, then the languages without a row."""
    return tuple(dict.fromkeys([*(row.lexicon for row in TABLE), *UNRULED]))


def guess(text: str) -> str:
    """The tag of the language *text* is mostly written in: a row's ``default_tag`` when over a
    quarter of the characters are in its ``guess`` class, else the fallback's (``en-US``)."""
    for row in TABLE:
        if row.guess and len(re.findall(f"[{row.guess}]", text)) * 4 > len(text):
            return row.default_tag
    return FALLBACK.default_tag
