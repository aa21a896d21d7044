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

A decision is withdrawn (``python -m pipeline withdraw``), never deleted: its table, as it was
typed, comments and all, becomes a ``[[withdrawn]]`` table with who withdrew it, when and why::

    [[withdrawn]]
    conflict = "cfl_0123456789abcdef"
    decision = "follow newest"
    …                                   # the decision's own keys, as they were
    withdrawn_by     = "Wang Fang"
    withdrawn_date   = 2026-12-02
    withdrawn_reason = "Tencent support corrected themselves"

A withdrawn decision applies to nothing: the next build reports its conflict open again. The
same conflict may be decided, withdrawn and decided again; every withdrawal stays in the file.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from pipeline.core.errors import ParseError, PipelineError
from pipeline.core.normalize import real_date
from pipeline.core.textfiles import loads_toml

DECISIONS_FILE = "review/decisions.toml"

#: what a decision may say where it is picked from a list (the workbook's drop-down, read back by
#: ``decide --from``), with what it means. ``decide --decision`` on the command line takes any
#: text, as it always has; a sheet offers these, and a value typed outside them is refused.
#: (No commas: a spreadsheet's list of allowed values is one comma-separated formula.)
DECISION_CHOICES = {
    "follow newest": "the newest capture or page states what holds",
    "follow older": "the older statement holds: the newer capture is wrong or incomplete",
    "both hold": "no contradiction: the statements apply to different scopes, parts or capabilities",
    "not a real difference": "the texts mean the same, or the pipeline misread one of them",
}

_KEYS = ("conflict", "decision", "reason", "reviewer", "date", "values")
#: what a withdrawal adds to the decision's own keys
_WITHDRAWN_KEYS = ("withdrawn_by", "withdrawn_date", "withdrawn_reason")
_ID = re.compile(r"^cfl_[0-9a-f]{16}$")
_HEADER = {kind: re.compile(rf"^\s*\[\[\s*{kind}\s*\]\]\s*(#.*)?$") for kind in ("decision", "withdrawn")}
#: any table header line: where the table before it ends
_ANY_HEADER = re.compile(r"^\s*\[")


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


@dataclass(frozen=True)
class Withdrawn:
    """A decision taken back: it applies to nothing, and stays in the file."""
    decision: Decision
    by: str
    date: str
    reason: str


@dataclass(frozen=True)
class DecisionsFile:
    """What the decisions file holds: the decisions in force and the withdrawn ones, in file order."""
    decisions: list[Decision]
    withdrawn: list[Withdrawn]


def parse_decisions(text: str, file: str = DECISIONS_FILE) -> list[Decision]:
    """The decisions in force (``[[decision]]``); every problem, in them or in the
    ``[[withdrawn]]`` tables, is a ``file:line`` error."""
    return read_decisions(text, file).decisions


