"""``python -m pipeline show <category>``: what a category needs today, and since when.

Pure functions over loaded records (``find`` resolves a name, ``describe`` builds the answer,
``to_text`` words it); the CLI only loads and prints.
"""
from __future__ import annotations

from pipeline.present.words import STATUS_TEXT, item_words, list_words, rule_words
from pipeline.core.normalize import fold
from pipeline.reconcile.conflicts import covered
# what differs between two statements: the one rule of reconciliation and `diff`
from pipeline.reconcile.values import FIELD_KIND, field_value
from pipeline.core.records import canonical_category
from pipeline.core.tables import UNRESOLVED

#: partial matches shown in detail without --all (``show 金融`` matches 13 categories)
DETAILS_MAX = 3

_SEPARATORS = ("/", "-", "－", ">", "｜", "|")


def _levels(query: str) -> tuple[str, ...]:
    text = query
    for sep in _SEPARATORS:
        text = text.replace(sep, "\x1f")
    return tuple(p.strip() for p in text.split("\x1f") if p.strip())


def find(query: str, categories: list[dict]) -> tuple[list[str], list[str], list[str]]:
    """Category ids matching ``query``: those it names (canonical path, any spelling seen, an
    alias), those with it in their name (``show 基金`` names 公募基金 by an alias, and 私募基金
    has it in its name: both are matches, the second listed as such, never left out), and fuzzy
    suggestions when nothing matches."""
    from rapidfuzz import fuzz, process

    levels = _levels(query)
    canon = canonical_category(levels) if levels else ()
    q = fold("".join(levels))
    exact, partial = [], []
    for c in categories:
        cid = c["category_id"]
        # (a name made only of separators, `>｜`, has no level to compare: its path is compared)
        names = [n for n in [tuple(c["category"])] + [tuple(_levels(n)) for n in c["names"]] if n]
        if canon and (tuple(c["category"]) == canon or tuple(c["category"])[-len(canon):] == canon):
            exact.append(cid)
        elif canon and c.get("covers") == "children" and canon[:len(c["category"])] == tuple(c["category"]) \
                and len(canon) > len(c["category"]):
            # 政务民生 / 所有二级类目 states the requirement of 政务民生 / 户政 too
            exact.append(cid)
        elif any(fold("".join(n)) == q or fold(n[-1]) == q for n in names):
            exact.append(cid)
        elif q and any(q in fold("".join(n)) for n in names):
            partial.append(cid)
    exact = list(dict.fromkeys(exact))
    partial = [c for c in dict.fromkeys(partial) if c not in exact]
    if exact or partial:
        return exact, partial, []
    choices = {c["category_id"]: " / ".join(c["category"]) for c in categories}
    for c in categories:
        for n in c["names"]:
            choices.setdefault(f"{c['category_id']}#{n}", n)
    best = process.extract(" / ".join(levels) or query, choices, scorer=fuzz.WRatio, limit=8, score_cutoff=50)
    suggestions = list(dict.fromkeys(name for name, _, _ in best))[:5]
    return [], [], suggestions


