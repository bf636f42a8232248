"""Numbers in a sentence as a host would say them: dates, percentages, ranges, money, units.

Three passes, :func:`mandarin`, :func:`traditional` and :func:`english`, each a pure function
from text to text that leaves no ASCII digit behind; the language table
(:mod:`podcast.speech.languages`) names the one each language uses. Numbers that belong to
names (``GPT-4``, ``Llama 2``) are read before these passes by :mod:`podcast.speech.normalize`;
what is left here is quantities.

The Chinese rules read text in either script (``3个`` and ``3個`` are both counts) and say the
numbers in Simplified (:func:`mandarin`) or Traditional characters (:func:`traditional`, for
Taiwan, Hong Kong and Cantonese): the same words, written as the rest of the sentence is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from podcast.speech.numerals import (
    en_fraction,
    en_int,
    en_number,
    en_ordinal,
    en_year,
    zh_digits,
    zh_int,
    zh_number,
)

N = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
"""A number as written: ``7``, ``3.5``, ``1,000,000``."""
_START = r"(?<![\d.,])"
_END = r"(?![\d])"
_NO_NUMBER_BEFORE = r"(?<![\d%％])(?<![\d%％]\s)"  # "~5" is "about 5", but "3~5" is a range
_YEAR = r"(1[1-9]\d\d|20\d\d)"
Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

# ---------------------------------------------------------------------------------------------
# Chinese

_TRADITIONAL = str.maketrans("万亿两点个种项条钟时张块组层类场轮辆岁节门对双后间来号兹帧摄约欧镑贝过于",
                             "萬億兩點個種項條鐘時張塊組層類場輪輛歲節門對雙後間來號茲幀攝約歐鎊貝過於")
"""Simplified → Traditional for the characters the Chinese rules match or write."""


def _either_script(words: str) -> str:
    """A regex alternation of *words* (``a|b``) with each word's Traditional form added."""
    out: list[str] = []
    for word in words.split("|"):
        out += [word] if word.translate(_TRADITIONAL) == word else [word, word.translate(_TRADITIONAL)]
    return "|".join(out)


ZH_MEASURES = _either_script(
    "个|倍|种|项|位|名|款|条|次|天|年|小时|分钟|秒|周|张|台|块|家|篇|份|组|套|只|句|段|层|类|场|轮|"
    "代|部|本|所|座|辆|首|遍|支|把|件|点|米|公里|岁|元|美元|人|千|万|亿|期|章|节|步|行|道|门|对|双"
)
"""Measure words and units, in both scripts: a number before one counts something."""
ZH_QUANTITY = re.compile(rf"\s*(?:{ZH_MEASURES}|[%％‰倍年月日号號°℃])")
"""What after a number in Chinese makes it a quantity, not part of a name (``Minecraft 100个``)."""
_ZH_COUNTED = re.compile(rf"\s*(?:{ZH_MEASURES})")
_ZH_UNITS = {"ms": "毫秒", "km": "公里", "kg": "公斤", "cm": "厘米", "mm": "毫米", "Hz": "赫兹",
             "kHz": "千赫兹", "MHz": "兆赫兹", "kW": "千瓦", "kWh": "千瓦时", "dB": "分贝",
             "°C": "摄氏度", "℃": "摄氏度", "fps": "帧每秒"}
_ZH_CURRENCY = {"$": "美元", "¥": "元", "￥": "元", "€": "欧元", "£": "英镑"}
_ZH_COMPARE = {"<": "不到", "＜": "不到", ">": "超过", "＞": "超过", "≤": "不超过", "≥": "不少于",
               "~": "约", "～": "约", "≈": "约"}
_MAGNITUDES = {"k": 10**3, "K": 10**3, "thousand": 10**3, "m": 10**6, "M": 10**6, "million": 10**6,
               "b": 10**9, "B": 10**9, "bn": 10**9, "billion": 10**9, "T": 10**12, "trillion": 10**12,
               "千": 10**3, "万": 10**4, "百万": 10**6, "亿": 10**8, "萬": 10**4, "百萬": 10**6,
               "億": 10**8}
