"""What is compared of a requirement, field by field: one comparable value per field
(``field_value``: None where a capture cannot tell) and how a person reads it (``display``).
The one rule of what differs, shared by reconciliation and ``pipeline diff``."""

from __future__ import annotations

import re
import sys
import unicodedata

from rapidfuzz.distance import Levenshtein

from pipeline.core.model import count_text
from pipeline.core.normalize import fold


#: field compared -> conflict kind
FIELD_KIND = {"count": "count_differs", "rule": "rule_differs", "documents": "documents_differ",
              "integration": "integration_differs", "scope": "scope_differs",
              "scenario": "scenario_differs", "conditions": "conditions_differ", "entries": "entries_differ",
              "integration_also": "integration_differs", "notes": "notes_differ"}


#: compared only where what the scenario and the notes say together differs: a sentence that
#: moved from the notes into the scenario cell (社交/直播, 004 and 002) is no change of either
SAID_TOGETHER = ("scenario", "notes")


#: a change of entries that a count, rule or documents change already reports is not told twice
#: (one fact, one conflict): ``entries`` reports what those miss, an entry without a 《》 title
#: dropped (培训机构's 营业执照) or an alternative reworded around the same title
ENTRIES_TOLD_BY = ("count", "rule", "documents")


#: the kind of a difference that is only slight (``slight_texts``): a glyph lost or doubled
SLIGHT_KIND = "text_differs_slightly"

#: fields whose values are free text, where a difference can be slight (``slight_texts``)
SLIGHT_FIELDS = ("entries", "conditions", "notes", "scope", "scenario")

#: A slight difference, measured by Levenshtein edits between the compared texts (``_shape``),
#: paired in order: at most ``SLIGHT_MAX_EDITS`` characters changed between two captures, all
#: texts of the field together; each changed text keeps ``SLIGHT_MIN_SIMILARITY`` of itself
#: (normalized similarity); every change is one character standing alone, lost or gained (a
#: glyph PDF text dropped or doubled), or punctuation for punctuation (“ for ”). The real case:
#: 004's PDF text (raw/004:266-267) lost the 结 of 「公司股权结构」 in 电商平台's 「股东追溯及其相关证明
#: 材料（如公司章程、公司股权结构及股东的有关情况）」: 1 character of 35; 1078/43316 2020-04-09 closes
#: 「“在线数据处理与交易处理业务“」 with an opening quote. Never slight: another 《》 title, a
#: condition or an entry dropped or added, a count or a rule (all shape, compared exactly), a
#: numeral or a ``MEANINGFUL`` character changed, a word gained or lost (two characters or more
#: in a row: 002's 企业征信 scope 「提供企业征信业务服务」 for 001's 「提供征信业务服务」), one word for
#: another (省 for 市).
SLIGHT_MAX_EDITS = 2
SLIGHT_MIN_SIMILARITY = 0.9

#: characters whose loss or gain changes what a text requires, so never slight: besides any
#: numeral (``str.isnumeric``: 3, 三, ③, a count or a period), negations, the words that make a
#: choice or a bundle, and title marks (``两`` is a count Unicode does not call numeric)
MEANINGFUL = frozenset("两不非无未否禁勿免或和及与且并《》")


def per_content(fn):
    """``fn(row, field)`` reads only what a category requires, which ``Row``s with one content
    share (one content for thousands of captures): computed once per content and field, and
    kept in what the content's rows share (``Row.derived``), gone with them. A plain dict row
    (tests, small tools) is computed each time."""
    name = fn.__name__

    def wrapper(row, field):
        memo = getattr(row, "derived", None)
        if memo is None or isinstance(row, dict):
            return fn(row, field)
        key = (name, field)
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = fn(row, field)
            return value

    wrapper.__doc__ = fn.__doc__
    return wrapper


def _text(v: str | None) -> str | None:
    return fold(v).rstrip("。.；;") if v else None


