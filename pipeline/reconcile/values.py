"""What is compared of a requirement, field by field: one comparable value per field
(``field_value``: None where a capture cannot tell) and how a person reads it (``display``).
The one rule of what differs, shared by reconciliation and ``pipeline diff``."""

from __future__ import annotations

import re
import sys

from pipeline.normalize import fold


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


#: the memos of ``_per_content``, emptied when a reconciliation ends (``reconcile_rows``)
MEMOS: list[dict] = []


def per_content(fn):
    """``fn(row, field)`` reads only what a category requires, which ``Row``s with one content
    share (one content for thousands of captures): computed once per content hash and field,
    for the length of one reconciliation."""
    memo: dict = {}
    MEMOS.append(memo)

    def wrapper(row, field):
        h = getattr(row, "content_hash", None)
        if h is None:
            return fn(row, field)
        key = (field, h)
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
        return f"{row['of']}选{row['pick']}" if row["of"] else f"choose {row['pick']} (no count declared)"
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
