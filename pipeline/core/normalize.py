"""Text clean-up, folding and stable identifiers. Pure functions, no I/O."""
from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata

from pipeline.core.errors import PipelineWarning, warning


#: the format characters (Unicode category Cf: zero-width spaces and joiners, soft hyphen, BOM,
#: bidi marks, embeddings and isolates such as U+061C, U+200E, U+2066, tags), which ``fold``
#: drops: invisible, they would make a second name that looks identical to the first
#: (Unicode 14 ranges, as ``unicodedata`` lists them)
_FORMAT_RANGES = ((0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
                  (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
                  (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
                  (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                  (0xE0001, 0xE0001), (0xE0020, 0xE007F))
#: as one character class: a substitution that finds none in most texts costs less than
#: ``str.translate`` with a mapping, which looks up every character (``clean`` and ``fold`` run
#: hundreds of thousands of times over a large archive)
_FORMAT = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _FORMAT_RANGES) + "]")
#: what ``clean`` removes (invisible characters) or turns into another character that could
#: be CJK (NFC maps the CJK compatibility ideographs to the unified ones: U+F901 -> 更)
_CLEAN_REWRITES = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\uf900-\ufaff\U0002f800-\U0002fa1f]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2460-\u24ff《》“”‘’"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def clean(text: str) -> str:
    """Drop zero-width characters, turn every run of spaces (incl. full-width) into one, strip.

    Width is kept as written: ``（学校）`` stays ``（学校）`` in ``*_raw`` fields.
    """
    return _SPACES.sub(" ", _FORMAT.sub("", unicodedata.normalize("NFC", text))).strip()


def cleaning_rewrites(text: str) -> bool:
    """Could ``clean`` turn ``text`` (or any line of it) into other characters than by folding
    spaces? When not, a word without spaces is in ``clean(line)`` exactly when it is in ``line``,
    and the lines that can hold it are found without cleaning each."""
    return _CLEAN_REWRITES.search(text) is not None


def lines_containing(lines: list[str], word: str, whole: str | None = None) -> list[int]:
    """Indexes of the ``lines`` whose ``clean`` form contains ``word`` (CJK, no spaces).
    ``whole``: the text the lines were split from, if at hand (checked once for rewrites)."""
    if not cleaning_rewrites(whole if whole is not None else "\n".join(lines)):
        return [i for i, line in enumerate(lines) if word in line]
    return [i for i, line in enumerate(lines) if word in clean(line)]


def fold(text: str) -> str:
    """The comparison form of a name: NFKC (full width -> ASCII) and no whitespace at all.

    ``（学校）`` and ``(学校)`` fold alike, so do ``IT 科技`` and ``IT科技``.
    """
    return "".join(_FORMAT.sub("", unicodedata.normalize("NFKC", text)).split())


def squeeze_cjk(text: str) -> str:
    """Remove spaces a line break left between two CJK characters (``…审核要求或 规范文件``)."""
    return _SPACE_BETWEEN_CJK.sub("", text)


def display_width(text: str) -> int:
    """Columns the text takes in a monospace rendering: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def stable_id(prefix: str, *parts: object) -> str:
    """A short id that depends only on ``parts``: the same key gives the same id on every build."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"{prefix}_{h[:16]}"


#: characters a document has no business holding: C0 controls but tab and line ends, DEL, C1
#: controls, and the bidirectional overrides and isolates (U+202E makes 《证书》 read backwards
#: in a terminal or a report). Terminal escape sequences start with one of them (ESC).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str, file: str) -> tuple[str, PipelineWarning | None]:
    """``text`` without ``CONTROL`` characters, and a warning (in ``file`` at the first
    line holding one) when there were any: the one place document text is cleaned of them."""
    first = CONTROL.search(text)
    if first is None:
        return text, None
    found = CONTROL.findall(text)
    kinds = ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))
    line = text.count("\n", 0, first.start()) + 1
    return CONTROL.sub("", text), warning("control_characters", f"removed {len(found)} control character(s) "
                                                                f"({kinds})", file, line)


def visible(text: str) -> str:
    """``text`` for a terminal or a report: any ``CONTROL`` character shown as its escape
    (``\\x1b``, ``\\u202e``) instead of acting. Documents are cleaned when read
    (``strip_controls``); this guards what a person typed (a decision's reason) and old
    datasets."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def real_date(text: str) -> bool:
    """``YYYY-MM-DD`` naming a day that exists (``2026-99-99``, ``2026-02-30``, ``yesterday``,
    ``9999/12/31`` do not). Dates order versions and name them: nothing else passes."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