_RANGE = r"\s*(?:[-–—~～]|到|至)\s*"


def _counted(m: re.Match[str]) -> bool:
    return bool(_ZH_COUNTED.match(m.string, m.end()))


def _zh_year(digits: str) -> str:
    return zh_digits(digits, zero="〇")


def _zh_date(m: re.Match[str]) -> str:
    year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{_zh_year(year)}年{zh_int(str(month))}月{zh_int(str(day))}日"


def _zh_percent(m: re.Match[str]) -> str:
    prefix = _ZH_COMPARE.get(m.group(1) or "", "")
    words = f"{prefix}百分之{zh_number(m.group(2))}"
    return words + (f"到百分之{zh_number(m.group(3))}" if m.group(3) else "")


def _zh_time(m: re.Match[str]) -> str:
    minutes = m.group(2)
    if minutes == "00":
        return f"{zh_int(m.group(1), count=True)}点"
    said = zh_int(minutes.lstrip("0")) if not minutes.startswith("0") else "零" + zh_int(minutes[1])
    return f"{zh_int(m.group(1), count=True)}点{said}分"


def _zh_money(m: re.Match[str]) -> str:
    amount = Decimal(m.group(2).replace(",", "")) * _MAGNITUDES.get(m.group(3) or "", 1)
    words = zh_int(str(int(amount))) if amount == amount.to_integral_value() else zh_number(str(amount))
    return words + _ZH_CURRENCY[m.group(1)]


def _zh_range(m: re.Match[str]) -> str:
    counted = _counted(m)
    return f"{zh_number(m.group(1), count=counted)}到{zh_number(m.group(2), count=counted)}"


_NOT_A_YEAR = _either_script("前|后|以来|来|间|之久|时间")
"""After ``2024年`` these make 2024 a number of years, not a year."""

_ZH_RULES: list[Rule] = [
    (re.compile(rf"{_START}(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_END}"), _zh_date),
    (re.compile(rf"{_START}{_YEAR}(?:\s*[-–—~～]\s*|{_RANGE}(?=\d{{4}}\s*年)){_YEAR}{_END}"),
     lambda m: f"{_zh_year(m.group(1))}到{_zh_year(m.group(2))}"),
    (re.compile(rf"{_START}{_YEAR}(?=\s*年(?!{_NOT_A_YEAR}))"),
     lambda m: _zh_year(m.group(1))),
    (re.compile(rf"{_START}(1[0-2]|0?[1-9])(?=\s*月)"), lambda m: zh_int(m.group(1).lstrip("0"))),
    (re.compile(rf"{_START}(3[01]|[12]\d|0?[1-9])(?=\s*[日号號])"), lambda m: zh_int(m.group(1).lstrip("0"))),
    (re.compile(rf"(?:([<>≤≥＜＞~～≈])\s*)?({N})\s*[%％]?{_RANGE}({N})\s*[%％]"), _zh_percent),
    (re.compile(rf"(?:([<>≤≥＜＞~～≈])\s*)?({N})\s*[%％]()"), _zh_percent),
    (re.compile(rf"({N})\s*‰"), lambda m: f"千分之{zh_number(m.group(1))}"),
    (re.compile(rf"第\s*({N})"), lambda m: f"第{zh_number(m.group(1))}"),
    (re.compile(r"(?<![\d.:])([01]?\d|2[0-3])[:：]([0-5]\d)(?![\d:])"), _zh_time),
    (re.compile(rf"(?<![\d.:])({N})\s*[:：]\s*({N})(?![\d:])"),
     lambda m: f"{zh_number(m.group(1))}比{zh_number(m.group(2))}"),
    (re.compile(r"(?<![\d./])(\d+)\s*/\s*(\d+)(?![\d/])"),
     lambda m: f"{zh_int(m.group(2))}分之{zh_int(m.group(1))}"),
    (re.compile(rf"([$¥￥€£])\s*({N})(?:\s*(百万|百萬|[KkMmBbT](?![A-Za-z])|万|萬|亿|億|千|million|billion|bn))?"),
     _zh_money),
    (re.compile(rf"({N})\s*[x×]\s*({N})"), lambda m: f"{zh_number(m.group(1))}乘{zh_number(m.group(2))}"),
    (re.compile(rf"({N})\s*[x×](?![A-Za-z0-9])"), lambda m: f"{zh_number(m.group(1), count=True)}倍"),
    (re.compile(rf"{_NO_NUMBER_BEFORE}[<>≤≥＜＞~～≈]\s*(?=\d)"), lambda m: _ZH_COMPARE[m.group(0).strip()]),
    (re.compile(rf"({N})\s*\+\s*({N})"), lambda m: f"{zh_number(m.group(1))}加{zh_number(m.group(2))}"),
    (re.compile(rf"({N})\s*\+(?![\d+])"), lambda m: f"{zh_number(m.group(1))}多"),
    (re.compile(rf"{_START}({N}){_RANGE}({N})"), _zh_range),
    (re.compile(rf"({N})\s*({'|'.join(sorted(_ZH_UNITS, key=len, reverse=True))})(?![A-Za-z])"),
     lambda m: zh_number(m.group(1), count=True) + _ZH_UNITS[m.group(2)]),
    (re.compile(rf"({N})[kK](?![A-Za-z0-9])"), lambda m: f"{zh_number(m.group(1))}K"),  # 128k上下文
    (re.compile(N), lambda m: zh_number(m.group(0), count=_counted(m))),
]


