"""Speakable text and spoken units, for every script Unicode knows.

Two questions are asked of a piece of text, by normalization (:func:`podcast.speech.normalize.tidy`
drops a sentence with nothing to say), by the check of an issue (an entry with nothing to say is
an error) and by the clip check (:mod:`podcast.synthesis.qa`: is the clip about as long as its
text?). Both are answered here, from the Unicode character database, so that no script is
treated as noise:

* **Is there anything to say?** (:func:`speakable`) A letter of any script (general category
  ``Lu``, ``Ll``, ``Lt``, ``Lo``: Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Han,
  kana, Hangul...) or a digit or other number (``Nd``, ``Nl``, ``No``). Punctuation, symbols,
  spaces, combining marks on their own, and invisible characters (zero-width space, joiners,
  direction marks: category ``Cf``) are not.
* **About how long does it take to say?** (:func:`spoken_units`) A count of *spoken units*,
  about one Mandarin syllable's worth of time each. A letter's script is the first word of its
  Unicode name (``HANGUL SYLLABLE GA`` is Hangul, ``CYRILLIC SMALL LETTER ZHE`` Cyrillic), and
  :data:`READINGS` says how its letters count: in a *syllabic* script (Han, Hangul, kana) each
  letter is worth its weight; in an *alphabetic* one (Latin, Cyrillic, Arabic, Devanagari...)
  each word (a run of letters of one script, with its combining marks) is worth its letters
  times the weight, and at least one unit. A digit is one unit. A script not in the table
  counts as :data:`DEFAULT_READING`.

**Calibration.** The weights of Han (one unit a character) and Latin (a third of a unit a
letter) are the ones the clip check always used; they make espeak-ng 1.52 speak about
:data:`REFERENCE_UNITS_PER_S` units a second at the normal rate (``cmn`` and ``en-us``
voices). Every other weight was set so that the same engine, with the language's default
voice, speaks that many units a second: ``python scripts/calibrate_units.py`` synthesizes a
few sentences per script with espeak, measures the clips and prints, per script, the weight
that makes units / seconds equal the reference (and the rate the current weight gives). The
clip check's window (:mod:`podcast.synthesis.qa`) is wide (from about half to about four times
the expected length), so the weights only need to be right within a few tens of percent.

**Letters a voice cannot read.** A voice reads its language's scripts (:data:`NATIVE_SCRIPTS`;
every voice reads Latin) and *spells* the letters of any other script one by one: espeak's
``cmn`` voice says a Russian sentence letter by letter, ten times slower than the ``ru`` voice.
So the longest plausible reading (``spoken_units(text, native=...)``) counts such a letter as
:data:`SPELLED_UNITS`, the most the same script measured (``cmn`` and ``en-us`` reading every
sample; Thai letter names are the longest).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

SPEAKABLE_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo", "Nd", "Nl", "No"})
"""General categories of characters that are something to say."""

REFERENCE_UNITS_PER_S = 4.3
"""Units a second espeak-ng speaks Mandarin and English at the normal rate (measured)."""


@dataclass(frozen=True)
class Reading:
    """How the letters of one script count in spoken units."""

    weight: float
    """Units per letter."""
    syllabic: bool = False
    """Each letter is a syllable of its own (Han, Hangul, kana): no word minimum."""


READINGS: dict[str, Reading] = {
    "CJK": Reading(1.0, syllabic=True),
    "IDEOGRAPHIC": Reading(1.0, syllabic=True),  # 々 (the iteration mark)
    "HANGUL": Reading(0.8, syllabic=True),
    "HIRAGANA": Reading(0.65, syllabic=True),
    "KATAKANA": Reading(0.65, syllabic=True),
    "LATIN": Reading(1 / 3),
    "CYRILLIC": Reading(0.3),
    "GREEK": Reading(0.27),
    "ARABIC": Reading(0.55),
    "HEBREW": Reading(0.48),
    "DEVANAGARI": Reading(0.64),
    "THAI": Reading(0.58),
}
"""Calibrated readings, by the first word of the letters' Unicode names (see the module's
docstring for how they were measured)."""

DEFAULT_READING = Reading(0.4)
"""A script not in :data:`READINGS`: an alphabet, about as fast as the measured ones."""

SPELLED_UNITS = 6.0
"""Units of one letter a voice spells out because its language does not read that script."""

_HAN = ("CJK", "IDEOGRAPHIC")
_SCRIPTS_BY_LANGUAGE: dict[tuple[str, ...], tuple[str, ...]] = {
    ("zh", "cmn", "yue"): _HAN,
    ("ja",): ("HIRAGANA", "KATAKANA"),  # espeak's ja voice does not read kanji
    ("ko",): ("HANGUL",),
    ("ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tt", "ba", "cv"): ("CYRILLIC",),
    ("el", "grc"): ("GREEK",),
    ("ar", "fa", "ur", "ps", "sd", "ug"): ("ARABIC",),
    ("he", "yi"): ("HEBREW",),
    ("hi", "mr", "ne", "kok", "sa"): ("DEVANAGARI",),
    ("th",): ("THAI",),
}
NATIVE_SCRIPTS: dict[str, frozenset[str]] = {
    language: frozenset({"LATIN", *scripts})
    for languages, scripts in _SCRIPTS_BY_LANGUAGE.items() for language in languages}
"""The scripts a language's voices read, by primary language subtag (any other language: Latin)."""