def describe(cid: str, tables: dict[str, list[dict]]) -> dict:
    """Everything ``show`` says about one category, as data."""
    cats = [c for c in tables["categories"] if c["category_id"] == cid]
    reqs = [r for r in tables["requirements"] if r["category_id"] == cid]
    conflicts = [c for c in tables["conflicts"] if c["status"] in UNRESOLVED]
    # changes between older versions, superseded since: the category's dated history, no decision
    superseded = [c for c in tables["conflicts"] if c["status"] == "history"]
    answers = {r["capability"]: r for r in tables.get("current", []) if r["category_id"] == cid}
    out = {"category_id": cid, "category": cats[0]["category"] if cats else None,
           "names": sorted({n for c in cats for n in c["names"]}), "capabilities": []}
    for c in sorted(cats, key=lambda c: c["capability"]):
        current = []
        for cur in c["current"]:
            row = next((r for r in reqs if r["source_file"] == cur["source_file"] and r["capability"] == c["capability"]
                        and r["provenance"]["line_start"] == cur["line_start"]), None)
            if row is None:
                continue
            complete = None
            if row["items_missing"] or row["rule"] == "unknown":
                # today's capture lost its items: point at the last capture of the page that has them
                earlier = [r for r in reqs if r["capability"] == c["capability"] and r["page"] == row["page"]
                           and not r["items_missing"] and r["rule"] != "unknown"]
                earlier.sort(key=lambda r: (r["page_updated"] is not None, r["page_updated"] or "", r["source_file"]))
                if earlier:
                    e = earlier[-1]
                    complete = {"source_file": e["source_file"], "line": e["provenance"]["line_start"],
                                "date": e["page_updated"], "documents": e["documents"],
                                "requirement": rule_words(e)}
            current.append({
                "last_complete": complete,
                "page": cur["page"], "source_file": row["source_file"], "line": row["provenance"]["line_start"],
                "date": row["page_updated"], "kind": row.get("kind"),  # (versions before schema 1.2.0 lack it)
                "requirement": rule_words(row),
                "items": [item_words(i) for i in row["items"]], "documents": row["documents"],
                "integration": row["integration"], "items_missing": row["items_missing"],
                "warnings": row["warnings"]})
        history = []
        for r in sorted((r for r in reqs if r["capability"] == c["capability"]),
                        key=lambda r: (r["page"] or "", r["page_updated"] is not None, r["page_updated"] or "", r["source_file"])):
            history.append({"date": r["page_updated"], "source_file": r["source_file"], "line": r["provenance"]["line_start"],
                            "page": r["page"], "requirement": rule_words(r),
                            "documents": len(r["documents"]), "integration": r["integration"]})
        out["capabilities"].append({
            # the answer first: the current requirement (``pipeline.reconcile.current``), None when no
            # page states one today (the category was removed)
            "answer": answers.get(c["capability"]) if tables.get("current") else "no current table",
            "capability": c["capability"], "current": current, "history": history,
            "conflicts": [{"id": x["id"], "kind": x["kind"], "relation": x["relation"], "summary": x["summary"],
                           "status": x["status"]} for x in conflicts if (c["capability"], cid) in covered(x)],
            "earlier_changes": [{"id": x["id"], "kind": x["kind"], "severity": x["severity"], "summary": x["summary"]}
                                for x in superseded if (c["capability"], cid) in covered(x)],
        })
    # a capability no page names this category for, that answers for it all the same: a
    # statement covering every child of its parent (政务民生 / 所有二级类目)
    named = {c["capability"] for c in cats}
    for cap in sorted(set(answers) - named):
        out["category"] = out["category"] or answers[cap]["category"]
        out["capabilities"].append({"answer": answers[cap], "capability": cap, "current": [], "history": [],
                                    "conflicts": [], "earlier_changes": []})
    return out


#: a conflict's summary in the answer (the details list it whole)
SUMMARY_SHOWN = 160


def _short(text: str) -> str:
    return text if len(text) <= SUMMARY_SHOWN else text[:SUMMARY_SHOWN].rstrip("…") + "…"


def _one_line(text) -> str:
    """What a person typed (a decision's reason), on one line: a carriage return would send the
    terminal's cursor back over what the line said."""
    return " ".join(str(text or "").splitlines())