def mandarin(text: str) -> str:
    """Read the numbers of a Chinese sentence in Chinese, in Simplified characters.

    ``2024年2月`` → 二〇二四年二月, ``45%`` → 百分之四十五, ``3-5年`` → 三到五年,
    ``2个`` → 两个, ``340亿`` → 三百四十亿, ``$5M`` → 五百万美元, ``34B`` → 三十四B.
    """
    for pattern, said in _ZH_RULES:
        text = pattern.sub(said, text)
    return text


def traditional(text: str) -> str:
    """Read the numbers of a Chinese sentence in Chinese, in Traditional characters.

    The rules of :func:`mandarin`, with what they write in Traditional characters:
    ``12000人`` → 一萬兩千人, ``3.5万`` → 三點五萬, ``2個`` → 兩個.
    """
    for pattern, said in _HANT_RULES:
        text = pattern.sub(said, text)
    return text


def _in_traditional(said: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
    return lambda m: said(m).translate(_TRADITIONAL)


_HANT_RULES: list[Rule] = [(pattern, _in_traditional(said)) for pattern, said in _ZH_RULES]


# ---------------------------------------------------------------------------------------------
# English

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
_MONTH_RE = "|".join(f"{m[:3]}(?:{m[3:]})?" if len(m) > 3 else m for m in MONTHS)
_EN_CURRENCY = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds"),
                "¥": ("yen", "yen")}
_EN_MAGNITUDE_WORDS = {10**3: "thousand", 10**6: "million", 10**9: "billion", 10**12: "trillion"}
_EN_COMPARE = {"<": "less than", ">": "more than", "≤": "at most", "≥": "at least", "~": "about",
               "≈": "about"}
_EN_UNITS: dict[str, tuple[str, str]] = {
    "ms": ("millisecond", "milliseconds"), "sec": ("second", "seconds"), "min": ("minute", "minutes"),
    "hrs": ("hour", "hours"), "hr": ("hour", "hours"), "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"), "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"), "PB": ("petabyte", "petabytes"), "Gbps": ("gigabit per second",
    "gigabits per second"), "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"), "GHz": ("gigahertz", "gigahertz"), "km": ("kilometer",
    "kilometers"), "cm": ("centimeter", "centimeters"), "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"), "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"),
    "MW": ("megawatt", "megawatts"), "GW": ("gigawatt", "gigawatts"), "kWh": ("kilowatt hour",
    "kilowatt hours"), "TFLOPS": ("teraflop", "teraflops"), "PFLOPS": ("petaflop", "petaflops"),
    "fps": ("frame per second", "frames per second"), "dB": ("decibel", "decibels"),
    "px": ("pixel", "pixels"), "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
}
COUNTED_NOUNS = (
    "parameters|params|tokens|samples|examples|images|videos|hours|words|pairs|documents|users|"
    "rows|lines|steps|instructions|conversations|questions|problems|files|pages|people|languages"
)
"""After a size like ``7B`` these nouns make it a magnitude: seven billion parameters."""
_EN_COUNTED = re.compile(rf"\s*(?:{COUNTED_NOUNS})\b")
EN_UNIT_RE = "|".join(re.escape(u) for u in sorted(_EN_UNITS, key=len, reverse=True))
EN_QUANTITY = re.compile(rf"\s*(?:[%‰°]|(?:{EN_UNIT_RE}|{COUNTED_NOUNS})\b)")
"""What after a number in English makes it a quantity, not part of a name (``Llama 2 GB``)."""
_EN_SIZE_WORDS = {"K": "thousand", "M": "million", "B": "billion", "T": "trillion"}