@per_content
def field_value(row: dict, field: str):
    """The comparable value of a field, or None when this capture cannot tell (items lost)."""
    lost = row["items_missing"] or row["rule"] == "unknown"
    if field == "count":
        # only declared counts are compared: "no count" next to "2选1" is not a disagreement
        return (row["pick"], row["of"]) if row["rule"] == "any" and row["of"] is not None else None
    if field == "rule":
        return None if row["rule"] == "unknown" else row["rule"]
    if field == "documents":
        return None if lost else tuple(sorted(set(row["documents"])))
    if field == "integration":
        return row["integration"].replace("·", "") if row["integration"] else None
    if field == "scope":
        return _text(row[field])
    if field == "said":
        return frozenset(_sentences(row["scenario"])) | frozenset(s for n in row["notes"] or () for s in _sentences(n))
    if field == "scenario":  # its sentences the notes do not also say
        notes = {s for n in row["notes"] or () for s in _sentences(n)}
        return tuple(sorted(set(_sentences(row["scenario"])) - notes)) or None
    if field == "notes":
        scenario = set(_sentences(row["scenario"]))
        return tuple(sorted({s for n in row["notes"] or () for s in _sentences(n)} - scenario))
    if field == "integration_also":  # a second access method (若同时具备【社交-直播】…)
        return tuple(sorted((fold(a.get("category") or ""), (a.get("method") or "").replace("·", ""))
                            for a in row["integration_also"] or ()))
    if field == "conditions":
        # the restrictions on the whole requirement (仅支持公立医疗机构互联网医院)
        return None if row["rule"] == "unknown" else tuple(sorted({_text(c) for c in row["conditions"] or ()}))
    if field == "entries":
        return None if lost else tuple(sorted(_entry_key(i) for i in row["items"] or ()))
    raise KeyError(field)


_QUOTES = str.maketrans("", "", "【】“”「」‘’\"'《》")


def _sentences(text: str | None) -> list[str]:
    """A text's sentences as compared: split at 。；;！!？? and line breaks, width folded, quote
    marks and brackets aside (需补充“时政信息类目” / 需补充【时政信息】类目 say the same)."""
    if not text:
        return []
    out = []
    for part in re.split(r"[。；;！!？?\n]+", text):
        s = fold(part).translate(_QUOTES).strip(",，、:：.")
        if s:
            out.append(s)
    return out


def _entry_shown(item: dict) -> str:
    """An entry's text on one line, with the conditions read for it that its own text does not
    show (a cell's 经营范围需含客运 read into the entry it restricts)."""
    text = " ".join(str(item.get("text") or "").split())
    unseen = [c for c in item.get("conditions") or () if c not in text]
    return text + (f" [condition: {'；'.join(unseen)}]" if unseen else "")


def _entry_key(item: dict) -> tuple:
    """What an entry requires, as compared: a nested choice or bundle by its rule and its
    entries; an entry naming 《》 titles by those titles and its conditions (its wording around
    them aside); an entry without titles (营业执照) by its text. Order is not compared."""
    conditions = tuple(sorted({_text(c) for c in item.get("conditions") or ()}))
    group = item.get("group")
    if group:
        return ("group", group.get("rule") or "", group.get("pick") or 0, group.get("of") or 0, conditions,
                tuple(sorted(_entry_key(i) for i in group.get("items") or ())))
    if item.get("documents"):
        return ("documents", tuple(sorted(set(item["documents"]))), conditions)
    return ("text", _text(item.get("text")) or "", conditions)


@per_content
def display(row: dict, field: str) -> str:
    """The value as a person reads it (interned: it recurs in thousands of captures)."""
    return sys.intern(_display(row, field))


def _display(row: dict, field: str) -> str:
    if field == "count":
        return count_text(row["pick"], row["of"]) if row["of"] else f"choose {row['pick']} (no count declared)"
    if field == "documents":
        return "、".join(f"《{d}》" for d in row["documents"]) or "(none)"
    if field == "conditions":
        return "；".join(row["conditions"] or ()) or "(none)"
    if field == "notes":
        return " | ".join(row["notes"] or ()) or "(none)"
    if field == "integration_also":
        return "、".join(f"{a.get('category')}: {a.get('method')}" for a in row["integration_also"] or ()) or "(none)"
    if field == "entries":
        return " | ".join(_entry_shown(i) for i in row["items"] or ()) or "(none)"
    v = row.get(field)
    return str(v) if v is not None else "(none)"


def _shape(field: str, value) -> tuple[object, tuple[str, ...]]:
    """A compared value as (its shape, its free texts in order): the shape keeps everything but
    the free texts, so two values of one shape differ in their free texts only. Of entries
    (``_entry_key``) the free texts are an untitled entry's text and each condition's text;
    their 《》 titles, rules, counts and how many entries and conditions there are are shape."""
    texts: list[str] = []

    def free(v: tuple) -> tuple:  # every string of it is free text
        texts.extend(v)
        return (None,) * len(v)

    def walk(v):
        if isinstance(v, str):  # notes, scenario, scope, the whole requirement's conditions
            texts.append(v)
            return None
        if field == "entries" and isinstance(v, tuple) and v and v[0] in ("text", "documents", "group"):
            if v[0] == "text":
                return ("text", walk(v[1]), free(v[2]))
            if v[0] == "documents":
                return ("documents", v[1], free(v[2]))
            return v[:4] + (free(v[4]), tuple(walk(x) for x in v[5]))
        if isinstance(v, tuple):
            return tuple(walk(x) for x in v)
        return v

    return walk(value), tuple(texts)


