"""Speech normalization: written narration to what the engine should say.

Pure functions from text to text. A segment's text is cut into *chunks* at explicit pauses
(``[pause 800ms]``) and into sentences; each sentence keeps its written form (for transcripts
and show notes) beside its spoken form (for the engine).

The spoken form comes from small passes applied in order (:func:`passes`): links out, the
pronunciation lexicon, numbers that belong to names (versions), the remaining numbers
(:mod:`podcast.speech.numbers`), symbols, acronyms, and a final tidy. Which number and symbol
rules a sentence gets comes from its language's record in :mod:`podcast.speech.languages`.

Rules for names and acronyms:

* A number that follows a Latin name is part of the name and is read in English, digit groups
  as whole numbers: ``GPT-4`` → GPT four, ``GPT-3.5`` → GPT three point five, ``Llama 2`` →
  Llama two, ``GPT-4o`` → GPT four o, ``A100`` → A one hundred, unless what follows makes it a
  quantity (the language's ``quantity``: ``Minecraft 100个`` is a count, 一百个). In languages
  written with spaces a space separated number only counts as a version after a capitalized name.
* A size (digits and ``B``/``M``/``K``/``T``) keeps its letter: ``34B`` → 三十四B in Mandarin,
  thirty-four B in English, and thirty-four billion before a counted noun (``7B parameters``).
* A run of two or more capitals is spelled letter by letter (``TTS`` → T T S, ``OpenAI`` →
  Open A I, ``LLMs`` → L L M's); names said as words (``SORA``, ``ALOHA``, ``WRAP``) come from the
  lexicon. Other mixed-case names (``ChatScratch``, ``LlaSMol``, ``S-Agents``) are left for the
  engine, which reads them as English words.
* URLs, e-mail addresses, DOIs and arXiv identifiers are never read; a bare domain is read
  with "dot".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from podcast.speech import numbers
from podcast.speech.languages import Language, Pass, language_for
from podcast.speech.lexicon import Lexicon, default_lexicon
from podcast.speech.numerals import en_version, en_year
from podcast.speech.symbols import CJK
from podcast.speech.units import speakable

PAUSE_RE = re.compile(r"\[\s*pause\s+(\d+(?:\.\d+)?)\s*(ms|s)?\s*\]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[。！？；!?।॥؟۔።။])(?![。！？；!?।॥؟۔።။”’」』）)])|(?<=[.])(?=\s+\S)")
_SPACES = re.compile(r"\s+")
MAX_PAUSE_MS = 60_000

Letters = Mapping[str, str]
"""How an engine needs letters written when they are spelled out (its ``letter_names``)."""


@dataclass(frozen=True)
class Chunk:
    """Narration between two explicit pauses: sentences as written and as spoken."""

    written: tuple[str, ...]
    spoken: tuple[str, ...]
    pause_after_ms: int = 0


def pause_ms(match: re.Match[str]) -> int:
    """Milliseconds of a ``[pause ...]`` marker (bare numbers are milliseconds)."""
    value = float(match.group(1))
    ms = value * 1000 if (match.group(2) or "ms").lower() == "s" else value
    return min(MAX_PAUSE_MS, round(ms))


def split_sentences(text: str) -> list[str]:
    """Sentences of *text*, split after sentence punctuation: Chinese and Western, the danda
    (Devanagari), the Arabic question mark and full stop, the Ethiopic and Burmese full stops."""
    flat = _SPACES.sub(" ", text).strip()
    if not flat:
        return []
    return [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]


def passes(language: str, lexicon: Lexicon | None = None, engine: str | None = None,
           letters: Letters | None = None) -> tuple[Pass, ...]:
    """The normalization passes for *language*, in order; each is a pure text → text function.

    *engine* picks the lexicon's forms for that engine; *letters* is how it needs spelled
    letters written."""
    lexicon = default_lexicon() if lexicon is None else lexicon
    row = language_for(language)
    return (
        strip_links,
        partial(lexicon.apply, language=language, engine=engine),
        partial(read_versions, language=row, letters=letters),
        row.numbers,
        row.symbols,
        partial(spell_acronyms, letters=letters),
        tidy,
    )


def speak(sentence: str, language: str, lexicon: Lexicon | None = None, engine: str | None = None,
          letters: Letters | None = None) -> str:
    """The spoken form of one written sentence (*lexicon* None: the packaged default lexicon)."""
    text = _SPACES.sub(" ", sentence).strip()
    for step in passes(language, lexicon, engine, letters):
        text = step(text)
    return text


def chunks(text: str, language: str, lexicon: Lexicon | None = None,
           engine: str | None = None, letters: Letters | None = None) -> list[Chunk]:
    """Cut *text* at pause markers and sentences.

    A piece with nothing to say (only a link, say) adds its pause to the chunk before it;
    pauses before the first words are dropped (segments are separated by pauses anyway).
    """
    out: list[Chunk] = []
    pos = 0
    pieces: list[tuple[str, int]] = []
    for match in PAUSE_RE.finditer(text):
        pieces.append((text[pos:match.start()], pause_ms(match)))
        pos = match.end()
    pieces.append((text[pos:], 0))
    for piece, pause in pieces:
        chunk = _chunk(split_sentences(piece), language, pause, lexicon, engine, letters)
        if chunk.spoken:
            out.append(chunk)
        elif out:
            last = out[-1]
            out[-1] = Chunk(last.written, last.spoken, last.pause_after_ms + pause)
    return out


def _chunk(written: list[str], language: str, pause: int, lexicon: Lexicon | None,
           engine: str | None, letters: Letters | None) -> Chunk:
    spoken = [speak(s, language, lexicon, engine, letters) for s in written]
    keep = [(w, s) for w, s in zip(written, spoken, strict=True) if s.strip()]
    return Chunk(tuple(w for w, _ in keep), tuple(s for _, s in keep), pause)


# ---------------------------------------------------------------------------------------------
# Passes

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_TLDS = "com|org|net|io|ai|dev|cn|edu|gov|co|app|me|info|uk|de|jp"
_LINKS = [
    re.compile(rf"(?:https?://|www\.){_URL_CHARS}+"),
    re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    re.compile(r"(?<![A-Za-z0-9])(?:doi:\s*|10\.\d{4,9}/)[^\s，。；、）]+", re.IGNORECASE),
    re.compile(rf"(?<![A-Za-z0-9.-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:{_TLDS})/{_URL_CHARS}*"),
    re.compile(r"(?<![\d.])(?:0[7-9]|[1-9]\d)(?:0[1-9]|1[0-2])\.\d{4,5}(?:v\d+)?(?![\d.])"),
]
_ARXIV = re.compile(r"(?<![A-Za-z0-9])(arxiv)\s*[:：]?\s*"
                    r"(?:(?:0[7-9]|[1-9]\d)(?:0[1-9]|1[0-2])\.\d{4,5}(?:v\d+)?|[a-z-]+/\d{7})", re.IGNORECASE)
_DOMAIN = re.compile(rf"(?<![A-Za-z0-9.@/-])((?:[A-Za-z0-9-]+\.)+)({_TLDS})(?![A-Za-z0-9]|\.[A-Za-z0-9])")


def strip_links(text: str) -> str:
    """Drop URLs, e-mail addresses, DOIs and arXiv identifiers; read bare domains with "dot"."""
    text = _ARXIV.sub(lambda m: m.group(1), text)
    for pattern in _LINKS:
        text = pattern.sub(lambda m: _trailing(m.group(0)), text)
    return _DOMAIN.sub(lambda m: " dot ".join([*m.group(1).rstrip(".").split("."), m.group(2)]), text)


def _trailing(link: str) -> str:
    """The punctuation a link pattern swallowed from the sentence around it."""
    kept = re.search(r"[.,;:!?'\")\]]*$", link)
    return kept.group(0) if kept else ""


_CUE_WORDS = frozenset(numbers.YEAR_CUES.split("|")) | {m.lower() for m in numbers.MONTHS} | {
    "at", "on", "with", "for", "over", "under", "about", "nearly", "almost", "only", "just", "top",
    "page", "chapter", "section", "figure", "table", "step", "level", "phase", "day", "week", "month",
    "issue", "number", "episode", "part", "is", "are", "was", "were", "has", "have", "than",
    "all", "every", "first", "last", "next", "into", "onto", "per", "up", "out", "a", "an", "i"}
_VERSION = re.compile(
    r"(?<![A-Za-z0-9.])(?P<name>[A-Za-z]+)(?P<sep>[ -]?)(?P<ver>\d+(?:\.\d+)*)"
    r"(?P<suf>[a-z]|(?![BMKT])[A-Z])?(?![A-Za-z0-9]|[.,]\d|[-/.]\d\d?[-/.]\d|\s?[-–]\s?\d{4})"
    r"(?P<dash>-(?=[A-Za-z0-9]))?")
def read_versions(text: str, *, language: Language, letters: Letters | None = None) -> str:
    """Read numbers that belong to a name in English: ``GPT-4`` → GPT four, ``Llama 2`` → Llama two."""
    spaced = language.spaced

    def said(m: re.Match[str]) -> str:
        name, sep, version, suffix = m.group("name"), m.group("sep"), m.group("ver"), m.group("suf")
        if language.quantity.match(m.string, m.end()) and not suffix:
            return m.group(0)
        if spaced and sep == " " and (not name[0].isupper() or name.lower() in _CUE_WORDS):
            return m.group(0)
        whole, _, rest = version.partition(".")
        words = en_version(version) if rest or len(whole) != 4 else en_year(int(whole))
        if name == "v" and spaced:
            name = "version"
        elif len(name) == 1 and name.isupper():
            name = spell(name, letters)
        return f"{name} {words}" + (f" {suffix}" if suffix else "") + (" " if m.group("dash") else "")

    return _VERSION.sub(said, text)


def spell(word: str, letters: Letters | None = None) -> str:
    """*word*'s letters one by one, each written as *letters* says (an engine's
    ``letter_names``): ``TTS`` → T T S."""
    names = letters or {}
    return " ".join(names.get(letter, letter) for letter in word)


_COMPOUND = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_PLURAL = re.compile(r"[A-Z]{2,}s")


def spell_acronyms(text: str, *, letters: Letters | None = None) -> str:
    """Spell every run of two or more capitals: ``AGI`` → A G I, ``OpenAI`` → Open A I, ``LLMs`` →
    L L M's, ``Fact-GPT`` → Fact G P T (hyphens next to a spelled part become spaces)."""
    def word(part: str) -> tuple[str, bool]:
        if _PLURAL.fullmatch(part):
            return spell(part[:-1], letters) + "'s", True
        pieces = _CAMEL.findall(part)
        spelled = [len(p) > 1 and p.isupper() for p in pieces]
        if not any(spelled):
            return part, False
        return " ".join(spell(p, letters) if s else p for p, s in zip(pieces, spelled, strict=True)), True

    def compound(m: re.Match[str]) -> str:
        parts = [word(p) for p in m.group(0).split("-")]
        joiner = " " if any(s for _, s in parts) else "-"
        return joiner.join(p for p, _ in parts)

    return _COMPOUND.sub(compound, text)