def _unit(m: re.Match[str]) -> str:
    one, many = _EN_UNITS[m.group(2)]
    return f"{en_number(m.group(1))} {one if m.group(1) == '1' else many}"


def _en_month_day(month: int, day: int) -> str:
    return f"{MONTHS[month - 1]} {en_ordinal(day)}"


def _en_date(m: re.Match[str]) -> str:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{_en_month_day(month, day)}, {en_year(year)}"


def _en_money(m: re.Match[str]) -> str:
    one, many = _EN_CURRENCY[m.group(1)]
    number, scale = m.group(2), m.group(3)
    if scale:
        word = _EN_MAGNITUDE_WORDS[_MAGNITUDES[scale]]
        return f"{en_number(number)} {word} {many}"
    whole, _, cents = number.replace(",", "").partition(".")
    said = f"{en_int(whole)} {one if whole == '1' else many}"
    if len(cents) == 2 and cents != "00":
        said += f" and {en_int(cents.lstrip('0'))} {'cent' if cents == '01' else 'cents'}"
    elif cents and cents.strip("0"):
        said = f"{en_number(number)} {many}"
    return said


def _en_time(m: re.Match[str]) -> str:
    hour, minutes, half = int(m.group(1)), m.group(2), m.group(3)
    if minutes == "00":
        said = en_int(str(hour))
        if not half:
            said += " o'clock" if hour <= 12 else " hundred"
    elif minutes.startswith("0"):
        said = f"{en_int(str(hour))} oh {en_int(minutes[1])}"
    else:
        said = f"{en_int(str(hour))} {en_int(minutes)}"
    return said + (f" {half.upper()}M" if half else "")


def _en_size(m: re.Match[str]) -> str:
    letter, plus = m.group(2).upper(), " plus" if m.group(3) else ""
    if letter in "MT" or _EN_COUNTED.match(m.string, m.end()):
        return f"{en_number(m.group(1))} {_EN_SIZE_WORDS[letter]}{plus}"
    return f"{en_number(m.group(1))} {letter}{plus}"


def _decade(m: re.Match[str]) -> str:
    words = en_year(int(m.group(1)))
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _month(name: str) -> int:
    return next(i for i, month in enumerate(MONTHS, 1) if month.startswith(name[:3]))


YEAR_CUES = ("in|since|by|until|till|from|to|through|between|and|of|during|early|late|mid|before|after|"
             "around|circa|the|year|summer|spring|fall|autumn|winter")
"""Words after which a number from 1100 to 2099 is a year even when a plural follows."""
_YEAR_BEFORE = re.compile(rf"(?:[(\[]|\b(?:{YEAR_CUES}|{_MONTH_RE})|\b(?:{_MONTH_RE}) [a-z-]+,)\s*$",
                          re.IGNORECASE)
_PLURAL_AFTER = re.compile(r"\s+(?:[A-Z]+|[a-z]{3,})s\b")


def _en_year_or_count(m: re.Match[str]) -> str:
    """A year unless a counted noun or unit follows, or a plural follows without a year cue before."""
    text, start, end = m.string, m.start(), m.end()
    if _EN_COUNTED.match(text, end) or re.match(rf"\s*(?:{EN_UNIT_RE})\b", text[end:]):
        return en_int(m.group(1))
    if not _YEAR_BEFORE.search(text[max(0, start - 40):start]) and _PLURAL_AFTER.match(text, end):
        return en_int(m.group(1))
    return en_year(int(m.group(1)))