def _slight_edits(a: str, b: str) -> int | None:
    """How many characters make ``a`` into ``b`` when that is slight, else None: characters
    lost or gained (a glyph PDF text dropped or doubled) that are not ``MEANINGFUL`` or
    numerals, or one punctuation mark for another; never another word (年 for 月)."""
    if Levenshtein.normalized_similarity(a, b) < SLIGHT_MIN_SIMILARITY:
        return None
    ops = Levenshtein.editops(a, b)
    changed = []
    for n, (tag, i, j) in enumerate(ops):
        chars = {"delete": a[i:i + 1], "insert": b[j:j + 1], "replace": a[i:i + 1] + b[j:j + 1]}[tag]
        if any(c in MEANINGFUL or c.isnumeric() for c in chars):
            return None
        punctuation = all(unicodedata.category(c).startswith("P") for c in chars)
        if tag == "replace" and not punctuation:
            return None
        # next to the previous change: together they are a word gained, lost or replaced
        if n and abs(i - ops[n - 1][1]) <= 1 and abs(j - ops[n - 1][2]) <= 1 and not (punctuation and changed[-1]):
            return None
        changed.append(punctuation)
    return len(ops)


def slight_texts(field: str, values) -> frozenset[str] | None:
    """Where the known values of a field (two or more) differ only slightly, the free texts
    that differ (each value's, to show them side by side); else None. Slight: one shape
    (``_shape``: the same 《》 titles, conditions, rules, counts and number of texts), and
    between any two values at most ``SLIGHT_MAX_EDITS`` characters changed (``_slight_edits``).
    Texts are paired in their compared order: a change that reorders them is not slight."""
    if field not in SLIGHT_FIELDS or len(values) < 2:
        return None
    shapes = [_shape(field, v) for v in sorted(values, key=repr)]
    if len({shape for shape, _ in shapes}) != 1:
        return None
    differing: set[str] = set()
    for x, (_, a) in enumerate(shapes):
        for _, b in shapes[x + 1:]:
            total = 0
            for s, t in zip(a, b):
                if s != t:
                    n = _slight_edits(s, t)
                    if n is None:
                        return None
                    total += n
                    differing |= {s, t}
            if total > SLIGHT_MAX_EDITS:
                return None
    return frozenset(differing) or None


def differs_as(field: str, values) -> str:
    """The kind of conflict the known values of a field (two or more) make: ``SLIGHT_KIND``
    where they differ only slightly, else the field's own kind (``FIELD_KIND``)."""
    return SLIGHT_KIND if slight_texts(field, values) else FIELD_KIND[field]


def _texts_said(row: dict, field: str) -> list[tuple[str, set[str]]]:
    """The free texts of a row as written, each with its compared forms (``_shape``'s)."""
    if field == "entries":
        out = []

        def walk(items):
            for i in items or ():
                forms = {_text(c) for c in i.get("conditions") or ()}
                if i.get("group"):
                    out.append((_entry_shown(i), forms | {_text(c) for c in i["group"].get("conditions") or ()}))
                    walk(i["group"].get("items"))
                else:
                    out.append((_entry_shown(i), forms | ({_text(i.get("text")) or ""} if not i.get("documents") else set())))
        walk(row["items"])
        return out
    if field == "conditions":
        return [(c, {_text(c)}) for c in row["conditions"] or ()]
    if field == "notes":
        return [(n, set(_sentences(n))) for n in row["notes"] or ()]
    if field == "scenario":
        return [(row["scenario"], set(_sentences(row["scenario"])))] if row["scenario"] else []
    return [(row[field], {_text(row[field])})] if row[field] else []


def slight_display(row: dict, field: str, differing: frozenset[str]) -> str:
    """What a row says where a slight difference lies (``slight_texts``): its texts, as written,
    that differ from another capture's, so both texts are shown side by side."""
    shown = [text for text, forms in _texts_said(row, field) if forms & differing]
    return " | ".join(dict.fromkeys(shown)) or "(none)"
