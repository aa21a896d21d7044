"""Typed records. Frozen, validated on construction, each saying where it came from.

Parsers produce ``ParsedDocument``s (statements, scenarios, licences with their ``Span``); the
``records`` stage turns them into the rows of the published tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.errors import PipelineWarning

RULES = ("any", "all", "none", "unknown")
CAPABILITIES = ("face_verification", "live_streaming", "category_list")
#: what a statement says of a category: the documents it must show, or only that it may use a
#: capability (an eligibility list)
STATEMENT_KINDS = ("qualification", "eligibility")


def count_text(pick, of) -> str:
    """A declared count as the documents write it, ``3选1`` (of 3, pick 1): the one spelling
    of conflict values, the words of a rule (``present/words.py``) and the report's excerpts."""
    return f"{of}选{pick}"


@dataclass(frozen=True)
class Span:
    """Where a record came from: a file under a raw folder, 1-based inclusive line span."""

    file: str
    line_start: int
    line_end: int
    #: the page of a multi-page export (``类目申请资质要求``), when known
    page: str | None = None
    #: for a PDF: the page to open (1-based); lines then count the text read from the PDF
    pdf_page: int | None = None

    def __post_init__(self) -> None:
        if self.line_start < 1 or self.line_end < self.line_start:
            raise ValueError(f"bad span {self.file}:{self.line_start}-{self.line_end}")

    def to_dict(self) -> dict:
        return {"file": self.file, "line_start": self.line_start, "line_end": self.line_end,
                "page": self.page, "pdf_page": self.pdf_page}


@dataclass(frozen=True)
class Line:
    """One logical line of a document after format-specific clean-up."""

    text: str
    #: 1-based physical line of its first and last character
    line: int
    end: int = 0
    #: came from a list bullet (``<li>``, a dropped bullet glyph): an item even without a number
    bullet: bool = False
    #: nesting depth of the list it is in (0 = not in a nested list)
    depth: int = 0

    @property
    def last(self) -> int:
        return max(self.end, self.line)

    def shifted(self, delta: int) -> Line:
        """The same line ``delta`` lines further down."""
        return Line(self.text, self.line + delta, self.end + delta if self.end else 0, self.bullet, self.depth)


@dataclass(frozen=True)
class Item:
    """One entry of a qualification requirement: a document, a bundle, or a nested choice."""

    text: str
    #: who the entry is for, as written before a colon or in a variant mark: ``公立学校``, ``供电类``
    label: str | None = None
    documents: tuple[str, ...] = ()
    #: restrictions attached to this entry: ``且业务范围必须包含“基金”``, ``经营范围含网络表演``
    conditions: tuple[str, ...] = ()
    #: the entry is itself a choice or a bundle (``《A》或《B》``, ``需同时提供：…``)
    group: Requirement | None = None
    line: int | None = None

    def shifted(self, delta: int) -> Item:
        # (built field by field, as ``Line.shifted``: ``replace`` costs twice as much, and a
        # remembered requirement's items are moved for every version of its page)
        return Item(self.text, self.label, self.documents, self.conditions, self.group and self.group.shifted(delta),
                    None if self.line is None else self.line + delta)

    def to_dict(self) -> dict:
        return {"text": self.text, "label": self.label, "documents": list(self.documents),
                "conditions": list(self.conditions),
                "group": self.group.to_dict() if self.group else None, "line": self.line}


