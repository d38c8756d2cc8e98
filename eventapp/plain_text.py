"""Which characters text may hold: refused at input, stripped on the way out to files and mail.

Control characters, lone surrogates and Unicode noncharacters (U+FDD0–U+FDEF, U+xFFFE and
U+xFFFF) have no place in a name or a note; XML (XLSX, PDF via HTML), iCal and mail headers
cannot carry most of them. Forms refuse them; exports drop whatever an older row still holds.
"""

from __future__ import annotations

import re

LINE_BREAKS = "\t\n\r"

# Noncharacters: U+FDD0..U+FDEF and the last two code points of each of the 17 planes.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}-{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# What printable looks at: the unfit characters of the Basic Multilingual Plane and every
# character beyond it (whose few noncharacters _unfit_only sorts out). A class of ranges within
# the plane is tested by one table lookup per character; the 16 ranges of noncharacters beyond
# it would be tried one by one for every character of a text.
_OTHER_UNFIT = r"\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\U00010000-\U0010ffff"
_UNFIT_ONE_LINE = re.compile(r"[\x00-\x1f" + _OTHER_UNFIT + "]")
_UNFIT_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f" + _OTHER_UNFIT + "]")


# The control characters (Unicode category Cc), with and without tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Lone surrogates (category Cs) and noncharacters.
_UNSTORABLE = re.compile(r"[\ud800-\udfff" + _NONCHARACTERS + "]")


def control_characters(text: str, multiline: bool = False) -> bool:
    """Tell whether text holds control characters (tab and line breaks pass when multiline)."""
    pattern = _CONTROL_BUT_LINE_BREAKS if multiline else _CONTROL
    return pattern.search(text) is not None


def unfit_characters(text: str) -> bool:
    """Tell whether text holds lone surrogates or noncharacters, which no export can hold."""
    return _UNSTORABLE.search(text) is not None


def printable(text: str, multiline: bool = True) -> str:
    """Return text without the characters files and mail cannot hold (line breaks kept if asked)."""
    pattern = _UNFIT_MULTILINE if multiline else _UNFIT_ONE_LINE
    return pattern.sub(_unfit_only, text)


def _unfit_only(found: re.Match[str]) -> str:
    """Drop a character printable found, unless it is a fit one beyond the Basic Plane."""
    character = found.group()
    return character if character >= "\U00010000" and ord(character) & 0xFFFE != 0xFFFE else ""
