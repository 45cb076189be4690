"""Compound names as planners write them, reduced to one comparable form.

The same compound appears as 农大小区-北区, 农大小区北区 and 农大北区, or 清华东路27号院 and
清华东路二十七号院, in full- or half-width characters, with or without brackets. The rules
(applied in order, the same to both sides of a comparison):

1. Unicode NFKC (full-width letters, digits and brackets to half-width), lower case;
2. Chinese numerals to digits (二十七 → 27, 一〇五 → 105, 两 → 2);
3. punctuation, brackets, spaces and middle dots dropped;
4. generic words dropped (小区, 社区, 住宅区, 生活区, 家属院, 家属区, 宿舍, 公寓 …); 号院 → 号;
   a direction followed by 院 or 片 becomes 区 (北院 → 北区); a trailing 院 dropped.

Whatever differs after that (南区 and 北区, 甲2号 and 2号) is a real difference.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["chinese_numerals_to_digits", "normalize_name"]

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = re.compile("[〇零一二两三四五六七八九十百千]+")
_PUNCT = re.compile(r"[\s·・•\-—–_()（）\[\]【】「」『』《》<>\"'“”‘’.,，。、/\\#:：;；~～]+")
_GENERIC = (
    "住宅小区",
    "小区",
    "社区",
    "住宅区",
    "生活区",
    "家属院",
    "家属区",
    "家属楼",
    "宿舍区",
    "宿舍楼",
    "宿舍",
    "公寓",
)


def _numeral(text: str) -> str:
    if all(c in _DIGITS for c in text):  # 一〇五: digit by digit
        return "".join(str(_DIGITS[c]) for c in text)
    total, current = 0, 0
    for c in text:
        if c in _DIGITS:
            current = _DIGITS[c]
        else:
            total += (current or 1) * _UNITS[c]
            current = 0
    return str(total + current)


def chinese_numerals_to_digits(text: str) -> str:
    """Replace runs of Chinese numerals with Arabic digits.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        ``"清华东路二十七号院"`` → ``"清华东路27号院"``; ``"一〇五"`` → ``"105"``.
    """
    return _NUMERAL.sub(lambda m: _numeral(m.group(0)), text)


def normalize_name(name: object) -> str:
    """The comparable form of a compound's name (the rules of the module text).

    Parameters
    ----------
    name
        A name as written (None or NaN give ``""``).

    Returns
    -------
    str
        E.g. ``"农大小区-北区"`` and ``"农大北区"`` both give ``"农大北区"``.
    """
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKC", name).lower()
    text = chinese_numerals_to_digits(text)
    text = _PUNCT.sub("", text)
    text = text.replace("号院", "号")
    for word in _GENERIC:
        text = text.replace(word, "")
    text = re.sub(r"([东南西北中])[院片]", r"\1区", text)
    return text.removesuffix("院")
