"""Compliance staff's decisions on conflicts, kept in a reviewed file in the repository.

``review/decisions.toml`` holds one ``[[decision]]`` table per decision::

    [[decision]]
    conflict = "cfl_0123456789abcdef"   # the conflict's id (stable across rebuilds)
    decision = "follow newest"          # what was decided
    reason   = "002 is the 2026-02-11 page; 5选1 confirmed with Tencent support"
    reviewer = "Li Wei"
    date     = 2026-11-20
    values   = "9f2c…"                  # fingerprint of the values the reviewer saw

``python -m pipeline decide`` writes such an entry with the right fingerprint. The next build
applies it: the conflict is ``decided``; if its values changed since, or it no longer exists,
the decision is reported as stale, never silently kept. An id no build ever produced is an error.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass

from pipeline.errors import ParseError
from pipeline.normalize import real_date

DECISIONS_FILE = "review/decisions.toml"
_KEYS = ("conflict", "decision", "reason", "reviewer", "date", "values")
_ID = re.compile(r"^cfl_[0-9a-f]{16}$")


@dataclass(frozen=True)
class Decision:
    conflict: str
    decision: str
    reason: str
    reviewer: str
    date: str
    values: str
    line: int

    def to_dict(self) -> dict:
        return {"conflict": self.conflict, "decision": self.decision, "reason": self.reason,
                "reviewer": self.reviewer, "date": self.date, "values": self.values, "line": self.line}


def parse_decisions(text: str, file: str = DECISIONS_FILE) -> list[Decision]:
    """Read the decisions file; every problem is a ``file:line`` error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParseError(file, getattr(e, "lineno", 1) or 1, f"not valid TOML: {e}") from None
    unknown = set(data) - {"decision"}
    if unknown:
        raise ParseError(file, 1, f"unexpected top-level key(s) {sorted(unknown)}; use [[decision]] tables")
    entries = data.get("decision", [])
    header_lines = [i + 1 for i, ln in enumerate(text.split("\n")) if ln.strip() == "[[decision]]"]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        line = next((i + 1 for i, ln in enumerate(text.split("\n")) if ln.strip().startswith(("[decision", "decision"))), 1)
        raise ParseError(file, line, "each decision is a [[decision]] table (two brackets), "
                                     "as `python -m pipeline decide` writes it")
    out: list[Decision] = []
    seen: dict[str, int] = {}
    for n, entry in enumerate(entries):
        line = header_lines[n] if n < len(header_lines) else 1
        missing = [k for k in _KEYS if k not in entry or str(entry[k]).strip() == ""]
        if missing:
            raise ParseError(file, line, f"decision lacks {', '.join(missing)} "
                                         f"(record decisions with `python -m pipeline decide`)")
        extra = sorted(set(entry) - set(_KEYS))
        if extra:
            raise ParseError(file, line, f"unknown key(s) {extra}; allowed: {', '.join(_KEYS)}")
        cid = str(entry["conflict"]).strip()
        if not _ID.match(cid):
            raise ParseError(file, line, f"{cid!r} is not a conflict id (cfl_ and 16 hex digits)")
        if cid in seen:
            raise ParseError(file, line, f"second decision for {cid} (first at line {seen[cid]})")
        seen[cid] = line
        date = entry["date"]
        if isinstance(date, (dt.date, dt.datetime)):
            date = date.isoformat()[:10]
        elif not real_date(str(date)):
            raise ParseError(file, line, f"date {date!r} is not YYYY-MM-DD")
        out.append(Decision(cid, str(entry["decision"]).strip(), str(entry["reason"]).strip(),
                            str(entry["reviewer"]).strip(), str(date), str(entry["values"]).strip(), line))
    return out


def apply_decisions(conflicts: list[dict], decisions: list[Decision], known_ids: set[str],
                    file: str = DECISIONS_FILE) -> tuple[list[dict], list[dict]]:
    """Conflicts with their decisions applied, and one review row per decision with its status.

    ``known_ids``: conflict ids of every published dataset version, to tell "no longer exists"
    (stale) from an id no build ever produced (an error: a typo would otherwise hide).
    """
    by_id = {d.conflict: d for d in decisions}
    out = [apply_decision(c, by_id.get(c["id"])) for c in conflicts]
    return out, review_rows(decisions, {c["id"]: c for c in out}, known_ids, file)


def apply_decision(conflict: dict, decision: Decision | None) -> dict:
    """The conflict with its decision: ``decided`` if the values are those the reviewer saw,
    otherwise ``stale``."""
    if decision is None:
        return conflict
    status, why = ("applied", None) if conflict["values_hash"] == decision.values else \
        ("stale", "values changed since the decision")
    return dict(conflict, status="decided" if status == "applied" else "stale",
                decision=dict(decision.to_dict(), status=status, stale_reason=why))


def review_rows(decisions: list[Decision], conflicts: dict[str, dict], known_ids: set[str],
                file: str = DECISIONS_FILE) -> list[dict]:
    """One row per decision; ``conflicts``: this build's conflicts by id, decisions applied."""
    reviews = []
    for d in decisions:
        c = conflicts.get(d.conflict)
        if c is None:
            if d.conflict not in known_ids:
                raise ParseError(file, d.line, f"unknown conflict id {d.conflict}: not in this build "
                                               f"nor in any published dataset version")
            status, why = "stale", "conflict no longer exists"
        else:
            status, why = c["decision"]["status"], c["decision"]["stale_reason"]
        reviews.append(dict(d.to_dict(), status=status, stale_reason=why,
                            summary=c["summary"] if c else None))
    return reviews


def decision_entry(conflict: dict, decision: str, reason: str, reviewer: str, date: str) -> str:
    """The TOML text of one decision, for appending to the decisions file."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    return (f"\n[[decision]]\n# {conflict['summary'][:200].replace(chr(10), ' ')}\n"
            f"conflict = {q(conflict['id'])}\ndecision = {q(decision)}\nreason = {q(reason)}\n"
            f"reviewer = {q(reviewer)}\ndate = {date}\nvalues = {q(conflict['values_hash'])}\n")