_WIDTH_PREFIXES = frozenset({"HALFWIDTH", "FULLWIDTH"})


def native_scripts(language: str) -> frozenset[str]:
    """The scripts voices of BCP 47 *language* read as words; they spell the letters of others."""
    primary = language.replace("_", "-").split("-")[0].lower()
    return NATIVE_SCRIPTS.get(primary, frozenset({"LATIN"}))


def speakable(text: str) -> bool:
    """Is there anything in *text* to say: a letter of any script, or a digit?"""
    return any(unicodedata.category(ch) in SPEAKABLE_CATEGORIES for ch in text)


@lru_cache(maxsize=4096)
def script_of(ch: str) -> str | None:
    """The script of letter *ch* (the first word of its Unicode name: ``CYRILLIC``, ``CJK``,
    ``HANGUL``; ``HALFWIDTH``/``FULLWIDTH`` forms count as their script), None for what is not a
    letter."""
    category = unicodedata.category(ch)
    if category[0] != "L":
        return None
    words = unicodedata.name(ch, "").replace("-", " ").split()
    if words and words[0] in _WIDTH_PREFIXES:
        words = words[1:]
    return words[0] if words else "UNKNOWN"


def reading(script: str) -> Reading:
    """How letters of *script* count (:data:`DEFAULT_READING` for a script not in the table)."""
    return READINGS.get(script, DEFAULT_READING)


def spoken_units(text: str, native: frozenset[str] | None = None) -> float:
    """About how many syllables' worth of time *text* takes to say, in any mix of scripts; with
    *native* (:func:`native_scripts`), letters of other scripts are spelled (the longest reading)."""
    units = 0.0
    word: Reading | None = None  # the alphabetic word being read
    word_script = ""
    letters = 0
    for ch in text:
        category = unicodedata.category(ch)
        script = script_of(ch)
        read = reading(script) if script else None
        if read is not None and native is not None and script not in native:
            read = _SPELLED
        if read is not None and (category != "Lm" or read.syllabic):
            if read.syllabic:
                units += read.weight
            elif word is not None and script == word_script:
                letters += 1
                continue
            else:
                units += _word_units(word, letters)
                word, word_script, letters = read, script or "", 1
                continue
        elif word is not None and (category[0] == "M" or category == "Lm"):
            continue  # a combining mark or modifier letter belongs to the word
        elif category[0] == "N":
            units += 1.0
        units += _word_units(word, letters)
        word, word_script, letters = None, "", 0
    return units + _word_units(word, letters)


_SPELLED = Reading(SPELLED_UNITS, syllabic=True)


def _word_units(word: Reading | None, letters: int) -> float:
    """Units of a word of *letters* letters read as *word* (0 when there is no word)."""
    return max(1.0, letters * word.weight) if word is not None else 0.0