_EN_RULES: list[Rule] = [
    (re.compile(rf"{_START}(\d{{4}})-(\d{{1,2}})-(\d{{1,2}}){_END}"), _en_date),
    (re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)"),
     lambda m: _en_month_day(_month(m.group(1)), int(m.group(2)))),
    (re.compile(rf"([$€£¥])\s?({N})(?:\s?(thousand|million|billion|trillion|bn|[KkMBT]\b))?"), _en_money),
    (re.compile(rf"{_NO_NUMBER_BEFORE}[<>≤≥~≈]\s*(?=\d)"), lambda m: _EN_COMPARE[m.group(0).strip()] + " "),
    (re.compile(rf"({N})\s?%?\s?[-–~]\s?({N})\s?%"),
     lambda m: f"{en_number(m.group(1))} to {en_number(m.group(2))} percent"),
    (re.compile(rf"({N})\s?%"), lambda m: f"{en_number(m.group(1))} percent"),
    (re.compile(r"\b(\d+)(st|nd|rd|th)\b"), lambda m: en_ordinal(int(m.group(1)))),
    (re.compile(r"\b(1[1-9]\d0|20\d0)s\b"), _decade),
    (re.compile(rf"{_START}{_YEAR}\s?[-–]\s?{_YEAR}{_END}"),
     lambda m: f"{en_year(int(m.group(1)))} to {en_year(int(m.group(2)))}"),
    (re.compile(r"(?<![\d.:])(1[0-9]|2[0-3]|0?[1-9]):([0-5]\d)(?![\d:])(?:\s?([ap])(?:\.m(?=\.)|m\b))?"),
     _en_time),
    (re.compile(rf"(?<![\d.:])({N}):({N})(?![\d:])"),
     lambda m: f"{en_number(m.group(1))} to {en_number(m.group(2))}"),
    (re.compile(r"(?<![\d./])(\d+)/(\d+)(?![\d/])"),
     lambda m: en_fraction(int(m.group(1)), int(m.group(2)))),
    (re.compile(rf"({N})\s?[x×]\s?({N})([KMBT]\b)?"),
     lambda m: " ".join([en_number(m.group(1)), "by", en_number(m.group(2)), m.group(3) or ""]).strip()),
    (re.compile(rf"({N})\s?[x×](?![A-Za-z0-9])"), lambda m: f"{en_number(m.group(1))} times"),
    (re.compile(r"(?:#|\bNo\.\s?)(?=\d)"), lambda m: "number "),
    (re.compile(rf"({N})\s?\+\s?({N})"), lambda m: f"{en_number(m.group(1))} plus {en_number(m.group(2))}"),
    (re.compile(rf"({N})\+(?![\d+])"), lambda m: f"{en_number(m.group(1))} plus"),
    (re.compile(rf"(?<![\w.])({N})([KkMBT])(?![A-Za-z0-9])(\+?)"), _en_size),
    (re.compile(rf"({N})\s?({EN_UNIT_RE})(?![A-Za-z])"), _unit),
    (re.compile(rf"{_START}({N})\s?[-–~]\s?({N})"),
     lambda m: f"{en_number(m.group(1))} to {en_number(m.group(2))}"),
    (re.compile(r"(?<![\w.])-(?=\d)"), lambda m: "minus "),
    (re.compile(rf"{_START}{_YEAR}(?![\d]|[.,]\d)"), _en_year_or_count),
    (re.compile(N), lambda m: en_number(m.group(0))),
]


def english(text: str) -> str:
    """Read the numbers of an English sentence in English.

    ``2024`` → twenty twenty-four, ``3rd`` → third, ``10 GB`` → ten gigabytes,
    ``7B parameters`` → seven billion parameters, ``45%`` → forty-five percent,
    ``$5M`` → five million dollars.
    """
    for pattern, said in _EN_RULES:
        text = pattern.sub(said, text)
    return text
