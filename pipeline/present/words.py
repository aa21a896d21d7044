"""One home for how the pipeline words what it found, for every place that shows it: ``show``,
the review report, the listings and the export. A status, a rule, where a list comes from, a
conflict's kind and relation are worded here and nowhere else."""
from __future__ import annotations

from pipeline.core.model import count_text

#: status -> how it reads, for every place that shows it (show, report, export)
STATUS_TEXT = {
    "current": "current",
    "list_from_older_capture": "current rule; its entries come from an older capture (the newest lost them)",
    "list_lost": "current rule; today's list of entries is unknown (lost, and no complete list fits the rule)",
    "open_conflict": "open conflict: versions or pages disagree",
    "decided": "decided by a reviewer",
    "eligibility_only": "listed as eligible only: no page states the documents it needs",
}

RELATION_TEXT = {"version": "change over time (one page)", "page": "different pages disagree",
                 "capability": "differs between capabilities (informative)",
                 "record": "problem within one capture"}
#: every conflict kind (``tables.py``, conflicts.kind) in words a reviewer reads
KIND_TEXT = {
    "count_differs": "number of alternatives differs",
    "rule_differs": "rule differs (one of / all of)",
    "documents_differ": "documents differ",
    "integration_differs": "access method differs",
    "scope_differs": "scope text differs",
    "scenario_differs": "scenario text differs",
    "category_added": "category added",
    "category_removed": "category removed",
    "category_renamed": "category renamed",
    "rename_candidate": "possible rename (names differ by a letter or two)",
    "category_moved": "category moved (renamed, or into its sub-categories)",
    "count_mismatch": "stated count does not match the documents listed",
    "items_lost": "documents lost in a capture",
    "capability_difference": "differs between capabilities",
    "conditions_differ": "restrictions differ",
    "entries_differ": "what the entries require differs",
    "notes_differ": "notes differ",
    "absent_from_revision": "absent from one revision only (a capture caught mid-edit?)",
    "text_differs_slightly": "slight text difference (a character or two, e.g. a glyph lost in PDF text)",
}


def kind_text(kind: str) -> str:
    """A conflict kind in words (a kind this module does not know yet: its code, readable)."""
    return KIND_TEXT.get(kind, kind.replace("_", " "))


def rule_words(s: dict, listed: bool = True) -> str:
    """A statement's rule as a person reads it, the one wording of show, the report and the
    export: ``1 of 5 (5选1)`` (with ``, 3 listed`` where fewer are listed than declared),
    ``1 of the 3 listed`` (a choice without a declared count), ``all of``, ``nothing
    required``, ``unknown (…)``. The declaration as written is the statement's ``declared``.
    ``listed=False``: without the count listed (said beside it, with where the list is from)."""
    if s.get("kind") == "eligibility":
        method = s.get("integration")
        return f"listed as eligible{' for ' + method if method else ''}; this page states no documents"
    rule = s.get("rule")
    if rule == "none":
        return "nothing required"
    if rule == "all":
        return "all of"
    if rule != "any":
        return "unknown (the requirement text was lost)"
    pick, of, options = s.get("pick") or 1, s.get("of"), s.get("options")
    if of:
        told = f", {options} listed" if listed and options is not None and options != of else ""
        return f"{pick} of {of} ({count_text(pick, of)}){told}"
    return f"{pick} of the {options} listed" if options else f"{pick} of the alternatives listed"


def item_words(item: dict) -> str:
    """An entry as written, with its choice's rule where it holds one (``[1 of 3]``)."""
    text = item["text"]
    g = item.get("group")
    if g and g["rule"] == "any" and g["items"]:
        text += f" [{g.get('pick') or 1} of {g.get('of') or len(g['items'])}]"
    return text


def list_words(s: dict) -> str:
    """Where a statement's entries come from, in words: nothing when the capture that declares
    the rule lists them."""
    rs, its = s["rule_source"], s["items_source"]
    if s.get("kind") == "eligibility":
        return ""
    last = s.get("last_list")
    if last is not None:
        ls = last["source"]
        return (f"{rs['source_file']} lost its list; the last complete list, {ls['source_file']}:{ls['line']} "
                f"({ls['date'] or 'date unknown'}), says {rule_words(last)}: another shape, so today's list is unknown")
    if its is None:
        return "no capture of this page lists the entries"
    if its == rs:
        return ""
    told = f"{s['options']} of the {s['of']} alternatives" if s["of"] and s["options"] != s["of"] else "the entries"
    return (f"{rs['source_file']} lost its list; {told} come from {its['source_file']}:{its['line']} "
            f"({its['date'] or 'date unknown'}), the newest capture listing them")


def as_of_words(a) -> str:
    """The one line said with every answer as of a day (``reconcile.asof.AsOf``): what it was
    made from, and the captures left out, undated ones said as such."""
    said = f"as of {a.day}: answered from the {a.used} captures dated on or before it ({a.later} dated later left out"
    if a.undated:
        said += (f"; {a.undated} undated capture{'s' if a.undated != 1 else ''} left out: their dates are "
                 f"unknown, so they may be before or after it")
    return said + ")"