def read_decisions(text: str, file: str = DECISIONS_FILE) -> DecisionsFile:
    """The whole decisions file, checked: decisions in force and withdrawn ones."""
    data = loads_toml(text, file)
    unknown = set(data) - {"decision", "withdrawn"}
    if unknown:
        raise ParseError(file, 1, f"unexpected top-level key(s) {sorted(unknown)}; use [[decision]] tables")
    lines = text.split("\n")
    for kind in ("decision", "withdrawn"):
        entries = data.get(kind, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            line = next((i + 1 for i, ln in enumerate(lines) if ln.strip().startswith((f"[{kind}", kind))), 1)
            raise ParseError(file, line, f"each {kind} is a [[{kind}]] table (two brackets), "
                                         f"as `python -m pipeline {'decide' if kind == 'decision' else 'withdraw'}` "
                                         f"writes it")
    out: list[Decision] = []
    seen: dict[str, int] = {}
    for entry, line in zip(data.get("decision", []), _header_lines(lines, "decision")):
        d = _decision(entry, line, file, _KEYS)
        if d.conflict in seen:
            raise ParseError(file, line, f"second decision for {d.conflict} (first at line {seen[d.conflict]}); "
                                         f"withdraw one (`python -m pipeline withdraw`)")
        seen[d.conflict] = line
        out.append(d)
    withdrawn = []
    for entry, line in zip(data.get("withdrawn", []), _header_lines(lines, "withdrawn")):
        d = _decision(entry, line, file, _KEYS + _WITHDRAWN_KEYS)
        withdrawn.append(Withdrawn(d, str(entry["withdrawn_by"]).strip(),
                                   _date(entry["withdrawn_date"], line, file, "withdrawn_date"),
                                   str(entry["withdrawn_reason"]).strip()))
    return DecisionsFile(out, withdrawn)


#: what can open a string, or end a line's TOML, outside a string
_TOKEN = re.compile(r'"""|\'\'\'|"(?:[^"\\]|\\.)*"|\'[^\']*\'|#')
#: where a multi-line string ends (a basic one's delimiter not escaped)
_CLOSE = {'"""': re.compile(r'(?<!\\)"""'), "\'\'\'": re.compile("\'\'\'")}


def _outside_strings(lines: list[str]) -> list[bool]:
    """Per line, whether it starts outside a multi-line string: a line of a reason that starts
    with ``[`` (``[ticket 4411] …``, even ``[[decision]]``) is text, not a table header."""
    out, delim = [], None
    for ln in lines:
        out.append(delim is None)
        pos = 0
        while True:
            if delim is not None:
                m = _CLOSE[delim].search(ln, pos)
                if m is None:
                    break
                delim, pos = None, m.end()
                continue
            m = _TOKEN.search(ln, pos)
            if m is None or m.group() == "#":
                break
            if m.group() in _CLOSE:
                delim = m.group()
            pos = m.end()
    return out


def _header_lines(lines: list[str], kind: str):
    """The line of each ``[[kind]]`` header, in order (tomllib gives no positions); 1 for any
    the scan cannot place, so an entry is never skipped."""
    outside = _outside_strings(lines)
    yield from (i + 1 for i, ln in enumerate(lines) if outside[i] and _HEADER[kind].match(ln))
    while True:
        yield 1


def _decision(entry: dict, line: int, file: str, keys: tuple[str, ...]) -> Decision:
    missing = [k for k in keys if k not in entry or str(entry[k]).strip() == ""]
    if missing:
        raise ParseError(file, line, f"decision lacks {', '.join(missing)} "
                                     f"(record decisions with `python -m pipeline decide`)")
    extra = sorted(set(entry) - set(keys))
    if extra:
        raise ParseError(file, line, f"unknown key(s) {extra}; allowed: {', '.join(keys)}")
    cid = str(entry["conflict"]).strip()
    if not _ID.match(cid):
        raise ParseError(file, line, f"{cid!r} is not a conflict id (cfl_ and 16 hex digits)")
    return Decision(cid, str(entry["decision"]).strip(), str(entry["reason"]).strip(),
                    str(entry["reviewer"]).strip(), _date(entry["date"], line, file, "date"),
                    str(entry["values"]).strip(), line)


def _date(value, line: int, file: str, key: str) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if not real_date(str(value)):
        raise ParseError(file, line, f"{key} {value!r} is not YYYY-MM-DD")
    return str(value)


def parse_id_list(text: str, file: str) -> list[tuple[str, int]]:
    """Conflict ids listed one per line (``decide --ids-from``), with their lines; ``#`` starts
    a comment, blank lines are skipped. A line that is no id is a ``file:line`` error."""
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        item = raw.split("#", 1)[0].strip()
        if not item:
            continue
        if not _ID.match(item):
            raise ParseError(file, no, f"{item!r} is not a conflict id (cfl_ and 16 hex digits; "
                                       f"one per line, # for comments)")
        out.append((item, no))
    return out


FILE_HEADER = "# Decisions on conflicts, read by every build (see README: recording a decision).\n"


def add_decisions(text: str | None, conflicts: list[dict], decision: str, reason: str, reviewer: str,
                  date: str, file: str = DECISIONS_FILE) -> str:
    """The decisions file with one decision per conflict appended, all of them or none: a
    conflict that already has a decision in force is an error, and nothing is added."""
    text = text if text is not None else FILE_HEADER
    held = {d.conflict for d in parse_decisions(text, file)}
    already = [c["id"] for c in conflicts if c["id"] in held]
    if already:
        raise PipelineError(f"{file}: already holds a decision on {', '.join(already)}; nothing recorded "
                            f"(withdraw it first with `python -m pipeline withdraw`, or edit it there)")
    new = text + "".join(decision_entry(c, decision, reason, reviewer, date) for c in conflicts)
    parse_decisions(new, file)  # never write a file the build would reject
    return new


def withdraw_decisions(text: str | None, ids: list[str], reason: str, reviewer: str, date: str,
                       file: str = DECISIONS_FILE) -> str:
    """The decisions file with the decisions on ``ids`` moved, as they were typed, to
    ``[[withdrawn]]`` tables at its end, each with who withdrew it, when and why. All of them
    or none: an id without a decision in force is an error. Nothing of the text is dropped."""
    parsed = read_decisions(text or "", file)
    by_id = {d.conflict: d for d in parsed.decisions}
    missing = [i for i in ids if i not in by_id]
    if missing:
        gone = {w.decision.conflict for w in parsed.withdrawn}
        why = "; ".join(f"{i}: {'already withdrawn' if i in gone else 'no decision on it'}" for i in missing)
        raise PipelineError(f"{file}: {why}; nothing withdrawn")
    lines = (text or "").split("\n")
    outside = _outside_strings(lines)
    blocks = []
    for d in sorted((by_id[i] for i in ids), key=lambda d: d.line, reverse=True):
        start = d.line - 1
        end = next((j for j in range(start + 1, len(lines)) if outside[j] and _ANY_HEADER.match(lines[j])),
                   len(lines))
        block = lines[start:end]
        del lines[start:end]
        del outside[start:end]
        while block and not block[-1].strip():
            block.pop()
        block[0] = re.sub(r"\[\[\s*decision\s*\]\]", "[[withdrawn]]", block[0], count=1)
        blocks.append((d, block + [f"withdrawn_by = {_q(reviewer)}", f"withdrawn_date = {date}",
                                   f"withdrawn_reason = {_q(reason)}"]))
    body = "\n".join(lines)
    body = body if body.endswith("\n") or not body else body + "\n"
    new = body + "".join("\n" + "\n".join(block) + "\n" for _, block in reversed(blocks))
    # the move is text surgery: make sure it kept every other decision and moved these intact
    after = read_decisions(new, file)
    kept = {d.conflict: d for d in after.decisions}
    moved = [w.decision for w in after.withdrawn[len(parsed.withdrawn):]]
    same = lambda a, b: dict(a.to_dict(), line=0) == dict(b.to_dict(), line=0)  # noqa: E731
    if (set(kept) != set(by_id) - set(ids) or not all(same(kept[i], by_id[i]) for i in kept)
            or [m.conflict for m in moved] != [d.conflict for d, _ in reversed(blocks)]
            or not all(same(m, by_id[m.conflict]) for m in moved)):
        first = min(by_id[i].line for i in ids)
        raise PipelineError(f"{file}:{first}: cannot move this decision to [[withdrawn]] without changing "
                            f"what it says; nothing withdrawn (move it by hand and add "
                            f"{', '.join(_WITHDRAWN_KEYS)})")
    return new


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
    # a decided conflict stays decided; one whose values changed since waits for a decision
    # again, unless it is history by now (later versions superseded it): the decision is still
    # reported stale, and nothing about today needs deciding
    settled = "decided" if status == "applied" else "history" if conflict["status"] == "history" else "stale"
    return dict(conflict, status=settled, decision=dict(decision.to_dict(), status=status, stale_reason=why))


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
    q = _q
    return (f"\n[[decision]]\n# {conflict['summary'][:200].replace(chr(10), ' ')}\n"
            f"conflict = {q(conflict['id'])}\ndecision = {q(decision)}\nreason = {q(reason)}\n"
            f"reviewer = {q(reviewer)}\ndate = {date}\nvalues = {q(conflict['values_hash'])}\n")


def one_line(s: str) -> str:
    """A value as the decisions file keeps it: on one line (line breaks become spaces), without
    surrounding spaces (what ``parse_decisions`` reads back)."""
    return " ".join(s.splitlines()).strip()


#: what a TOML basic string cannot hold as it is: control characters but tab
_TOML_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def _q(s: str) -> str:
    """A TOML basic string (one line); a control character a line break does not explain is
    written as its escape, so the file stays valid TOML and keeps it."""
    text = one_line(s).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _TOML_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + '"'


# --- decisions typed in a sheet (``pipeline export``'s decide sheet, ``decide --from``) --------

@dataclass(frozen=True)
class SheetRow:
    """One row of the decide sheet as read back: where it is (``FILE:decide!7``, or ``FILE:7``
    for a CSV), the conflict id and values fingerprint the export wrote, and what a person typed."""
    where: str
    conflict: str
    values: str
    decision: str
    reason: str
    reviewer: str

    def filled(self) -> bool:
        return bool(self.decision or self.reason or self.reviewer)

    def typed(self) -> str:
        """What the person typed, quoted on one line (a reason may hold line breaks): a row
        that cannot be recorded is reported with it, so that nothing typed is lost."""
        q = lambda s: json.dumps(s, ensure_ascii=False)  # noqa: E731
        return f"typed: decision {q(self.decision)}, reason {q(self.reason)}, reviewer {q(self.reviewer)}"


@dataclass
class SheetImport:
    """What ``sheet_decisions`` made of a sheet: the rows recorded now and those already in
    the file (the same decision on the same values: importing a sheet twice adds nothing)."""
    recorded: list[SheetRow]
    already: list[SheetRow]


def _sheet_problem(row: SheetRow, known: dict[str, dict], version: str) -> str | None:
    """Why a filled row cannot be recorded, or None; ``known``: the latest dataset's conflicts."""
    missing = [k for k in ("decision", "reason", "reviewer") if not getattr(row, k)]
    if missing:
        return f"{' and '.join(missing)} empty: a decision needs decision, reason and reviewer"
    if row.decision not in DECISION_CHOICES:
        return f"decision {row.decision!r} is not one of the allowed values ({', '.join(DECISION_CHOICES)})"
    if not _ID.match(row.conflict):
        return f"conflict {row.conflict!r} is not a conflict id (the export's column was changed?)"
    c = known.get(row.conflict)
    if c is None:
        return f"{row.conflict}: no such conflict in dataset {version} (unknown id)"
    if c["values_hash"] != row.values:
        return (f"{row.conflict}: stale: the conflict's values changed since this sheet was exported; "
                f"export again and decide on what it says now")
    return None


def sheet_decisions(text: str | None, rows: list[SheetRow], known: dict[str, dict], version: str, date: str,
                    file: str = DECISIONS_FILE) -> tuple[str, SheetImport]:
    """The decisions file with a decision per filled row of a sheet, all of them or none (a
    ``PipelineError`` listing every row that cannot be recorded, one line each, with what was
    typed in it). A row whose decision the file already holds, on the same values, with the
    same words, is not added again; one that holds another decision on it is a problem."""
    text = text if text is not None else FILE_HEADER
    held = {d.conflict: d for d in parse_decisions(text, file)}
    problems, new, already, seen = [], [], [], {}
    for row in (r for r in rows if r.filled()):
        why = _sheet_problem(row, known, version)
        d = held.get(row.conflict)
        same = d is not None and (d.values, d.decision, d.reason, d.reviewer) == \
            (row.values, row.decision, one_line(row.reason), one_line(row.reviewer))
        if why is None and d is not None and not same:
            why = (f"{row.conflict}: {file}:{d.line} already holds another decision on it "
                   f"({d.decision!r} by {d.reviewer}); withdraw it first (`python -m pipeline withdraw`)")
        first = seen.setdefault(row.conflict, row)
        if why is None and first is not row and first.typed() != row.typed():
            why = f"{row.conflict}: decided differently on {first.where}"
        if why is not None:
            problems.append(f"{row.where}: {why}; {row.typed()}")
        elif first is row:
            (already if same else new).append(row)
    if problems:
        raise PipelineError("\n".join(problems + [f"nothing recorded: {len(problems)} row(s) to fix, "
                                                   f"{file} left as it was"]))
    for row in new:
        text += decision_entry(known[row.conflict], row.decision, row.reason, row.reviewer, date)
    parse_decisions(text, file)  # never write a file the build would reject
    return text, SheetImport(new, already)