@dataclass(frozen=True)
class Requirement:
    """What a category must show, as structure.

    ``rule``: ``any`` (choose ``pick`` of the items), ``all`` (every item), ``none`` (nothing
    required), ``unknown`` (a requirement heading with neither rule nor items: text lost).
    ``of`` is the count the source DECLARES (``5选1`` -> 5), None when it declares none;
    ``options`` is how many alternatives are actually listed.
    """

    rule: str
    pick: int | None = None
    of: int | None = None
    items: tuple[Item, ...] = ()
    items_missing: bool = False
    #: the declaration as written: ``（3选1）``, ``需同时提供``, ``或``
    declared: str | None = None
    #: restrictions on the whole requirement: ``仅支持公立医疗机构互联网医院``
    conditions: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    warnings: tuple[PipelineWarning, ...] = ()

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}")
        if self.rule != "any" and (self.pick is not None or self.of is not None):
            raise ValueError("pick/of only belong to rule 'any'")

    @property
    def options(self) -> int | None:
        return len(self.items) if self.rule == "any" else None

    def shifted(self, delta: int) -> Requirement:
        """The same requirement read ``delta`` lines further down (item lines moved)."""
        if not delta or not self.items:
            return self
        return Requirement(self.rule, self.pick, self.of, tuple(i.shifted(delta) for i in self.items),
                           self.items_missing, self.declared, self.conditions, self.documents, self.warnings)

    def to_dict(self) -> dict:
        return {"rule": self.rule, "pick": self.pick, "of": self.of, "options": self.options,
                "declared": self.declared, "conditions": list(self.conditions),
                "items_missing": self.items_missing,
                "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class Integration:
    """The access method named by ``具备【X】类目，可使用 M 进行接入``."""

    method: str
    text: str
    line: int
    #: ``若同时具备【社交-直播】类目，可直接使用 M`` -> (("社交-直播", M),)
    also: tuple[tuple[str, str], ...] = ()
    #: component tags written next to the method: ``<live-pusher><live-player>``
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One category's qualification statement as a parser read it."""

    capability: str
    section: str
    category_raw: tuple[str, ...]
    #: what the category must show; None for an eligibility statement, which says nothing
    #: about documents (never read as "nothing required": that is ``Requirement(rule="none")``)
    requirement: Requirement | None
    span: Span
    requirement_text: str = ""
    integration: Integration | None = None
    scope: str | None = None
    scenario: str | None = None
    notes: tuple[str, ...] = ()
    #: renames the document states itself: ``原二级名称为【征信业务】`` -> ("征信业务",)
    renamed_from: tuple[str, ...] = ()
    page: str | None = None
    page_updated: str | None = None
    warnings: tuple[PipelineWarning, ...] = ()
    #: which part of the page: a category table's own heading, when a page holds several
    #: tables that are separate statements (非个人主体 / 个人主体 / 海外主体)
    page_part: str | None = None
    #: one of ``STATEMENT_KINDS``: ``qualification`` (what a category must show) or
    #: ``eligibility`` (the page lists the category as one that may use a capability or an
    #: access method at all, and states no documents: a category table without a qualification
    #: column, ``主类目 | 子类目 | 小程序内容场景``)
    kind: str = "qualification"
    #: restrictions an eligibility statement's list sets (its lead-in: ``暂只针对国内主体如下类目…``
    #: -> ``只针对国内主体``). A qualification statement keeps its restrictions in its
    #: requirement's ``conditions``: one place per statement, published as the row's ``conditions``
    conditions: tuple[str, ...] = ()
    #: other categories the text says the mini-program must also hold, as levels:
    #: ``需补充：金融业-证券/期货类目`` -> (("金融业", "证券/期货"),); the text stays where it was written
    also_requires: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in STATEMENT_KINDS:
            raise ValueError(f"unknown statement kind {self.kind!r}")
        if self.conditions and self.requirement is not None:
            raise ValueError(f"{self.span.file}:{self.span.line_start}: a qualification statement's "
                             f"conditions belong to its requirement")
        if (self.requirement is None) != (self.kind == "eligibility"):
            raise ValueError(f"{self.span.file}:{self.span.line_start}: a {self.kind} statement "
                             f"{'has no' if self.kind == 'eligibility' else 'needs a'} requirement")
        if self.capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {self.capability!r}")
        if not self.category_raw or not all(self.category_raw):
            raise ValueError(f"{self.span.file}:{self.span.line_start}: empty category level")


@dataclass(frozen=True)
class Scenario:
    """A row of a scenario -> category -> access method table (方案选择, the plugin page)."""

    scenario: str
    content: str
    requirements: tuple[str, ...]
    solutions: tuple[str, ...]
    span: Span
    notes: tuple[str, ...] = ()
    page: str | None = None
    page_updated: str | None = None


@dataclass(frozen=True)
class License:
    """A business -> licence -> authority row (直播服务许可申请)."""

    business: str
    licence: str
    authority: str
    span: Span
    page: str | None = None
    page_updated: str | None = None


@dataclass(frozen=True)
class Page:
    """A page inside a document (a PDF export can hold several)."""

    title: str | None
    updated: str | None
    line_start: int
    line_end: int
    kind: str


@dataclass(frozen=True)
class ParsedDocument:
    """Everything one parser read from one document."""

    format: str
    capability: str | None
    pages: tuple[Page, ...]
    statements: tuple[Statement, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    licenses: tuple[License, ...] = ()
    warnings: tuple[PipelineWarning, ...] = field(default=())
    #: link targets kept apart from the text (PDF link annotations): (pdf page, uri)
    links: tuple[tuple[int, str], ...] = ()
    #: why the capture looks cut short (ends inside a table, right after a heading, before the
    #: section of a category it names); None when it reads as complete
    truncated: str | None = None
