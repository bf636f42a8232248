"""Numbers as words, in Mandarin (through ``cn2an``) and English (through ``num2words``).

Pure conversions from the digits of one number to how it is said; which reading a number in a
sentence gets (a year, a count, a version) is decided by :mod:`podcast.speech.numbers` and
:mod:`podcast.speech.normalize`. The libraries are imported on first use and work offline.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

ZH_DIGITS = "零一二三四五六七八九"
EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ZH_MAX_DIGITS = 16  # cn2an reads up to 16 digits; longer numbers are read digit by digit


@cache
def _library(name: str) -> Any:
    return importlib.import_module(name)


def zh_digits(digits: str, zero: str = "零") -> str:
    """Digit by digit: ``2024`` → 二〇二四 with ``zero="〇"`` (years), ``007`` → 零零七."""
    return "".join(zero if d == "0" else ZH_DIGITS[int(d)] for d in digits if d.isdigit())


def zh_int(digits: str, *, count: bool = False) -> str:
    """A whole number in Mandarin: ``340`` → 三百四十, ``20000`` → 两万, ``12000`` → 一万两千.

    With *count* (the number counts something: ``2个``) a lone 2 is 两.
    """
    digits = digits.replace(",", "")
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > _ZH_MAX_DIGITS:
        return zh_digits(digits)
    if count and int(digits) == 2:
        return "两"
    words = str(_library("cn2an").an2cn(digits, "low"))
    # 2 leading a thousand, ten-thousand or hundred-million group is said 两.
    return re.sub(r"^二(?=[万亿])|二(?=千)", "两", words)


def zh_number(text: str, *, count: bool = False) -> str:
    """A number in Mandarin, decimals included: ``3.5`` → 三点五, ``1,000`` → 一千."""
    whole, _, fraction = text.replace(",", "").partition(".")
    if not fraction:
        return zh_int(whole or "0", count=count)
    return f"{zh_int(whole or '0')}点{zh_digits(fraction)}"


def en_int(digits: str) -> str:
    """A whole number in English: ``1500000`` → one million five hundred thousand."""
    digits = digits.replace(",", "")
    if len(digits) > 1 and digits.startswith("0"):
        return " ".join(EN_DIGITS[int(d)] for d in digits)
    return str(_library("num2words").num2words(int(digits))).replace(",", "")


def en_number(text: str) -> str:
    """A number in English, decimals digit by digit: ``3.05`` → three point zero five."""
    whole, _, fraction = text.replace(",", "").partition(".")
    if not fraction:
        return en_int(whole or "0")
    return f"{en_int(whole or '0')} point " + " ".join(EN_DIGITS[int(d)] for d in fraction)


def en_version(text: str) -> str:
    """A version number: ``3.5`` → three point five, ``2.0`` → two point oh, ``1.10`` → one point ten."""
    parts = text.split(".")
    said = [en_int(parts[0])]
    for part in parts[1:]:
        if part == "0":
            said.append("oh")
        elif part.startswith("0"):
            said.append("oh " + en_int(part.lstrip("0") or "0"))
        else:
            said.append(en_int(part))
    return " point ".join(said)


def en_ordinal(n: int) -> str:
    """``21`` → twenty-first."""
    return str(_library("num2words").num2words(n, to="ordinal")).replace(",", "")


def en_year(n: int) -> str:
    """``2024`` → twenty twenty-four, ``1905`` → nineteen oh-five, ``2008`` → two thousand and eight."""
    return str(_library("num2words").num2words(n, to="year")).replace(",", "")


def en_fraction(numerator: int, denominator: int) -> str:
    """``1/3`` → one third, ``3/4`` → three quarters, ``5/2`` → five halves."""
    if denominator == 2:
        name = "half" if numerator == 1 else "halves"
    elif denominator == 4:
        name = "quarter" if numerator == 1 else "quarters"
    else:
        name = en_ordinal(denominator) + ("" if numerator == 1 else "s")
    return f"{en_int(str(numerator))} {name}"