def answer_lines(cap: str, a: dict | None) -> list[str]:
    """What ``show`` says first: per capability, the current requirement, where each part of it
    comes from, and how far it can be trusted."""
    if a is None:
        return [f"[{cap}] no page states a requirement today (see history)"]
    if a == "no current table":
        return [f"[{cap}] this dataset version predates the current table (schema 3.1.0): see details"]
    lines = [f"[{cap}] {STATUS_TEXT[a['status']]}"]
    several = len(a["statements"]) > 1
    if several:
        rules = {(s["rule"], s["pick"], s["of"], tuple(s["documents"])) for s in a["statements"]}
        verb = "list" if all(s.get("kind") == "eligibility" for s in a["statements"]) else "state"
        lines[0] += f": {len(a['statements'])} pages {verb} it" + (", and they differ" if len(rules) > 1 else "")
    for s in a["statements"]:
        rs = s["rule_source"]
        indent = "    "
        if several:
            lines.append(f"  on {s['page']}:")
            indent = "      "
        said = "listed" if s.get("kind") == "eligibility" else "declared"
        lines.append(f"{indent[:-2]}{rule_words(s, listed=False)}, {said} {'on ' + rs['date'] if rs['date'] else '(date unknown)'}"
                     f" ({rs['source_file']}:{rs['line']})")
        if s.get("covers") == "children":
            lines.append(f"{indent}stated for every sub-category of {' / '.join(a['category'])} (所有二级类目)")
        for c in s.get("conditions") or ():
            lines.append(f"{indent}only where: {c}")
        where = list_words(s)
        if where:
            lines.append(f"{indent}{where}")
        lines += [f"{indent}{n}. {item_words(i)}" for n, i in enumerate(s["items"], 1)]
        last = s.get("last_list")
        if last:
            lines.append(f"{indent}last complete list ({rule_words(last)}), not today's:")
            lines += [f"{indent}  {n}. {item_words(i)}" for n, i in enumerate(last["items"], 1)]
        if s["integration"]:
            lines.append(f"{indent}access method: {s['integration']}")
        if s["note"]:
            lines.append(f"{indent}note: {s['note']}")
    differ = [c for c in a["conflicts"] if c["status"] in UNRESOLVED]
    if differ:
        lines.append(f"  where they differ ({len(differ)} open):")
        lines += [f"    {_short(c['summary'])}  [{c['id']}]" for c in differ]
    for d in a["decisions"]:
        lines.append(f"  decided by {_one_line(d['reviewer'])} on {d['date']} ({d['conflict']}): "
                     f"{_one_line(d['decision'])}: {_one_line(d['reason'])}"
                     + ("  — stale: the values changed since" if d["status"] == "stale" else ""))
    return lines


def matches_text(query: str, exact: list[str], partial: list[str], categories: list[dict],
                 current: list[dict]) -> str:
    """Every category a query matches, each with its answer in one line per capability, before
    any details: a partial name matches many."""
    names = {c["category_id"]: " / ".join(c["category"]) for c in categories}
    answers: dict[str, list[str]] = {}
    for r in current:
        rules = "; ".join(dict.fromkeys(rule_words(s) for s in r["statements"]))
        answers.setdefault(r["category_id"], []).append(f"{r['capability']}: {rules}, {STATUS_TEXT[r['status']]}")
    lines = []
    for title, ids in (("named by", exact), ("with it in their name", partial)):
        if ids:
            lines.append(f"{len(ids)} categor{'y' if len(ids) == 1 else 'ies'} {title} {query!r}:")
            for i in ids:
                lines.append(f"  {names[i]}")
                lines += [f"      {x}" for x in answers.get(i, ["no page states a requirement today"])]
    return "\n".join(lines)


def title_line(cid: str, tables: dict[str, list[dict]]) -> str:
    """A category's path and id, as ``show`` heads its answer."""
    cats = [c for c in tables["categories"] if c["category_id"] == cid]
    return f"{' / '.join(cats[0]['category'] if cats else [])}  ({cid})"