_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Soft hyphens, zero-width spaces, word joiners, byte-order marks and direction controls: nothing
to say and nothing an engine needs (zero-width joiners, which shape some scripts, are kept)."""
_TIDY = [
    (_INVISIBLE, ""),
    (re.compile(r"[（(【\[]\s*[）)】\]]"), ""),
    (re.compile(rf"(?<=[A-Za-z])\s*-\s*(?=[{CJK}])|(?<=[{CJK}])\s*-\s*(?=[A-Za-z])"), " "),
    (re.compile(r"\s*[:：]\s*(?=[。！？.!?]|$)"), ""),
    (re.compile(r"[，,、；;]+\s*(?=[。！？.!?，,、；;]|$)"), ""),
    (re.compile(r"\s+"), " "),
    (re.compile(r"\s+(?=[，。！？；：、,.!?;:)）」』”’])|(?<=[（(「『“‘])\s+"), ""),
    (re.compile(rf"(?<=[{CJK}]) (?=[{CJK}])"), ""),
    (re.compile(r"^[\s，,、；;：:。.]+"), ""),
]


def tidy(text: str) -> str:
    """Spaces and punctuation left over by the other passes; "" when nothing is left to say (no
    letter of any script, no digit: :func:`podcast.speech.units.speakable`)."""
    for pattern, repl in _TIDY:
        text = pattern.sub(repl, text)
    text = text.strip()
    return text if speakable(text) else ""
