"""Qualification text -> ``Requirement``: the one place that decides any / all / none / unknown.

Input is what a parser found under a ``资质要求`` heading or in a qualification cell: an optional
header (``资质要求（3选1）``) and the logical lines of the content, or explicit alternative
columns. Every decision is made from the wording (see ``patterns``), never from a category name.

The grammar has two levels, both here; every phrase it matches is in ``patterns``.

A requirement: its declaration, then its entries, in this order of layouts:
1. explicit alternative columns (two ``<td>`` scenario cells)         -> any, each a bundle
2. list bullets (``<li>``)                                            -> items
3. ``…的场景`` group headers                                           -> any over the groups
4. enumerators ``1、`` ``2.`` ``一:`` ``①`` in sequence                -> items
5. variants at sentence starts: ``（供电类）…。（燃气类）…``, ``批发：…；零售：…``,
   ``政府/事业单位，提供…\n非政府/事业单位，提供…``                  -> any over the variants
6. several unnumbered lines (list marks lost in a copy; a line ending on 或/和 continues)
                                                                     -> one item per line
7. otherwise one statement, read as one entry: a choice inside it     -> any over its parts;
   a bundle inside it                                                 -> all over its parts
A heading (a column's ``《增值电信业务经营许可证》不予受理的场景``, a ``…的场景`` group) or a lead-in
that opens a nested list (``《增值电信业务经营许可证》申请时，所需资质文件如下：``) is the label of
its branch or list (``label`` = its text), not an entry requiring what it names: a title only a
label names is not among the branch's ``documents`` (in that branch the applicant by definition
lacks the licence; it needs the refusal notice and the application files). The lead-in's own entry
lists the title it writes (an entry's ``documents`` are every title written in it) and the record's
``documents`` are every title in the text.
The rule of 2./3./4./6. comes from the text before the first item (``patterns.declaration``): a
declared ``N选K`` -> any (``of``=N), ``需同时提供`` -> all, neither -> all with a warning, except
that entries each with a label (公立学校 / 私立学校) are variants: any. An empty content is
``unknown``; ``-`` or ``/`` is ``none``. ``items_missing`` is set when a rule is declared but no
item follows, at any depth. A restriction that says it covers all (``均需…``) is the
requirement's, wherever it stands.

An entry (``text_to_item``), in stages:
a. restriction ``仅支持…``; label ``（供电类）``, ``公立学校：``, ``事业单位主体，需提供``;
b. a declaration that opens a nested list (``保险机构主体提供(⑥选①):``, ``需同时提供:``);
c. a choice: ``或`` / ``或者`` / ``，或`` where both sides name a document (a 《》 title, or a name
   ending in a document noun: ``合作协议或授权文件``); 或 binds loosest. A bare name after
   ``X的A`` shares X: ``电商平台对入驻经营者的审核要求或规范文件`` is a choice of two forms of one
   material (the platform's rules for its merchants), ``电商平台对入驻经营者的审核要求`` or
   ``电商平台对入驻经营者的规范文件``. The entry keeps its whole text; each alternative keeps its
   own words as ``text`` (verbatim: ``规范文件``), and one written without the modifier gets it as
   its ``label`` (``电商平台对入驻经营者的``), so label + text is the name and no alternative is
   published as a fragment. Kept as a choice, not one entry, because 或 between two document
   nouns offers a choice wherever else it stands (``合作协议或授权文件``); a side with its own
   的 or a 《》 title (``…的审批设立证明 或 《事业单位法人证书》``) is whole and gets no label.
   A note closing the choice that declares it and says one alternative is a bundle
   (``《保险公司法人许可证和经营保险业务许可证》或《保险兼业代理许可证》或…（说明：四选一，如果选
   第一个，需要同时提供两个资质）``) is read: that alternative is ``all`` of the documents its
   title joins (保险公司法人许可证, 经营保险业务许可证), each a real title in ``documents``, here and
   in the record's ``documents``; the note leaves the last alternative's text. A title is cut on
   和 only there (``《卫生和计划生育委员会批文》`` is one title); where the note does not fit what
   is listed (another count, a title that does not cut into that many documents) it is kept as
   text with a warning;
d. a bundle: ``与 及 以及 和 、 +`` (or titles side by side) on the same condition;
e. a single document: its ``且…`` / ``，并…`` clause and its parenthesised restrictions are its
   conditions; ``（或A、B）`` lists alternatives to it; ``X（A或B）`` labels the choice by X.
Nothing splits inside brackets, quotes or a ``且`` clause, or across a sentence end. Where the
grammar reads but cannot be sure (或 mixed with 和 in one sentence, several sentences in one
entry, a note stating a rule, an unclosed bracket, ``《…）``), the record keeps the text and says
so in ``warnings``.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import Sequence

from pipeline.parsers import patterns
from pipeline.core.errors import PipelineWarning, warning
from pipeline.core.model import Item, Line, Requirement
from pipeline.core.normalize import clean, squeeze_cjk


def document_titles(text: str) -> tuple[str, ...]:
    """Every 《》 title, without the marks, in first-appearance order, without duplicates.

    A title closed by a round bracket (``《网络文化经营许可证）``) counts; ``rules`` warns of it."""
    seen: dict[str, None] = {}  # (ordered, and a lookup per title: a cell may list 60,000 of them)
    found = list(patterns.DOCUMENT_TITLE.finditer(text))
    if "《" in text and ("）" in text or ")" in text):
        found = sorted(found + list(patterns.MALFORMED_TITLE.finditer(text)), key=lambda m: m.start())
    for m in found:
        title = squeeze_cjk(clean(m.group("title")))
        if title:
            seen.setdefault(title)
    return tuple(seen)


# Brackets pair within a family, whatever their width: ``(经营范围含网络表演）`` opens with a
# half-width and closes with a full-width bracket (real revisions of the 1078 page).
_FAMILY = {"（": "round", "(": "round", "）": "round", ")": "round",
           "《": "title", "》": "title", "“": "quote", "”": "quote", "‘": "quote", "’": "quote",
           "「": "quote", "」": "quote", "[": "square", "]": "square", "【": "square", "】": "square"}
_OPEN = "（(《“‘「[【"
_CLOSE = "）)》”’」]】"


def depth_map(text: str) -> tuple[int, ...]:
    """Nesting depth of every character: inside ``（）``, ``《》``, ``“”``, ``【】`` counts.

    An unclosed bracket (``(范围均需含…`` at the end of a cell) keeps the rest nested, which is
    what a reader does too. A straight ``"`` toggles. A title closed by a round bracket
    (``《网络文化经营许可证）（适用于…）或《…》``: no ``》`` before the next ``《``) ends there.
    """
    depth, stack, out, in_quote = 0, [], [], False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quote = not in_quote
            out.append(depth + 1)
            continue
        if ch in _OPEN:
            stack.append(_FAMILY[ch])
            depth += 1
            out.append(depth)
            continue
        out.append(depth + (1 if in_quote else 0))
        if ch in _CLOSE and stack:
            family = _FAMILY[ch]
            if family != "quote" and stack[-1] == "quote" and family in stack:
                # a quote left open inside a bracket ends with it: （…“在线数据处理与交易处理业务“或“…”）
                while stack[-1] == "quote":
                    stack.pop()
                    depth -= 1
            if stack[-1] == family or (stack[-1] == "title" and family == "round"
                                       and _title_left_open(text, i)):
                stack.pop()
                depth -= 1
    return tuple(out)


def _title_left_open(text: str, i: int) -> bool:
    """Is the 《 before ``i`` never closed by 》 (the next 《 or the end comes first)?"""
    close, reopen = text.find("》", i), text.find("《", i)
    return close < 0 or 0 <= reopen < close


def malformed_titles(text: str, line: int | None = None) -> list[PipelineWarning]:
    """Warnings for titles closed by a round bracket: ``《网络文化经营许可证）`` (read as the title)."""
    return [warning("malformed_title", f"title {m.group(0)} is closed by a round bracket: read as "
                                       f"《{m.group('title')}》", line=line)
            for m in patterns.MALFORMED_TITLE.finditer(text)]


# --- the entry grammar: choices (或), bundles (与/及/和/、/+), conditions, labels ----------------

def _condition_spans(text: str, depths: Sequence[int]) -> list[tuple[int, int]]:
    """Where each restriction clause (``且…``, ``，并…``) runs: from its word to the end of the
    sentence, or to a joiner that is followed by a 《》 title (``…“财经投资类互联网电子公告服务”和
    深圳证券交易所《…》``: the clause ends before 和). Nothing inside a clause splits the entry."""
    spans = []
    pos = 0
    while True:
        m = _first_condition(text, pos)
        if m is None:
            return spans
        start, end = m.start("cond"), len(text)
        for j in range(m.end(), len(text)):
            if depths[j] != 0:
                continue
            if text[j] in "。；;":
                end = j
                break
            joiner = patterns.OR_JOINER.match(text, j) or patterns.AND_JOINERS.match(text, j)
            if joiner and joiner.group(0).strip() and "《" in _segment_after(text, joiner.end()):
                end = j
                break
        spans.append((start, end))
        pos = end + 1
        if pos >= len(text):
            return spans


def _first_condition(text: str, pos: int = 0) -> re.Match | None:
    """The first restriction clause (``且…``, ``，并…``) at the top level of ``text`` from ``pos``,
    not at its very start."""
    depths = depth_map(text)
    return next((m for m in patterns.CONDITION_CLAUSE.finditer(text, pos)
                 if depths[m.start("cond")] == 0 and m.start("cond") > 0), None)


def _segment_after(text: str, j: int) -> str:
    """The text after a joiner up to the next sentence end: what that joiner brings in."""
    m = patterns.NEXT_JOINER.search(text, j)
    return text[j:m.start() if m else len(text)]


def _split_depths(text: str) -> list[int]:
    """Depths for splitting: a restriction clause counts as nested."""
    depths = list(depth_map(text))
    for a, b in _condition_spans(text, depths):
        for k in range(a, b):
            depths[k] += 1
    return depths


def _names_document(segment: str) -> bool:
    """Does ``segment`` name a document: a 《》 title, or a name ending in a document noun
    (``合作协议``, ``营业执照（包含…）``, ``审批设立证明``)? A restriction clause after it is ignored."""
    s = segment.strip(" ，,。；;:：\n")
    if not s:
        return False
    if "《" in s:
        return True
    s = split_condition(s)[0]
    s = re.sub(r"(?:[（(][^（）()]*[)）]\s*)+$", "", s).strip(" “”\"'‘’")
    return bool(patterns.DOCUMENT_NOUN.search(s))


def _cut(text: str, joiners: re.Pattern, not_split: re.Pattern,
         extra: Sequence[tuple[int, int]] = ()) -> list[str]:
    """``text`` cut at the joiners (top level, not inside a restriction clause) that stand
    between two segments each naming a document; ``[text]`` when none does."""
    depths = _split_depths(text)
    cands = []
    for m in joiners.finditer(text):
        lead = len(m.group(0)) - len(m.group(0).lstrip("，,、 \n"))
        word = m.start() + (lead if lead < len(m.group(0)) else 0)
        if word >= len(text) or depths[word] != 0 or not_split.match(text, word):
            continue
        cands.append((m.start(), m.end()))
    cands = sorted(set(cands) | set(extra))
    kept: list[tuple[int, int]] = []
    # from the right: a joiner's left side runs back to the joiner before it, split or not (in
    # ``《A》和X、Y证`` the 、 has X on its left, not 《A》); its right side runs on to the next
    # joiner that splits (``《B》和X、Y证和《C》``: 和 has X、Y证 on its right)
    for idx in range(len(cands) - 1, -1, -1):
        i, j = cands[idx]
        prev = cands[idx - 1][1] if idx else 0
        left, right = text[prev:i], text[j:kept[0][0] if kept else len(text)]
        # never across a sentence end: ``认证主体需为…。如非对应单位，需提供对应单位授权或合作协议``
        if (i, j) in extra or (_names_document(left) and _names_document(right)
                               and "。" not in left.rstrip("。 ") and "。" not in right.rstrip("。 ")):
            kept.insert(0, (i, j))
    if not kept:
        return [text]
    parts, start = [], 0
    for i, j in kept:
        parts.append(text[start:i])
        start = j
    parts.append(text[start:])
    return [p.strip(" ，,。；;\n") for p in parts if p.strip(" ，,。；;\n")]


def split_alternatives(text: str) -> list[str]:
    """``《A》或《B》或C文件`` -> ``['《A》', '《B》', 'C文件']``; ``[text]`` when nothing splits.

    ``或`` / ``或者`` / ``，或`` split where both sides name a document (``合作协议或授权文件``,
    ``官方授权或协议，或公开可查询的文件``), never inside brackets, quotes or a ``且`` clause."""
    return _cut(text, patterns.OR_JOINER, patterns.OR_NOT_SPLIT)


def split_bundle(text: str) -> list[str]:
    """Documents that are all required: ``《A》与《B》及《C》`` -> three parts.

    Joiners split where both sides name a document (``《医疗机构执业许可证》与执业登记机关的审核合格
    文件``), so ``证券、期货投资咨询`` or ``卫生和计划生育委员会批文`` stay whole; titles side by
    side (``《A》《B》``) are a bundle too."""
    depths = depth_map(text)
    adjacent = [(m.start() + 1, m.end()) for m in patterns.ADJACENT_TITLES.finditer(text)
                if depths[m.start()] == 1]
    return _cut(text, patterns.AND_JOINERS, patterns.AND_NOT_SPLIT, adjacent)


def split_condition(text: str) -> tuple[str, list[str]]:
    """``《A》，且其中须有“驾驶员培训”项目`` -> (``《A》``, [``且其中须有“驾驶员培训”项目``])."""
    m = _first_condition(text)
    if m is None:
        return text, []
    return text[:m.start()].rstrip(" ，,"), [text[m.start("cond"):].strip(" 。；;\n")]


def _parentheticals(text: str) -> list[tuple[int, int, str, bool]]:
    """Every top-level parenthetical as (start, end, inner text, closed). An unclosed one runs
    to the end (``(范围均需含“互联网诊疗”…``). One inside a word (``县（区）级``, ``剧（节）目``,
    ``省（自治区、直辖市）金融办``) is part of that word and not returned."""
    # one character more: its depth says whether the last bracket closed
    depths = depth_map(text + "\u3000")
    out, i = [], 0
    while i < len(text):
        if text[i] in "（(" and depths[i] == 1:
            j = i + 1
            while j < len(text) and not (text[j] in "）)" and depths[j + 1] == 0):
                j += 1
            closed = j < len(text)
            after = text[j + 1:].lstrip() if closed else ""
            if not closed or not after or after[0] in "，,。；;、:：（(《)）" or \
                    patterns.AND_JOINERS.match(after) or after[0] in "或且并":
                out.append((i, j + 1 if closed else len(text), text[i + 1:j], closed))
            i = j + 1
        else:
            i += 1
    return out


def _remark_conditions(text: str) -> list[str]:
    """Parenthesised restrictions: ``（经营范围含网络表演）`` -> ``经营范围含网络表演``. Notes and
    examples (``（注：…）``, ``（如…）``), alternatives (``（或…）``), declarations and titles are not
    restrictions."""
    out = []
    for _, _, inner, _ in _parentheticals(text):
        inner = inner.strip()
        if (inner and "《" not in inner and not patterns.DECLARED_CHOICE.search(inner)
                and not patterns.NOTE_PARENTHETICAL.match(inner)
                and not patterns.OR_PARENTHETICAL.match(inner)):
            out.append(inner)
    return out


def _parenthetical_choice(body: str) -> tuple[str | None, list[str]] | None:
    """A name with a parenthetical that lists alternatives:
    ``营业执照（或事业单位法人证书、民办非企业单位登记证书）`` -> (None, [营业执照, 事业单位法人证书, …]);
    ``官方指定联网售票平台(授权或协议或公开可查询文件)`` -> (label 官方指定联网售票平台, [授权, 协议, …])
    when the name before it is not itself a document."""
    found = _parentheticals(body)
    if len(found) != 1:
        return None
    a, b, inner, closed = found[0]
    head, tail = body[:a].strip(), body[b:].strip(" 。；;，,")
    if not closed or tail or not head:
        return None
    if patterns.OR_PARENTHETICAL.match(inner):
        rest = patterns.OR_PARENTHETICAL.sub("", inner, count=1)
        alts = [x for x in patterns.ALTERNATIVE_LIST_SEPARATOR.split(rest) if x]
        if alts and all(_names_document(x) for x in alts) and _names_document(head):
            return None, [head] + alts
        return None
    alts = split_alternatives(inner)
    if len(alts) > 1 and not _names_document(head):
        return head, alts
    return None


def _entry_label(body: str) -> tuple[str | None, str]:
    """Who or what variant the entry is for, and the rest: ``（供电类）…``, ``公立学校：…``,
    ``事业单位主体，需提供…``, ``官方指定的发行单位（一发单位），需提供…``."""
    label = None
    m = re.match(r"^[（(](?P<label>[^（）()《》]{1,12})[)）]\s*", body)
    if m and not patterns.DECLARED_CHOICE.search(m.group("label")):
        label, body = m.group("label").strip(), body[m.end():]
    m = patterns.ITEM_LABEL.match(body)
    if m and body[m.end():].strip():
        cand = m.group("label").strip()
        if not (patterns.ALL_REQUIRED.search(cand) or "选" in cand or cand.endswith(("提供", "提交"))):
            label = cand if label is None else f"{label} {cand}"
            body = body[m.end():].strip()
            return label, body
    m = patterns.SUBJECT_LABEL.match(body)
    if m and not patterns.LEADING_RESTRICTION.match(body) and "《" not in m.group("label") \
            and not _names_document(m.group("label")):
        cand = m.group("label").strip()
        label = cand if label is None else f"{label} {cand}"
        body = body[m.end("label"):].lstrip(" ，,")
    return label, body


def _nested_declaration(core: str) -> re.Match | None:
    """A declaration that opens a nested list: at the top level of the entry, or a bracket that
    holds nothing else (``保险机构主体提供(⑥选①):``); never one inside a remark
    (``（说明：四选一，如果选第一个，需要同时提供两个资质）``)."""
    depths = depth_map(core)
    for family in (patterns.DECLARED_CHOICE, patterns.ALL_REQUIRED, patterns.UNCOUNTED_CHOICE):
        for m in family.finditer(core):
            if depths[m.start()] == 0:
                return m
            before, after = core[:m.start()].rstrip(), core[m.end():].lstrip()
            if before[-1:] in "（(" and after[:1] in "）)" and depths[m.start()] == 1:
                return m
    return None


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
        self.lines = list(lines)
        pos = 0
        for ln in lines:
            self.starts.append(pos)
            self.numbers.append(ln.line)
            pos += len(ln.text) + 1
        self.text = "\n".join(ln.text for ln in lines)

    def line_at(self, offset: int) -> int:
        """The physical line: a line's own breaks (an HTML cell keeps the source's) count too."""
        if not self.numbers:
            return 0
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        ln = self.lines[i]
        below = ln.line + ln.text.count("\n", 0, max(0, offset - self.starts[i]))
        return min(below, ln.end) if ln.end else below


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


def _variants(text: str) -> list[tuple[int, int]] | None:
    """Entries each for one variant or subject, at sentence starts: ``（供电类）提供…。（燃气类）
    提供…``, ``批发：…；零售：…``, ``政府/事业单位，提供…\n非政府/事业单位，提供…``. The
    (start, end) of each variant's text when two or more of one kind open it, else None."""
    depths = depth_map(text)
    for family in (patterns.VARIANT_LABEL, patterns.VARIANT_COLON_LABEL, patterns.VARIANT_SUBJECT_LABEL):
        found = [m for m in family.finditer(text)
                 if depths[m.start("label")] <= (1 if family is patterns.VARIANT_LABEL else 0)
                 and not patterns.DECLARED_CHOICE.search(m.group("label"))
                 and not patterns.ALL_REQUIRED.search(m.group("label"))
                 and not m.group("label").strip().endswith(("提供", "提交"))]
        if family is patterns.VARIANT_SUBJECT_LABEL:
            found = [m for m in found if not patterns.LEADING_RESTRICTION.match(m.group("label"))
                     and not _names_document(m.group("label"))]
        if len(found) < 2 or text[:found[0].start()].strip(" 。；;\n"):
            continue
        return [(m.start(), found[i + 1].start() if i + 1 < len(found) else len(text))
                for i, m in enumerate(found)]
    return None


def _preamble_facts(preamble: str) -> tuple[tuple[int, int] | None, bool, bool, str | None, list[str]]:
    """Declared choice, 需同时提供, uncounted choice, the declaration as written, restrictions.

    A choice whose count cannot be read (``（N选1）``) counts as a choice without a count."""
    d = patterns.declaration(preamble)
    conditions = []
    m = patterns.LEADING_RESTRICTION.match(preamble)
    if m:
        cond = m.group("cond").strip()
        if cond:
            conditions.append(cond)
    return d.choice, d.all_required, d.uncounted, d.text, conditions


def text_to_item(text: str, line: int | None = None, children: Sequence[Line] = ()) -> Item:
    """One entry, in stages: its label (``公立学校：``, ``（供电类）``, ``事业单位主体，需提供``), a
    restriction (``仅支持…``), a nested list opened by a declaration (``保险机构主体提供(⑥选①):``),
    then a choice inside it (``或``), a bundle (``与`` / ``及`` / ``、`` …), alternatives in a
    parenthetical (``（或…）``), and the restrictions on a single document (``且…``, ``（经营范围含…）``).
    ``text`` is kept as written."""
    # a multi-line item (an enumerated entry holding its own list) is read with its line
    # breaks, so the inner list is found; its text is shown on one line
    inner_lines = [t for t in (clean(x) for x in text.split("\n")) if t]
    raw = squeeze_cjk("".join(inner_lines))
    body = raw.strip(" ，,。；;")
    conditions: list[str] = []
    m = patterns.LEADING_RESTRICTION.match(body)
    if m and body[m.end():].strip():
        conditions.append(m.group("cond").strip())
        body = body[m.end():].strip()
    label, body = _entry_label(body)
    body = patterns.PROVIDE_VERB.sub("", body, count=1).strip() if not patterns.ALL_REQUIRED.match(body) else body
    documents = document_titles(raw + "\n" + "\n".join(c.text for c in children))

    group: Requirement | None = None
    decl = _nested_declaration(body)
    if decl:
        group, subject = _declared_list(body, decl, inner_lines, children, line)
        label = subject if label is None else label
    elif children:
        group = lines_to_requirement(children, header="")
        if patterns.LIST_LEAD_IN.search(raw):
            # "《增值电信业务经营许可证》申请时，所需资质文件如下：" names the list it opens: the
            # label of that list, not a document (its title is not carried up: _branch_documents)
            label = raw.strip(" ：:")
    else:
        group, own, named = _entry_group(body, line)
        conditions += own
        label = label if named is None else (named if label is None else f"{label} {named}")
    if group is not None:
        documents = _with_parts(documents, group.items)
    return Item(text=raw, label=label, documents=documents, conditions=tuple(conditions),
                group=group, line=line)


def _declared_list(body: str, decl: re.Match, inner_lines: Sequence[str], children: Sequence[Line],
                   line: int | None) -> tuple[Requirement, str | None]:
    """"保险机构主体提供(⑥选①):" or "需同时提供:" opens a nested list: its items are the children,
    or the text after the declaration when the list is inline; the subject before it (returned
    second) is the entry's label."""
    head = body[:decl.end()]
    subject = patterns.SUBJECT_PROVIDES.match(body[:decl.start()].rstrip(" （(:："))
    rest_lines: list[str] = []
    for n, t in enumerate(inner_lines):
        mm = _nested_declaration(t)
        if mm:
            tail = t[mm.end():].lstrip(")）:：， ")
            rest_lines = ([tail] if tail else []) + list(inner_lines[n + 1:])
            break
    sub_lines = [Line(t, line or 1) for t in rest_lines if t] + list(children)
    return lines_to_requirement(sub_lines, header=head), subject.group("label").strip() if subject else None


def _entry_group(body: str, line: int | None) -> tuple[Requirement | None, list[str], str | None]:
    """The choice or bundle inside an entry, or the restrictions of its single document; and a
    label the entry states in its own words (``官方指定联网售票平台(授权或协议…)``)."""
    if _whole_quote(body):
        # "需提供“官方授权或协议，或公开可查询的文件”": the quotes hold the names
        body = body[1:-1]
    found = _parentheticals(body)
    if found and found[-1][3] and found[-1][1] == len(body) and patterns.APPLIES_TO.match(found[-1][2]) \
            and len(split_alternatives(body[:found[-1][0]])) == 1 and len(split_bundle(body[:found[-1][0]])) > 1:
        # a qualifier after a bundle is for the whole entry; after a choice, for its last alternative
        group, conditions, label = _entry_group(body[:found[-1][0]].rstrip(), line)
        return group, conditions + [found[-1][2].strip()], label
    alts = split_alternatives(body)
    if len(alts) > 1:
        return _choice_group(alts, line), [], None
    parts = split_bundle(body)
    if len(parts) > 1:
        return Requirement(rule="all", items=tuple(text_to_item(p, line) for p in parts),
                           documents=document_titles(body)), [], None
    core, conditions = split_condition(body)
    choice = _parenthetical_choice(core)
    if choice:
        label, names = choice
        # with a label, the name before the parenthetical says who, the parenthetical what
        items = tuple(text_to_item(n, line) for n in names)
        return Requirement(rule="any", pick=1, of=None, declared="或", items=items,
                           documents=document_titles(core)), conditions, label
    return None, conditions + _remark_conditions(core), None


def _choice_group(alts: list[str], line: int | None) -> Requirement:
    """The alternatives of ``A或B或C`` as a choice: a note that says one of them is a bundle is
    read (``_bundle_note``), and a bare name after ``X的A`` keeps the modifier X
    (``_share_modifier``)."""
    note = _bundle_note(alts)
    declared_of, bundled = None, {}
    if note is not None:
        alts, declared_of, which, parts = note
        bundled[which] = parts
    items = [text_to_item(a, line) for a in alts]
    items = [_title_bundle_item(it, bundled[k], line) if bundled.get(k) else it
             for k, it in enumerate(items)]
    items = _share_modifier(items)
    return Requirement(rule="any", pick=1, of=declared_of, declared="或", items=tuple(items),
                       documents=_union(i.documents for i in items))


def _bundle_note(alts: list[str]) -> tuple[list[str], int, int, list[str]] | None:
    """A note closing the last alternative that declares the choice and says one alternative is
    a bundle: ``…或《经营保险经纪业务许可证》（说明：四选一，如果选第一个，需要同时提供两个资质）``.
    Returns the alternatives without the note, the declared count, the index of that alternative
    and the names of its documents (empty when it is written as a bundle already); None when
    there is no such note or it does not fit what is listed (the note is then kept as text and
    ``_structure_warnings`` says so)."""
    found = _parentheticals(alts[-1])
    if not found:
        return None
    a, b, inner, closed = found[-1]
    m = patterns.BUNDLED_ALTERNATIVE_NOTE.match(inner)
    if not m or not closed or alts[-1][b:].strip(" 。；;，,"):
        return None
    n, which = patterns.to_int(m.group("n")), patterns.to_int(m.group("which"))
    count = 2 if m.group("both") else patterns.to_int(m.group("count"))
    if n != len(alts) or not which or which > n or not count or count < 2:
        return None
    alts = alts[:-1] + [alts[-1][:a].rstrip(" ，,")]
    target = alts[which - 1]
    if len(split_bundle(target)) == count:
        return alts, n, which - 1, []
    parts = _title_parts(target, count)
    return None if parts is None else (alts, n, which - 1, parts)


def _title_parts(text: str, count: int) -> list[str] | None:
    """``《保险公司法人许可证和经营保险业务许可证》`` read as ``count`` documents: the title cut at
    its joiners, when that gives exactly ``count`` names each of a document; None otherwise.
    Only a note that says the alternative is a bundle leads here: ``《…和…》`` is otherwise one
    title."""
    m = patterns.DOCUMENT_TITLE.fullmatch(text.strip())
    if not m:
        return None
    parts = [p.strip() for p in patterns.TITLE_BUNDLE_JOINER.split(m.group("title"))]
    if len(parts) != count or not all(p and _names_document(p) for p in parts):
        return None
    return parts


def _title_bundle_item(item: Item, parts: list[str], line: int | None) -> Item:
    """One alternative whose title holds several documents: its text as written, its documents
    each title, a bundle of them as its group."""
    group = Requirement(rule="all", items=tuple(Item(text=p, documents=(p,), line=line) for p in parts),
                        documents=tuple(parts))
    return replace(item, documents=tuple(parts), group=group)


def _share_modifier(items: list[Item]) -> list[Item]:
    """``电商平台对入驻经营者的审核要求或规范文件``: the bare names after the first alternative
    (``规范文件``, no 的 and no 《》 of their own) share its modifier (``电商平台对入驻经营者的``).
    Their text stays as written; the modifier becomes their label, so each alternative reads as
    a whole name (label + text) and none is published as a fragment."""
    first = items[0].text.strip(" ，,。；;")
    m = patterns.SHARED_MODIFIER.match(first)
    if (not m or items[0].group is not None or items[0].label is not None
            or depth_map(first)[m.end("modifier") - 1] != 0 or not _names_document(m.group("name"))):
        return items
    out = [items[0]]
    for it in items[1:]:
        name = it.text.strip(" ，,。；;")
        if (it.group is None and it.label is None and not patterns.OWN_MODIFIER.search(name)
                and _names_document(name)):
            it = replace(it, label=m.group("modifier"))
        out.append(it)
    return out


def _union(lists) -> tuple[str, ...]:
    """The titles of several lists, in first-appearance order, each once."""
    return tuple(dict.fromkeys(t for titles in lists for t in titles))


def _with_parts(titles: Sequence[str], items: Sequence[Item]) -> tuple[str, ...]:
    """``titles`` with each title the entries read as several documents (a note said so:
    ``保险公司法人许可证和经营保险业务许可证``) replaced by those documents, so that a record's
    ``documents`` name only titles that exist."""
    parts = _title_splits(items)
    return _union(parts.get(t, (t,)) for t in titles)


def _title_splits(items: Sequence[Item]) -> dict[str, tuple[str, ...]]:
    """Titles written as one that an entry reads as several documents: the entry's text is that
    one title, its documents are others."""
    out: dict[str, tuple[str, ...]] = {}
    for it in items:
        title = _one_title(it.text)
        if title and it.documents and title not in it.documents:
            out[title] = it.documents
        if it.group is not None:
            out.update(_title_splits(it.group.items))
    return out


def _one_title(text: str) -> str | None:
    """The title when ``text`` is one 《》 title and nothing else, as ``document_titles`` spells it."""
    m = patterns.DOCUMENT_TITLE.fullmatch(text.strip(" ，,。；;"))
    return squeeze_cjk(clean(m.group("title"))) if m else None


def _inner_sentence_end(text: str) -> bool:
    depths = depth_map(text)
    body = text.rstrip(" 。；;")
    return any(ch == "。" and depths[k] == 0 for k, ch in enumerate(body))


def _whole_quote(text: str) -> bool:
    if len(text) < 2 or text[0] not in "“\"" or text[-1] not in "”\"":
        return False
    depths = depth_map(text)
    return all(d > 0 for d in depths[:-1])


def _finish(rule: str, items: list[Item], decl, all_req: bool, uncounted: bool,
            declared: str | None, conditions: list[str], documents: tuple[str, ...],
            warnings: list[PipelineWarning] | None = None, alternatives: bool = False) -> Requirement:
    items, hoisted = _hoist_covering_conditions(items)
    documents = _with_parts(documents, items)
    conditions = list(conditions) + [c for c in hoisted if c not in conditions]
    warnings = list(dict.fromkeys(list(warnings or ()) + _structure_warnings(items)
                                  + [w for i in items if i.group is not None for w in i.group.warnings]))
    if not (decl or all_req or uncounted or alternatives) and len(items) > 1 \
            and all(i.label for i in items):
        # entries each for one variant or subject (公立学校 / 私立学校, 政府 / 非政府): one applies
        alternatives = True
        warnings = [w for w in warnings if w != _NO_DECLARED_RULE]
    nested_missing = any(i.group is not None and i.group.items_missing for i in items)
    if decl:
        k, n = decl
        return Requirement(rule="any", pick=k, of=n, items=tuple(items),
                           items_missing=not items or nested_missing, declared=declared,
                           conditions=tuple(conditions), documents=documents,
                           warnings=tuple(warnings))
    if uncounted or alternatives:
        unreadable = uncounted and declared and patterns.UNREADABLE_CHOICE.fullmatch(declared)
        if unreadable:
            warnings.append(warning("unreadable_count", f"declared count {declared} cannot be read: left unknown"))
        return Requirement(rule="any", pick=None if unreadable else 1, of=None, items=tuple(items),
                           items_missing=(not items and not alternatives) or nested_missing, declared=declared,
                           conditions=tuple(conditions), documents=documents, warnings=tuple(warnings))
    if all_req:
        return Requirement(rule="all", items=tuple(items), items_missing=not items or nested_missing,
                           declared=declared, conditions=tuple(conditions), documents=documents,
                           warnings=tuple(warnings))
    return Requirement(rule=rule, items=tuple(items), items_missing=nested_missing,
                       declared=declared, conditions=tuple(conditions), documents=documents,
                       warnings=tuple(warnings))


def _hoist_covering_conditions(items: list[Item]) -> tuple[list[Item], list[str]]:
    """Restrictions that say they cover every alternative (``均需…``) belong to the requirement,
    wherever they were written (``2、《B》(范围均需含“互联网诊疗”…``)."""
    hoisted: list[str] = []

    def lift(item: Item) -> Item:
        keep = tuple(c for c in item.conditions if not patterns.COVERS_ALL.search(c))
        hoisted.extend(c for c in item.conditions if patterns.COVERS_ALL.search(c))
        group = item.group
        if group is not None and group.items:
            group = replace(group, items=tuple(lift(i) for i in group.items))
        if keep == item.conditions and group is item.group:
            return item
        return replace(item, conditions=keep, group=group)

    return [lift(i) for i in items], hoisted


def _structure_warnings(items: Sequence[Item]) -> list[PipelineWarning]:
    """What the grammar read but cannot be sure of, entry by entry (never silently)."""
    out: list[PipelineWarning] = []

    def walk(item: Item) -> None:
        g = item.group
        if g is not None and g.rule == "any" and g.declared == "或" and len(g.items) > 1:
            # a title a note reads as two documents is no 和 of the sentence: nothing to scope
            bundles = [i for i in g.items if i.group is not None and i.group.rule == "all"
                       and _one_title(i.text) is None]
            if bundles and len(bundles) < len(g.items):
                out.append(warning("or_and_mixed", f"或 and 和/与/及 in one sentence ({item.text}): read as "
                                                   "alternatives of which some are bundles; check the scope of 或",
                                   line=item.line))
        for _, _, inner, closed in _parentheticals(item.text):
            if not closed:
                out.append(warning("unclosed_bracket", f"unclosed bracket ({inner}): read to the end of the entry",
                                   line=item.line))
            elif patterns.NOTE_PARENTHETICAL.match(inner) and patterns.declaration(inner).any \
                    and not _note_read(g, inner):
                out.append(warning("rule_in_note", f"a note in brackets states a rule ({inner}): kept as text, "
                                                   f"not read", line=item.line))
        out.extend(malformed_titles(item.text, item.line))
        if g is None and _inner_sentence_end(item.text) and (patterns.OR_JOINER.search(item.text)
                                                              or patterns.AND_JOINERS.search(item.text)):
            out.append(warning("several_sentences", f"an entry of several sentences ({item.text}): kept whole, "
                                                    "its 或/和 not read", line=item.line))
        for sub in (g.items if g is not None else ()):
            if sub.text != item.text:
                walk(sub)

    for i in items:
        walk(i)
    return list(dict.fromkeys(out))


def _note_read(group: Requirement | None, note: str) -> bool:
    """Was this note's rule read into the choice it closes (``_bundle_note``)? The choice then
    carries the count the note declares."""
    m = patterns.BUNDLED_ALTERNATIVE_NOTE.match(note)
    return bool(m and group is not None and group.rule == "any"
                and group.of is not None and group.of == patterns.to_int(m.group("n")))


def lines_to_requirement(lines: Sequence[Line], header: str = "",
                         columns: Sequence[Sequence[Line]] | None = None, memo=None) -> Requirement:
    """Read a requirement from its header (``资质要求（3选1）``) and content lines.

    ``columns``: alternative cells side by side (each a list of lines), when the layout says so.
    ``memo``: the build's ``ParseMemo`` (the same texts read before are moved to these lines).
    """
    if memo is None:
        return _lines_to_requirement(lines, header, columns)
    return memo.requirement(lines, header, columns, _lines_to_requirement)


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
    if any(l.bullet for l in lines):
        return _from_bullets(lines, header, documents)
    # 3. "…的场景" groups; 4. enumerators; 5.-8. the text as statements
    index = _LineIndex(lines)
    got = _from_scenario_groups(lines, header, documents)
    if got is None:
        got = _from_enumerators(index, header, documents)
    return got if got is not None else _from_statements(lines, index, header, documents)


def _from_bullets(lines: list[Line], header: str, documents: tuple[str, ...]) -> Requirement:
    """2. An item per bullet of the outermost list; the lines before it are the preamble, the
    lines under a bullet its own."""
    bullets = [l for l in lines if l.bullet]
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


def _from_scenario_groups(lines: list[Line], header: str, documents: tuple[str, ...]) -> Requirement | None:
    """3. Two or more ``…的场景`` groups: one alternative each (None when there are fewer)."""
    heads = [i for i, l in enumerate(lines) if patterns.SCENARIO_GROUP_HEADER.search(l.text)]
    if len(heads) < 2:
        return None
    pre = "\n".join([header] + [l.text for l in lines[:heads[0]]])
    decl, all_req, uncounted, declared, conds = _preamble_facts(pre)
    bounds = heads + [len(lines)]
    items = [_group_item(lines[a], lines[a + 1:b]) for a, b in zip(bounds, bounds[1:])]
    return _finish("any", items, decl, False, uncounted, declared, conds, documents,
                   alternatives=True)


def _from_enumerators(index: _LineIndex, header: str, documents: tuple[str, ...]) -> Requirement | None:
    """4. Numbered entries (``1、…2、…``), wherever the line breaks fall (None without them)."""
    text = index.text
    found = _enumerated(text)
    if not found:
        return None
    pre, spans = found
    decl, all_req, uncounted, declared, conds = _preamble_facts(header + "\n" + pre)
    items = [text_to_item(text[a:b], index.line_at(a)) for a, b in spans]
    return _finish("all", items, decl, all_req, uncounted, declared, conds, documents,
                   _unannounced(decl, all_req, uncounted, items))


def _from_statements(lines: list[Line], index: _LineIndex, header: str, documents: tuple[str, ...]) -> Requirement:
    """5.-8. Text without list marks: per-variant sentences, several unmarked lines, or one
    statement, after a leading restriction and a leading declaration."""
    text = index.text
    facts = _preamble_facts(header + "\n" + text.replace("\n", ""))
    decl, all_req, uncounted, declared, conds = facts
    # the statement after a leading restriction and a leading declaration, line breaks kept
    body = text
    m = patterns.LEADING_RESTRICTION.match(body)
    if m and body[m.end():].strip():
        body = body[m.end():]
    m = patterns.LEADING_DECLARATION.match(body)
    if m:
        body = body[m.end():]
    offset = len(text) - len(body)
    body = body.rstrip()

    # 5. per-variant sentences
    var = _variants(body)
    if var:
        items = [text_to_item(body[a:b], index.line_at(offset + a + len(body[a:b]) - len(body[a:b].lstrip())))
                 for a, b in var]
        return _finish("any", items, decl, all_req, uncounted, declared, conds, documents,
                       alternatives=not (decl or all_req))
    # 6. several lines without numbers or bullets
    got = _from_unmarked_lines(lines, header, documents) if len(lines) > 1 else None
    if got is not None:
        return got
    return _from_one_statement(body, lines[0].line, index, facts, documents)


def _from_unmarked_lines(lines: list[Line], header: str, documents: tuple[str, ...]) -> Requirement | None:
    """6. Several lines without numbers or bullets (a copy lost the list marks): one item each,
    after any leading declaration lines (``（3选1）``, ``需同时提供：``); None for one line."""
    head = 0
    while head < len(lines) - 1 and _is_declaration(lines[head].text):
        head += 1
    rest = _continued(lines[head:])
    if len(rest) <= 1:
        return None
    pre = "\n".join([header] + [l.text for l in lines[:head]])
    decl, all_req, uncounted, declared, conds = _preamble_facts(pre)
    items = _lead_in_lists(rest)
    return _finish("all", items, decl, all_req, uncounted, declared, conds, documents,
                   _unannounced(decl, all_req, uncounted, items))


def _from_one_statement(body: str, line: int, index: _LineIndex, facts, documents: tuple[str, ...]) -> Requirement:
    """7./8. One statement, read as one entry: a choice inside it (或) makes the requirement a
    choice, a bundle (与 / 及 / 、) makes it all required; under a declaration its parts are the
    declared list, whatever joins them. ``facts``: the preamble's (``_preamble_facts``)."""
    decl, all_req, uncounted, declared, conds = facts
    if not body.strip(" ，,。；;:："):
        return _finish("all", [], decl, all_req, uncounted, declared, conds, documents)
    item = text_to_item(body, line)
    declared_any = bool(decl or uncounted)
    if item.group is not None and item.label is None and not item.conditions and \
            item.group.declared in ("或", None):
        items = _placed(item.group.items, index)
        warnings = _structure_warnings([item])
        if declared_any or all_req:
            return _finish("all", items, decl, all_req, uncounted, declared, conds, documents, warnings)
        if item.group.rule == "any":
            return _finish("any", items, None, False, False, "或", conds, documents, warnings,
                           alternatives=True)
        return _finish("all", items, None, False, False, declared, conds, documents, warnings)
    return _finish("all", [item], decl, all_req, uncounted, declared, conds, documents)


def _placed(items: Sequence[Item], index: _LineIndex) -> list[Item]:
    """The parts of one statement at the lines where each begins (``《A》或\n\n《B》``)."""
    flat, where = [], []
    for k, ch in enumerate(index.text):
        if ch != "\n":
            flat.append(ch)
            where.append(k)
    flat_text, out, cursor = "".join(flat), [], 0
    for it in items:
        at = flat_text.find(it.text, cursor)
        if at < 0 or it.line is None:
            out.append(it)
            continue
        cursor = at + len(it.text)
        line = index.line_at(where[at])
        out.append(it if line == it.line else it.shifted(line - it.line))
    return out


def _continued(lines: Sequence[Line]) -> list[Line]:
    """Lines joined where one ends on a joiner (``《A》或`` / ``《B》``): one statement wrapped."""
    out: list[Line] = []
    for ln in lines:
        if out and patterns.ENDS_ON_JOINER.search(out[-1].text):
            last = out[-1]
            out[-1] = Line(last.text + "\n" + ln.text, last.line, ln.last, last.bullet, last.depth)
        else:
            out.append(ln)
    return out


def _lead_in_lists(lines: Sequence[Line]) -> list[Item]:
    """One item per line; a line that announces a list of its own (``…所需资质文件如下：``) holds
    the lines after it, up to the end or through a closing catch-all entry (``…其他材料``)."""
    items: list[Item] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if patterns.LIST_LEAD_IN.search(ln.text) and i + 1 < len(lines):
            j = i + 1
            while j < len(lines) and not patterns.CATCH_ALL_ENTRY.search(lines[j].text):
                j += 1
            end = min(j + 1, len(lines))
            items.append(text_to_item(ln.text, ln.line, tuple(lines[i + 1:end])))
            i = end
            continue
        items.append(text_to_item(ln.text, ln.line))
        i += 1
    return items


def _is_declaration(text: str) -> bool:
    """A line that only declares the rule: ``（3选1）：``, ``需同时提供:``, ``仅支持…，（2选1）``."""
    if patterns.DOCUMENT_TITLE.search(text):
        return False
    return patterns.declaration(text).any


def _group_item(head: Line, body: Sequence[Line]) -> Item:
    """One alternative column / scenario group: its header is the label, its body a bundle."""
    label = clean(head.text).strip(" ：:")
    group = lines_to_requirement(body, header="") if body else None
    if group is not None:
        # a column's entries are all required by the layout itself, not by default
        group = replace(group, warnings=tuple(w for w in group.warnings if w != _NO_DECLARED_RULE))
    docs = _branch_documents(group) if group is not None else ()
    return Item(text=label, label=label, documents=docs, group=group, line=head.line)


def _branch_documents(group: Requirement) -> tuple[str, ...]:
    """The documents of a branch (a column, a ``…的场景`` group): the titles written in its
    entries, not those only a label names. Its heading names the situation it is for
    (``《增值电信业务经营许可证》不予受理的场景``: the applicant does not hold that licence), and so
    does a lead-in inside it (``《增值电信业务经营许可证》申请时，所需资质文件如下：``): neither title
    is a document of the branch. The lead-in's own entry keeps the title it writes among its
    ``documents`` (every title written in an entry, as the published spec has it)."""
    required = _union(_required_titles(i) for i in group.items)
    named = _union(document_titles(i.label or "") for i in _list_labels(group.items))
    return tuple(t for t in group.documents if t in required or t not in named)


def _is_list_label(item: Item) -> bool:
    """An entry that is only the label of the list it holds (a heading, a ``…如下：`` lead-in)."""
    return item.group is not None and item.label is not None and item.text.strip(" ：:") == item.label


def _required_titles(item: Item) -> tuple[str, ...]:
    """What an entry requires: its documents, or for a labelled list those of its entries."""
    if _is_list_label(item):
        return _union(_required_titles(i) for i in item.group.items)
    return item.documents


def _list_labels(items: Sequence[Item]) -> list[Item]:
    """The entries, at any depth, that are labels of the lists they hold."""
    out: list[Item] = []
    for it in items:
        if _is_list_label(it):
            out.append(it)
        if it.group is not None:
            out += _list_labels(it.group.items)
    return out


def _unannounced(decl, all_req: bool, uncounted: bool, items: list[Item]) -> list[PipelineWarning]:
    if decl or all_req or uncounted or len(items) < 2:
        return []
    return [_NO_DECLARED_RULE]


_NO_DECLARED_RULE = warning("no_declared_rule",
                            "a list of items without a declared rule (N选1 / 需同时提供): read as all required")


def text_to_requirement(text: str, header: str = "", line: int = 1, memo=None) -> Requirement:
    """Convenience for tests and one-cell formats: split ``text`` on line breaks first."""
    lines = [Line(t, line + i) for i, t in enumerate(text.split("\n"))]
    return lines_to_requirement(lines, header=header, memo=memo)