def to_text(d: dict) -> str:
    lines = [f"{' / '.join(d['category'] or [])}  ({d['category_id']})"]
    if len(d["names"]) > 1:
        lines.append(f"  also written: {'; '.join(d['names'])}")
    lines += ["", "Current requirement:"]
    for cap in d["capabilities"]:
        lines += answer_lines(cap["capability"], cap["answer"])
        if cap["answer"] is None:  # where it went, if a page moved it (its newest version says so)
            lines += [f"  {c['summary']}  [{c['id']}]" for c in cap.get("earlier_changes", ())
                      if c["kind"] == "category_moved"]
    lines += ["", "Details:"]
    for cap in d["capabilities"]:
        lines += ["", f"[{cap['capability']}]"]
        if len(cap["history"]) > 1:
            lines.append("  history:")
            prev = None
            for h in cap["history"]:
                said = f"{h['requirement']}, {h['documents']} documents" + (f", {h['integration']}" if h["integration"] else "")
                mark = "" if prev is None or said == prev else "  <- changed"
                lines.append(f"    {h['date'] or 'date unknown'}  {said}  ({h['source_file']}:{h['line']}){mark}")
                prev = said
        if cap["conflicts"]:
            lines.append("  open conflicts:")
            lines += [f"    {c['id']} [{c['status']}] {c['summary']}" for c in cap["conflicts"]]
        if cap.get("earlier_changes"):
            lines.append("  earlier changes (history: later versions superseded them, no decision needed):")
            lines += [f"    {c['id']} [{c['severity']}] {c['summary']}" for c in cap["earlier_changes"]]
    return "\n".join(lines)


def _said(rows: list[dict]) -> dict[str, tuple]:
    """What a version says of a category, field by field as reconciliation compares them
    (``field_value``); the parts of a page it says it in are not compared (a page that splits
    its table in two says the same of the category)."""
    return {f: tuple(sorted(repr(field_value(r, f)) for r in rows)) for f in FIELD_KIND}


def _entries_words(rows: list[dict], before: list[dict] | None) -> str:
    """``4 entries`` and, against the version before, the entries gained and lost (by text)."""
    now = [i["text"] for r in rows for i in r["items"] or ()]
    said = f"{len(now)} entr{'y' if len(now) == 1 else 'ies'}"
    if before is None:
        return said
    old = [i["text"] for r in before for i in r["items"] or ()]
    gained, lost = len(set(now) - set(old)), len(set(old) - set(now))
    return said + (f" (+{gained} −{lost})" if gained or lost else "")


def history_lines(cid: str, tables: dict[str, list[dict]]) -> list[str]:
    """``show --history``: per capability and page, one line per version of the page in which
    what it says of the category changed (the first that states it, each change, a version that
    no longer lists it): date, page, rule, entries (count, gained and lost), access method,
    ``file:line``. A capture cut short says nothing of what it lacks, and is skipped."""
    reqs: dict[tuple, list[dict]] = {}
    for r in tables["requirements"]:
        if r["category_id"] == cid:
            reqs.setdefault((r["capability"], r["source_sha256"]), []).append(r)
    lines = []
    for page in sorted(tables["pages"], key=lambda p: (p["capability"], p["page_key"])):
        cap, out, before, said = page["capability"], [], None, None
        for v in page["versions"]:
            rows = sorted(reqs.get((cap, v["source_sha256"]), []), key=lambda r: r["provenance"]["line_start"])
            if not rows and (v["truncated"] or before is None):
                continue
            now = _said(rows) if rows else None
            if now == said:
                continue
            when = v["date"] or "date unknown"
            if rows:
                words = "; ".join(dict.fromkeys(rule_words(r) for r in rows))
                method = "; ".join(dict.fromkeys(r["integration"] for r in rows if r["integration"]))
                changed = [f for f in FIELD_KIND if said and now[f] != said[f]]
                out.append(f"  {when}  {words}, {_entries_words(rows, before)}" + (f", {method}" if method else "")
                           + (f"; changed: {', '.join(changed)}" if changed else "")
                           + f"  ({rows[0]['source_file']}:{rows[0]['provenance']['line_start']})")
            else:
                out.append(f"  {when}  no longer listed  ({v['source_file']})")
            before, said = rows or None, now
        if out:
            lines += [f"[{cap}] {page['page_key']}:"] + out
    return lines
