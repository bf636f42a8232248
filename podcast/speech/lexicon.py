"""Pronunciation lexicons: how to say a term, per language and optionally per engine.

A lexicon is a YAML file (the format is documented at the top of ``lexicon/default.yaml``)
read into a :class:`Lexicon` with every problem located. The package ships a default one for
common AI terms; a show's ``lexicon.yaml`` is laid over it with :meth:`Lexicon.merged_over`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from podcast.errors import InputError
from podcast.input.schema import Reader, did_you_mean
from podcast.input.yamlio import Document, PathKey, load_document
from podcast.speech.languages import language_for, lexicon_keys

DEFAULT_FILE = Path(__file__).parent.parent / "lexicon" / "default.yaml"
LANGUAGES = lexicon_keys()
"""Language keys of a lexicon entry (primary language subtags), from the language table."""
FLAGS = ("match_case", "whole_word")
SAY = "say"
_LANGUAGE_LIKE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")

Form = tuple[str | None, str | None, str]
"""(engine or None, language or None, spoken form)."""


def language_key(language: str) -> str:
    """The lexicon key of a BCP 47 tag: ``zh-CN`` → ``zh``, ``en-US`` → ``en``, ``cmn`` → ``zh``,
    ``yue-HK`` → ``yue`` (its language's record says)."""
    return language_for(language).lexicon


@dataclass(frozen=True)
class Term:
    """One entry: a written term, its spoken forms and how it is matched."""

    term: str
    forms: tuple[Form, ...]
    match_case: bool = True
    whole_word: bool = True
    line: int = 0

    def spoken(self, language: str, engine: str | None = None) -> str | None:
        """The most specific form: engine + language, engine, language, then ``say``."""
        lang = language_key(language)
        wanted = [(engine, lang), (engine, None)] if engine else []
        for key in [*wanted, (None, lang), (None, None)]:
            for form_engine, form_lang, said in self.forms:
                if (form_engine, form_lang) == key:
                    return said
        return None

    def pattern(self) -> str:
        """A regular expression for the term in running text."""
        body = re.escape(self.term)
        if not self.match_case:
            body = f"(?i:{body})"
        if self.whole_word:
            if _is_word_char(self.term[0]):
                body = r"(?<![A-Za-z0-9])" + body
            if _is_word_char(self.term[-1]):
                body += r"(?![A-Za-z0-9])" + (r"(?![.,]\d)" if self.term[-1].isdigit() else "")
        return body


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


@dataclass(frozen=True)
class Lexicon:
    """Terms in order of precedence: the first term that has a form for the language wins."""

    terms: tuple[Term, ...] = ()
    _compiled: dict[tuple[str, str | None], tuple[re.Pattern[str] | None, tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False, hash=False)

    def merged_over(self, other: Lexicon) -> Lexicon:
        """This lexicon laid over *other*: for any term, language and engine, self wins.

        A term of self that has no form for some language leaves *other*'s form in place.
        """
        return Lexicon(self.terms + other.terms)

    def spoken(self, term: str, language: str, engine: str | None = None) -> str | None:
        """How *term*, written exactly so, is said (None when no entry matches it)."""
        pattern, forms = self._rules(language, engine)
        match = pattern.fullmatch(term) if pattern else None
        return forms[match.lastindex - 1] if match and match.lastindex else None

    def apply(self, text: str, language: str, engine: str | None = None) -> str:
        """Replace every term in *text* with its spoken form (longest match first)."""
        pattern, forms = self._rules(language, engine)
        if pattern is None:
            return text
        return pattern.sub(lambda m: forms[(m.lastindex or 1) - 1], text)

    def _rules(self, language: str, engine: str | None) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
        key = (language_key(language), engine)
        if key not in self._compiled:
            self._compiled[key] = _compile(self.terms, *key)
        return self._compiled[key]


def _compile(terms: tuple[Term, ...], language: str,
             engine: str | None) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    chosen: list[tuple[int, Term, str]] = []
    seen: set[tuple[str, bool, bool]] = set()
    for order, term in enumerate(terms):
        said = term.spoken(language, engine)
        key = (term.term if term.match_case else term.term.casefold(), term.match_case, term.whole_word)
        if said is None or key in seen:
            continue
        seen.add(key)
        chosen.append((order, term, said))
    if not chosen:
        return None, ()
    chosen.sort(key=lambda c: (-len(c[1].term), c[0]))
    pattern = re.compile("|".join(f"({term.pattern()})" for _, term, _ in chosen))
    return pattern, tuple(said for _, _, said in chosen)


def load_lexicon(path: Path) -> Lexicon:
    """Load a lexicon file; raises :class:`InputError` listing every problem, located."""
    doc = load_document(path)
    lexicon = read_lexicon(doc)
    if any(p.severity == "error" for p in doc.problems):
        raise InputError(doc.problems)
    return lexicon


@cache
def default_lexicon() -> Lexicon:
    """The lexicon shipped with the package (loaded once)."""
    return load_lexicon(DEFAULT_FILE)


def read_lexicon(doc: Document) -> Lexicon:
    """Check and convert a parsed lexicon document; problems are collected in ``doc.problems``.

    Bad entries are left out; the good ones are returned, so checking goes on past the first.
    """
    if doc.data is None:
        return Lexicon()
    if not isinstance(doc.data, dict):
        doc.add((), "a lexicon file must be a mapping with 'terms:' (term: spoken form)")
        return Lexicon()
    r = Reader(doc)
    for key in doc.data:
        if key != "terms":
            doc.add((key,), f"unknown field{did_you_mean(key, ['terms'])}; put each term under 'terms:'",
                    at_key=True)
    table = r.mapping(("terms",), required="terms" not in doc.data)
    engines = _engine_names()
    terms: list[Term] = []
    folded: dict[str, Term] = {}
    for name, value in (table or {}).items():
        term = _read_term(r, name, value, engines)
        if term is None:
            continue
        clash = folded.get(term.term.casefold())
        if clash is not None and clash.term != term.term and not (clash.match_case and term.match_case):
            doc.add(("terms", name), f"duplicate term: same as {clash.term!r} (line {clash.line}) when "
                    "case is ignored", at_key=True)
            continue
        folded.setdefault(term.term.casefold(), term)
        terms.append(term)
    return Lexicon(tuple(terms))


def _engine_names() -> tuple[str, ...]:
    from podcast.engines import registry

    return tuple(registry.names()) or ("edge", "espeak")


def _read_term(r: Reader, name: str, value: Any, engines: tuple[str, ...]) -> Term | None:
    doc = r.doc
    path: PathKey = ("terms", name)
    line = doc.key_where(path)[0]
    known_problems = len(doc.problems)
    term = name.strip()
    if not term:
        doc.add(path, "empty term: write the word as it appears in the text", at_key=True)
        return None
    if not isinstance(value, dict):
        said = _spoken(r, path, term)
        return Term(term, ((None, None, said),), line=line) if said is not None else None
    forms: list[Form] = []
    for key, sub in value.items():
        where = (*path, key)
        if key == SAY or key in LANGUAGES:
            said = _spoken(r, where, term)
            if said is not None:
                forms.append((None, None if key == SAY else key, said))
        elif key in engines:
            forms += _engine_forms(r, where, term, key, sub)
        elif key not in FLAGS:
            _unknown_key(r, where, key, [SAY, *LANGUAGES, *engines, *FLAGS], engines)
    if not forms:
        if len(doc.problems) == known_problems:
            doc.add(path, f"no spoken form for {term!r}: add say, a language ({', '.join(LANGUAGES[:2])}, "
                    f"...) or an engine ({', '.join(engines)})")
        return None
    match_case = r.boolean((*path, "match_case"))
    whole_word = r.boolean((*path, "whole_word"))
    return Term(term, tuple(forms), match_case=match_case is not False, whole_word=whole_word is not False,
                line=line)


def _engine_forms(r: Reader, path: PathKey, term: str, engine: str, value: Any) -> list[Form]:
    if not isinstance(value, dict):
        said = _spoken(r, path, term)
        return [(engine, None, said)] if said is not None else []
    forms: list[Form] = []
    for key in value:
        if key == SAY or key in LANGUAGES:
            said = _spoken(r, (*path, key), term)
            if said is not None:
                forms.append((engine, None if key == SAY else key, said))
        else:
            _unknown_key(r, (*path, key), key, [SAY, *LANGUAGES], ())
    if not value:
        r.doc.add(path, f"empty mapping: give the {engine} form as text or per language")
    return forms


def _spoken(r: Reader, path: PathKey, term: str) -> str | None:
    value = r.raw(path)
    if value is None:
        r.doc.add(path, f"empty spoken form: write how to say {term!r}")
        return None
    if isinstance(value, bool | list | dict):
        kind = {bool: "true/false", list: "a list", dict: "a mapping"}[type(value)]
        r.doc.add(path, f"must be the spoken form as text, not {kind}")
        return None
    said = str(value).strip()
    if not said:
        r.doc.add(path, f"empty spoken form: write how to say {term!r}")
        return None
    return " ".join(said.split())


def _unknown_key(r: Reader, path: PathKey, key: str, known: list[str], engines: tuple[str, ...]) -> None:
    hint = did_you_mean(key, known)
    if _LANGUAGE_LIKE.match(key) and language_key(key) in LANGUAGES and language_key(key) != key:
        message = f"unknown language {key!r}: use the language without its region, {language_key(key)!r}"
    elif _LANGUAGE_LIKE.match(key) and "-" not in key and len(key) <= 3:
        message = f"unknown language {key!r}{hint}; languages: {', '.join(LANGUAGES)}"
    else:
        choices = f"say, a language ({', '.join(LANGUAGES[:2])}, ...)"
        choices += f", an engine ({', '.join(engines)}), match_case or whole_word" if engines else ""
        message = f"unknown field{hint}; use {choices}"
    r.doc.add(path, message, at_key=True)
