"""``python -m pipeline show <category>``: what a category needs today, and since when.

Pure functions over loaded records (``find`` resolves a name, ``describe`` builds the answer,
``to_text`` words it); the CLI only loads and prints.
"""
from __future__ import annotations

from pipeline.normalize import fold
from pipeline.records import canonical_category

_SEPARATORS = ("/", "-", "－", ">", "｜", "|")


def _levels(query: str) -> tuple[str, ...]:
    text = query
    for sep in _SEPARATORS:
        text = text.replace(sep, "\x1f")
    return tuple(p.strip() for p in text.split("\x1f") if p.strip())


def find(query: str, categories: list[dict]) -> tuple[list[str], list[str]]:
    """Category ids matching ``query`` (canonical path, any spelling seen, alias, or part of a
    name), and fuzzy suggestions when nothing matches."""
    from rapidfuzz import fuzz, process

    levels = _levels(query)
    canon = canonical_category(levels) if levels else ()
    q = fold("".join(levels))
    exact, partial = [], []
    for c in categories:
        cid = c["category_id"]
        names = [tuple(c["category"])] + [tuple(_levels(n)) for n in c["names"]]
        if canon and (tuple(c["category"]) == canon or tuple(c["category"])[-len(canon):] == canon):
            exact.append(cid)
        elif any(fold("".join(n)) == q or fold(n[-1]) == q for n in names):
            exact.append(cid)
        elif q and any(q in fold("".join(n)) for n in names):
            partial.append(cid)
    found = list(dict.fromkeys(exact or partial))
    if found:
        return found, []
    choices = {c["category_id"]: " / ".join(c["category"]) for c in categories}
    for c in categories:
        for n in c["names"]:
            choices.setdefault(f"{c['category_id']}#{n}", n)
    best = process.extract(" / ".join(levels) or query, choices, scorer=fuzz.WRatio, limit=8, score_cutoff=50)
    suggestions = list(dict.fromkeys(name for name, _, _ in best))[:5]
    return [], suggestions


def _plain(rule: str, pick, of, options, items: list[dict]) -> str:
    if rule == "none":
        return "nothing required"
    if rule == "unknown":
        return "unknown (the requirement text was lost in this capture)"
    if rule == "any":
        declared = f"{pick} of {of}" if of else f"{pick or 'one'} of the listed alternatives"
        listed = f" ({options} listed)" if of and options != of else ""
        return f"{declared}{listed}"
    return "all of"


def _item_words(item: dict) -> str:
    text = item["text"]
    g = item.get("group")
    if g and g["rule"] == "any" and g["items"]:
        text += f" [{g.get('pick') or 1} of {g.get('of') or len(g['items'])}]"
    return text


def describe(cid: str, tables: dict[str, list[dict]]) -> dict:
    """Everything ``show`` says about one category, as data."""
    cats = [c for c in tables["categories"] if c["category_id"] == cid]
    reqs = [r for r in tables["requirements"] if r["category_id"] == cid]
    conflicts = [c for c in tables["conflicts"] if c["status"] in ("open", "stale")
                 and any(x["category_id"] == cid for x in c.get("categories") or [{"category_id": c["category_id"]}])]
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
                                "requirement": _plain(e["rule"], e["pick"], e["of"], e["options"], e["items"])}
            current.append({
                "last_complete": complete,
                "page": cur["page"], "source_file": row["source_file"], "line": row["provenance"]["line_start"],
                "date": row["page_updated"], "kind": row["kind"],
                "requirement": _plain(row["rule"], row["pick"], row["of"], row["options"], row["items"]),
                "items": [_item_words(i) for i in row["items"]], "documents": row["documents"],
                "integration": row["integration"], "items_missing": row["items_missing"],
                "warnings": row["warnings"]})
        history = []
        for r in sorted((r for r in reqs if r["capability"] == c["capability"]),
                        key=lambda r: (r["page"] or "", r["page_updated"] is not None, r["page_updated"] or "", r["source_file"])):
            history.append({"date": r["page_updated"], "source_file": r["source_file"], "line": r["provenance"]["line_start"],
                            "page": r["page"], "requirement": _plain(r["rule"], r["pick"], r["of"], r["options"], []),
                            "documents": len(r["documents"]), "integration": r["integration"]})
        out["capabilities"].append({
            "capability": c["capability"], "current": current, "history": history,
            "conflicts": [{"id": x["id"], "kind": x["kind"], "relation": x["relation"], "summary": x["summary"],
                           "status": x["status"]} for x in conflicts if c["capability"] in x["capability"].split("+")],
        })
    return out


def to_text(d: dict) -> str:
    lines = [f"{' / '.join(d['category'] or [])}  ({d['category_id']})"]
    if len(d["names"]) > 1:
        lines.append(f"  also written: {'; '.join(d['names'])}")
    for cap in d["capabilities"]:
        lines += ["", f"[{cap['capability']}]"]
        for cur in cap["current"]:
            lines.append(f"  now ({cur['page']}): {cur['requirement']}"
                         + (" — items lost in this capture" if cur["items_missing"] else ""))
            for n, item in enumerate(cur["items"], 1):
                lines.append(f"    {n}. {item}")
            if cur["documents"]:
                lines.append("    documents: " + "、".join(f"《{x}》" for x in cur["documents"]))
            if cur["integration"]:
                lines.append(f"    access method: {cur['integration']}")
            lines.append(f"    source: {cur['source_file']}:{cur['line']} ({cur['date'] or 'date unknown'})")
            lc = cur["last_complete"]
            if lc:
                lines.append(f"    last capture listing the items: {lc['requirement']}: "
                             + "、".join(f"《{x}》" for x in lc["documents"])
                             + f" ({lc['source_file']}:{lc['line']}, {lc['date'] or 'date unknown'})")
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
    return "\n".join(lines)
