"""Qualification text -> ``Requirement``: the one place that decides any / all / none / unknown.

Input is what a parser found under a ``资质要求`` heading or in a qualification cell: an optional
header (``资质要求（3选1）``) and the logical lines of the content, or explicit alternative
columns. Every decision is made from the wording (see ``patterns``), never from a category name.

How a requirement is read, in order:
1. explicit alternative columns (two ``<td>`` scenario cells)         -> any, each a bundle
2. list bullets (``<li>``)                                            -> items
3. ``…的场景`` group headers                                           -> any over the groups
4. enumerators ``1、`` ``2.`` ``一:`` ``①`` in sequence                -> items
5. per-variant sentences ``（供电类）…。（燃气类）…``                  -> any over the variants
6. several unnumbered lines (list marks lost in a copy)                -> one item per line
7. ``或`` next to a document title at top level                        -> any over the parts
8. otherwise one statement                                             -> all
The rule of 2./3. comes from the text before the first item: a declared ``N选K`` -> any (``of``=N),
``需同时提供`` -> all, neither -> all with a warning. An empty content is ``unknown``; ``-`` or
``/`` is ``none``. ``items_missing`` is set when a rule is declared but no item follows, at any depth.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from pipeline import patterns
from pipeline.model import Item, Line, Requirement
from pipeline.normalize import clean, document_titles, memo_short, squeeze_cjk

_OPEN = "（(《“‘[【"
_CLOSE = "）)》”’]】"
_PAIR = dict(zip(_CLOSE, _OPEN))


@memo_short(limit=400, size=1 << 12)
def depth_map(text: str) -> tuple[int, ...]:
    """Nesting depth of every character: inside ``（）``, ``《》``, ``“”``, ``【】`` counts.

    An unclosed bracket (``(范围均需含…`` at the end of a cell) just keeps the rest nested,
    which is what a reader does too. A straight ``"`` toggles.
    """
    depth, stack, out, in_quote = 0, [], [], False
    for ch in text:
        if ch == '"':
            in_quote = not in_quote
            out.append(depth + 1)
            continue
        if ch in _OPEN:
            stack.append(ch)
            depth += 1
            out.append(depth)
            continue
        out.append(depth + (1 if in_quote else 0))
        if ch in _CLOSE and stack and stack[-1] == _PAIR[ch]:
            stack.pop()
            depth -= 1
    return tuple(out)


def _or_positions(text: str) -> list[int]:
    """Positions of ``或`` that join alternatives: top level, next to a 《》 title."""
    depths = depth_map(text)
    positions = []
    for m in re.finditer(patterns.OR_WORD, text):
        i = m.start()
        if depths[i] != 0 or patterns.OR_NOT_SPLIT.match(text, i):
            continue
        before = text[:i].rstrip()
        after = text[i + 1:].lstrip()
        if before.endswith("》") or after.startswith("《"):
            positions.append(i)
    return positions


def split_alternatives(text: str) -> list[str]:
    """``《A》或《B》或C文件`` -> ``['《A》', '《B》', 'C文件']``; ``[text]`` when nothing splits."""
    cuts = _or_positions(text)
    if not cuts:
        return [text]
    parts, start = [], 0
    for c in cuts:
        parts.append(text[start:c])
        start = c + 1
    parts.append(text[start:])
    return [p.strip(" ，,。；;") for p in parts if p.strip(" ，,。；;")]


def split_bundle(text: str) -> list[str]:
    """Documents that are all required: ``《A》与《B》及《C》`` -> three parts.

    Only joiners at top level and next to a title split, so ``证券、期货投资咨询`` or
    ``民办学校办学许可证及营业执照（或…）`` inside brackets stay whole.
    """
    depths = depth_map(text)
    cuts: list[tuple[int, int]] = []
    for m in patterns.AND_JOINERS.finditer(text):
        i, j = m.start(), m.end()
        if depths[i] != 0:
            continue
        before, after = text[:i].rstrip(), text[j:].lstrip()
        if before.endswith("》") or after.startswith("《"):
            cuts.append((i, j))
    if not cuts:
        return [text]
    parts, start = [], 0
    for i, j in cuts:
        parts.append(text[start:i])
        start = j
    parts.append(text[start:])
    return [p.strip(" ，,。；;") for p in parts if p.strip(" ，,。；;")]


def _strip_and_conditions(text: str) -> tuple[str, list[str]]:
    """``《A》，且《营业执照》且经营范围含供电`` -> (``《A》``, [``且《营业执照》且经营范围含供电``])."""
    depths = depth_map(text)
    for m in patterns.AND_CONDITION.finditer(text):
        if depths[m.start("cond")] == 0 and m.start("cond") > 0:
            return text[:m.start()].rstrip(" ，,"), [m.group("cond").strip(" 。；;")]
    return text, []


def _bracket_conditions(text: str) -> list[str]:
    """Parenthesised remarks without a title: ``（经营范围含网络表演）`` -> ``经营范围含网络表演``."""
    out = []
    for m in re.finditer(r"[（(]([^（）()]*)[)）]", text):
        inner = m.group(1).strip()
        if inner and "《" not in inner and not patterns.DECLARED_CHOICE.search(inner):
            out.append(inner)
    return out


@dataclass(frozen=True)
class _Segment:
    text: str
    line: int
    children: tuple[Line, ...] = ()


class _LineIndex:
    """Maps character offsets of a ``\\n``-joined text back to physical line numbers."""

    def __init__(self, lines: Sequence[Line]):
        self.starts: list[int] = []
        self.numbers: list[int] = []
        pos = 0
        for ln in lines:
            self.starts.append(pos)
            self.numbers.append(ln.line)
            pos += len(ln.text) + 1
        self.text = "\n".join(ln.text for ln in lines)

    def line_at(self, offset: int) -> int:
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.numbers[max(0, i)] if self.numbers else 0


def _enumerated(text: str) -> tuple[str, list[tuple[int, int]]] | None:
    """Find the enumerators ``1、2、3、`` (or ``一:二:``, ``①②``, ``(1)(2)``) that number items in
    sequence. When several kinds appear (``一:`` groups holding ``1、`` items), the kind whose
    first marker comes first is the outer list; the inner one stays inside the items.

    Returns the preamble and the (start, end) span of each item's text, or None.
    """
    depths = depth_map(text)
    best = None
    for family in patterns.ENUMERATOR_FAMILIES:
        seq = []
        expected = 1
        for m in family.finditer(text):
            if depths[m.start("num")] != 0 and family is not patterns.PAREN_ENUM:
                continue
            if patterns.to_int(m.group("num")) == expected:
                seq.append(m)
                expected += 1
        if seq and (best is None or seq[0].start() < best[0].start()):
            best = seq
    if not best:
        return None
    spans = []
    for idx, m in enumerate(best):
        end = best[idx + 1].start() if idx + 1 < len(best) else len(text)
        spans.append((m.end(), end))
    return text[:best[0].start()], spans


def _variants(text: str) -> tuple[str, list[tuple[str, int, int]]] | None:
    """``（供电类）提供…。（燃气类）提供…`` -> preamble and (label, start, end) per variant (>= 2)."""
    depths = depth_map(text)
    found = [m for m in patterns.VARIANT_LABEL.finditer(text) if depths[m.start()] == 0
             or text[m.start()].isspace() or text[m.start()] in "（("]
    # a variant mark must open a sentence; the regex guarantees that, the depth test keeps
    # marks inside quotes out
    found = [m for m in found if not patterns.DECLARED_CHOICE.search(m.group("label"))]
    if len(found) < 2 or text[:found[0].start()].strip(" 。；;"):
        return None
    out = []
    for idx, m in enumerate(found):
        end = found[idx + 1].start() if idx + 1 < len(found) else len(text)
        out.append((m.group("label").strip(), m.end(), end))
    return "", out


def _preamble_facts(preamble: str) -> tuple[tuple[int, int] | None, bool, bool, str | None, list[str]]:
    """Declared choice, 需同时提供, uncounted choice, the declaration as written, restrictions.

    A choice whose count cannot be read (``（N选1）``) counts as a choice without a count."""
    decl = patterns.declared_choice(preamble)
    all_req = bool(patterns.ALL_REQUIRED.search(preamble))
    uncounted = bool(patterns.UNCOUNTED_CHOICE.search(preamble)) or (
        decl is None and bool(patterns.UNREADABLE_CHOICE.search(preamble)))
    declared = None
    if decl:
        declared = patterns.DECLARED_CHOICE.search(preamble).group(0)
    elif all_req:
        declared = patterns.ALL_REQUIRED.search(preamble).group(0)
    elif uncounted:
        declared = (patterns.UNCOUNTED_CHOICE.search(preamble) or patterns.UNREADABLE_CHOICE.search(preamble)).group(0)
    conditions = []
    m = patterns.LEADING_RESTRICTION.match(preamble)
    if m:
        cond = m.group("cond").strip()
        if cond:
            conditions.append(cond)
    return decl, all_req, uncounted, declared, conditions


def text_to_item(text: str, line: int | None = None, children: Sequence[Line] = ()) -> Item:
    """One entry: its label, documents, conditions, and whether it is a nested choice or bundle."""
    # a multi-line item (an enumerated entry holding its own list) is read with its line
    # breaks, so the inner list is found; its text is shown on one line
    inner_lines = [t for t in (clean(x) for x in text.split("\n")) if t]
    raw = squeeze_cjk("".join(inner_lines))
    body = raw.strip(" ，,。；;")
    label = None
    m = re.match(r"^[（(](?P<label>[^（）()《》]{1,12})[)）]\s*", body)
    if m and not patterns.DECLARED_CHOICE.search(m.group("label")):
        label, body = m.group("label").strip(), body[m.end():]
    m = patterns.ITEM_LABEL.match(body)
    if m and body[m.end():].strip():
        cand = m.group("label").strip()
        if not (patterns.ALL_REQUIRED.search(cand) or "选" in cand or cand.endswith("提供")):
            label = cand if label is None else f"{label} {cand}"
            body = body[m.end():].strip()
    conditions: list[str] = []
    m = patterns.LEADING_RESTRICTION.match(body)
    if m and body[m.end():].strip():
        conditions.append(m.group("cond").strip())
        body = body[m.end():].strip()
    body = patterns.PROVIDE_VERB.sub("", body, count=1).strip() if not patterns.ALL_REQUIRED.match(body) else body
    core, and_conds = _strip_and_conditions(body)
    conditions += and_conds + _bracket_conditions(core)
    documents = document_titles(raw + "\n" + "\n".join(c.text for c in children))

    group: Requirement | None = None
    decl = patterns.declared_choice(core)
    if decl or patterns.ALL_REQUIRED.search(core) or patterns.UNCOUNTED_CHOICE.search(core):
        # "保险机构主体提供(⑥选①):" or "需同时提供:" opens a nested list: its items are the
        # children, or the text after the declaration when the list is inline.
        m = patterns.DECLARED_CHOICE.search(core) or patterns.ALL_REQUIRED.search(core) \
            or patterns.UNCOUNTED_CHOICE.search(core)
        head = core[:m.end()]
        # the rest of the entry after the declaration, keeping the lines it was written on
        rest_lines: list[str] = []
        for n, t in enumerate(inner_lines):
            mm = (patterns.DECLARED_CHOICE.search(t) or patterns.ALL_REQUIRED.search(t)
                  or patterns.UNCOUNTED_CHOICE.search(t))
            if mm:
                tail = t[mm.end():].lstrip(")）:：， ")
                rest_lines = ([tail] if tail else []) + inner_lines[n + 1:]
                break
        sub_lines = [Line(t, line or 1) for t in rest_lines if t] + list(children)
        group = lines_to_requirement(sub_lines, header=head)
    elif children:
        group = lines_to_requirement(children, header="")
    else:
        alts = split_alternatives(core)
        if len(alts) > 1:
            group = Requirement(rule="any", pick=1, of=None, declared=patterns.OR_WORD,
                                items=tuple(text_to_item(a, line) for a in alts),
                                documents=document_titles(core))
        else:
            parts = split_bundle(core)
            if len(parts) > 1 and len(document_titles(core)) > 1:
                group = Requirement(rule="all", items=tuple(text_to_item(p, line) for p in parts),
                                    documents=document_titles(core))
    return Item(text=raw, label=label, documents=documents, conditions=tuple(conditions),
                group=group, line=line)


def _finish(rule: str, items: list[Item], decl, all_req: bool, uncounted: bool,
            declared: str | None, conditions: list[str], documents: tuple[str, ...],
            warnings: list[str] | None = None, alternatives: bool = False) -> Requirement:
    nested_missing = any(i.group is not None and i.group.items_missing for i in items)
    if decl:
        k, n = decl
        return Requirement(rule="any", pick=k, of=n, items=tuple(items),
                           items_missing=not items or nested_missing, declared=declared,
                           conditions=tuple(conditions), documents=documents,
                           warnings=tuple(warnings or ()))
    if uncounted or alternatives:
        warn = list(warnings or ())
        unreadable = uncounted and declared and patterns.UNREADABLE_CHOICE.fullmatch(declared)
        if unreadable:
            warn.append(f"declared count {declared} cannot be read: left unknown")
        return Requirement(rule="any", pick=None if unreadable else 1, of=None, items=tuple(items),
                           items_missing=(not items and not alternatives) or nested_missing, declared=declared,
                           conditions=tuple(conditions), documents=documents, warnings=tuple(warn))
    if all_req:
        return Requirement(rule="all", items=tuple(items), items_missing=not items or nested_missing,
                           declared=declared, conditions=tuple(conditions), documents=documents,
                           warnings=tuple(warnings or ()))
    return Requirement(rule=rule, items=tuple(items), items_missing=nested_missing,
                       declared=declared, conditions=tuple(conditions), documents=documents,
                       warnings=tuple(warnings or ()))


def lines_to_requirement(lines: Sequence[Line], header: str = "",
                         columns: Sequence[Sequence[Line]] | None = None, offset: int = 0) -> Requirement:
    """Read a requirement from its header (``资质要求（3选1）``) and content lines.

    ``columns``: alternative cells side by side (each a list of lines), when the layout says so.
    ``offset``: the lines stand that many lines further down than they say (a remembered table
    is not moved: ``htmltable.placed_tables``).

    The same requirement text recurs in capture after capture of a page, usually at other line
    numbers: it is read once, as if its first line were line 1, and the item lines are shifted.
    """
    firsts = [l.line for l in lines] + [l.line for col in columns or () for l in col]
    base = (min(firsts) if firsts else 1) - 1
    req = _read_at_line_1(header, _relative(lines, base),
                          None if columns is None else tuple(_relative(c, base) for c in columns))
    return req.shifted(base + offset)


def _relative(lines: Sequence[Line], base: int) -> tuple:
    return tuple((l.text, l.line - base, l.end - base if l.end else l.end, l.bullet, l.depth) for l in lines)


@lru_cache(maxsize=4096)
def _read_at_line_1(header: str, lines: tuple, columns: tuple | None) -> Requirement:
    return _lines_to_requirement([Line(*t) for t in lines], header,
                                 None if columns is None else [[Line(*t) for t in c] for c in columns])


def _lines_to_requirement(lines: Sequence[Line], header: str,
                          columns: Sequence[Sequence[Line]] | None) -> Requirement:
    header = clean(header)
    lines = [Line(clean(l.text), l.line, l.end, l.bullet, l.depth) for l in lines if clean(l.text)]
    if columns:
        columns = [[l for l in col if clean(l.text)] for col in columns]
        columns = [c for c in columns if c]
    everything = "\n".join([header] + [l.text for l in lines]
                           + [l.text for c in (columns or []) for l in c])
    documents = document_titles(everything)

    if columns and len(columns) > 1:
        decl, all_req, uncounted, declared, conds = _preamble_facts(header)
        items = [_group_item(col[0], col[1:]) for col in columns]
        return _finish("any", items, decl, False, uncounted, declared, conds, documents,
                       alternatives=True)

    if not lines:
        decl, all_req, uncounted, declared, conds = _preamble_facts(header)
        if decl or all_req or uncounted:
            return _finish("any", [], decl, all_req, uncounted, declared, conds, documents)
        return Requirement(rule="unknown", items_missing=True, documents=documents)

    if len(lines) == 1 and patterns.NONE_TEXT.match(lines[0].text):
        decl, all_req, uncounted, declared, conds = _preamble_facts(header)
        if not (decl or all_req or uncounted):
            return Requirement(rule="none", declared=lines[0].text.strip() or None)

    # 2. list bullets
    bullets = [l for l in lines if l.bullet]
    if bullets:
        top = min(b.depth for b in bullets)
        first = next(i for i, l in enumerate(lines) if l.bullet and l.depth == top)
        preamble = "\n".join([header] + [l.text for l in lines[:first]])
        segments: list[_Segment] = []
        for l in lines[first:]:
            if l.bullet and l.depth == top:
                segments.append(_Segment(l.text, l.line))
            elif segments:
                last = segments[-1]
                segments[-1] = _Segment(last.text, last.line, last.children + (l,))
        decl, all_req, uncounted, declared, conds = _preamble_facts(preamble)
        items = [text_to_item(s.text, s.line, s.children) for s in segments]
        return _finish("all", items, decl, all_req, uncounted, declared, conds, documents,
                       _unannounced(decl, all_req, uncounted, items))

    index = _LineIndex(lines)
    text = index.text

    # 3. "…的场景" groups
    heads = [i for i, l in enumerate(lines) if patterns.SCENARIO_GROUP_HEADER.search(l.text)]
    if len(heads) >= 2:
        pre = "\n".join([header] + [l.text for l in lines[:heads[0]]])
        decl, all_req, uncounted, declared, conds = _preamble_facts(pre)
        bounds = heads + [len(lines)]
        items = [_group_item(lines[a], lines[a + 1:b]) for a, b in zip(bounds, bounds[1:])]
        return _finish("any", items, decl, False, uncounted, declared, conds, documents,
                       alternatives=True)

    # 4. enumerators
    found = _enumerated(text)
    if found:
        pre, spans = found
        decl, all_req, uncounted, declared, conds = _preamble_facts(header + "\n" + pre)
        items = [text_to_item(text[a:b], index.line_at(a)) for a, b in spans]
        return _finish("all", items, decl, all_req, uncounted, declared, conds, documents,
                       _unannounced(decl, all_req, uncounted, items))

    flat = text.replace("\n", "")
    decl, all_req, uncounted, declared, conds = _preamble_facts(header + "\n" + flat)
    body = flat
    m = patterns.LEADING_RESTRICTION.match(body)
    if m and body[m.end():].strip():
        body = body[m.end():]

    # 5. per-variant sentences
    var = _variants(body.strip())
    if var:
        _, parts = var
        stripped = body.strip()
        items = [text_to_item(f"（{label}）" + stripped[a:b], lines[0].line) for label, a, b in parts]
        return _finish("any", items, decl, all_req, uncounted, declared, conds, documents,
                       alternatives=not (decl or all_req))

    # 6. several lines without numbers or bullets (a copy lost the list marks): one item each,
    # after any leading declaration lines (``（3选1）``, ``需同时提供：``)
    if len(lines) > 1:
        head = 0
        while head < len(lines) - 1 and _is_declaration(lines[head].text):
            head += 1
        rest = lines[head:]
        if len(rest) > 1:
            pre = "\n".join([header] + [l.text for l in lines[:head]])
            decl, all_req, uncounted, declared, conds = _preamble_facts(pre)
            items = [text_to_item(l.text, l.line) for l in rest]
            return _finish("all", items, decl, all_req, uncounted, declared, conds, documents,
                           _unannounced(decl, all_req, uncounted, items))

    # 7. 或 next to a title
    alts = split_alternatives(body)
    if len(alts) > 1:
        items = [text_to_item(a, lines[0].line) for a in alts]
        return _finish("any", items, decl, all_req, uncounted, patterns.OR_WORD if not declared else declared,
                       conds, documents, alternatives=True)

    # 8. one statement: everything in it is required
    core = patterns.DECLARED_CHOICE.sub("", body) if decl else body
    if decl or all_req or uncounted:
        # a declaration followed by a single unnumbered statement: the statement is its only item
        rest = re.sub(r"^[\s（()）:：]*", "", patterns.ALL_REQUIRED.sub("", core, count=1)).strip()
        items = [text_to_item(rest, lines[0].line)] if rest else []
        return _finish("all", items, decl, all_req, uncounted, declared, conds, documents)
    _, and_conds = _strip_and_conditions(body)
    parts = split_bundle(_strip_and_conditions(body)[0])
    items = [text_to_item(p, lines[0].line) for p in parts]
    return _finish("all", items, None, False, False, declared, conds, documents)


def _is_declaration(text: str) -> bool:
    """A line that only declares the rule: ``（3选1）：``, ``需同时提供:``, ``仅支持…，（2选1）``."""
    if patterns.DOCUMENT_TITLE.search(text):
        return False
    return bool(patterns.DECLARED_CHOICE.search(text) or patterns.ALL_REQUIRED.search(text)
                or patterns.UNCOUNTED_CHOICE.search(text))


def _group_item(head: Line, body: Sequence[Line]) -> Item:
    """One alternative column / scenario group: its header is the label, its body a bundle."""
    label = clean(head.text).strip(" ：:")
    group = lines_to_requirement(body, header="") if body else None
    docs = document_titles("\n".join([head.text] + [l.text for l in body]))
    return Item(text=label, label=label, documents=docs, group=group, line=head.line)


def _unannounced(decl, all_req: bool, uncounted: bool, items: list[Item]) -> list[str]:
    if decl or all_req or uncounted or len(items) < 2:
        return []
    return ["a list of items without a declared rule (N选1 / 需同时提供): read as all required"]


def text_to_requirement(text: str, header: str = "", line: int = 1) -> Requirement:
    """Convenience for tests and one-cell formats: split ``text`` on line breaks first."""
    lines = [Line(t, line + i) for i, t in enumerate(text.split("\n"))]
    return lines_to_requirement(lines, header=header)
