"""What every page format shares: category headings, the "具备…类目，可使用…进行接入" sentence,
and which section a sentence belongs to. Pure functions over text.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from pipeline.parsers import patterns
from pipeline.core.errors import PipelineWarning, warning
from pipeline.core.model import Integration, Requirement, Span, Statement
from pipeline.core.normalize import clean, fold

_TAG = re.compile(r"<\s*/?\s*([A-Za-z][\w-]*)[^>]*>")


@dataclass(frozen=True)
class Sentence:
    """A parsed integration sentence."""

    #: the categories it names, each as levels: (("教育", "培训机构", "职业培训"), …)
    paths: tuple[tuple[str, ...], ...]
    #: the category text as written (``教育-培训机构-职业培训 或 教育-培训机构-课外辅导``)
    names: str
    method: str
    components: tuple[str, ...]
    #: ``若同时具备…``: an alternative for accounts that also hold another category
    also: bool
    text: str
    line: int
    renamed_from: tuple[str, ...] = ()

    def integration(self, also: tuple[tuple[str, str], ...] = ()) -> Integration:
        return Integration(method=self.method, text=self.text, line=self.line, also=also,
                           components=self.components)


def strip_markup(text: str) -> str:
    """Markdown links to their text, ``**bold**`` to plain, HTML tags dropped."""
    text = patterns.MARKDOWN_LINK.sub(r"\1", text)
    text = text.replace("**", "")
    return clean(_TAG.sub(" ", text))


def parse_sentence(text: str, line: int, memo=None) -> Sentence | None:
    """Read ``具备【X】类目，可使用 M 进行接入`` from a line of text; None if it is not one.
    ``memo``: a ``ParseMemo`` (each distinct text read once, then placed at ``line``)."""
    if memo is None:
        return _parse_sentence(text, line)
    s = memo.pure(_sentence_of)(text)
    return s and Sentence(s.paths, s.names, s.method, s.components, s.also, s.text, line, s.renamed_from)


def _sentence_of(text: str) -> Sentence | None:
    """``parse_sentence`` at no line (a pure function of the text, for ``ParseMemo.pure``)."""
    return _parse_sentence(text, 0)


def _parse_sentence(text: str, line: int) -> Sentence | None:
    plain = clean(patterns.MARKDOWN_LINK.sub(r"\1", text).replace("**", ""))
    m = patterns.INTEGRATION.search(plain)
    if not m:
        return None
    raw_method = m.group("method")
    components = tuple(dict.fromkeys(t.lower() for t in _TAG.findall(raw_method)))
    method = clean(_TAG.sub(" ", raw_method))
    names = m.group("cats")
    if patterns.TABLE_POINTER.fullmatch(names.strip()):
        # ``若您的小程序具备以下类目，可使用 M 进行接入``: the lead-in of a table, read with it
        return None
    renamed = tuple(r.group("old") for r in patterns.RENAMED_FROM.finditer(names))
    names = clean(patterns.RENAMED_FROM.sub("", names))
    paths = []
    for part in patterns.CATEGORY_LIST_SPLIT.split(names.strip()):
        part = part.strip(" 【】")
        if part:
            paths.append(tuple(p for p in patterns.LEVEL_SEPARATOR.split(part) if p))
    return Sentence(paths=tuple(paths), names=names.strip(" 【】"), method=method,
                    components=components, also=bool(m.group("also")), text=plain, line=line,
                    renamed_from=renamed)


def category_path(name: str) -> tuple[str, ...]:
    """A category as running text names it, as levels: ``金融业-证券/期货`` -> two levels,
    ``“时政信息`` -> one (quote marks and 【】 are not part of a name; ``/`` is)."""
    name = clean(name).strip(patterns.CATEGORY_QUOTES)
    return tuple(p.strip(patterns.CATEGORY_QUOTES) for p in patterns.LEVEL_SEPARATOR.split(name)
                 if p.strip(patterns.CATEGORY_QUOTES))


def parse_needs_sentence(text: str, line: int) -> tuple[Sentence | None, PipelineWarning | None]:
    """Read ``M 由于需要先满足【X】或【Y】类目场景`` (an access method and the categories it
    needs) from a line of text: (the sentence, None); (None, why) when it has that shape but its
    names cannot be told apart (``电商平台或教育``: one name or two); (None, None) otherwise."""
    plain = strip_markup(text)
    m = patterns.METHOD_NEEDS_CATEGORIES.search(plain)
    if not m:
        return None, None
    names = m.group("cats").strip()
    parts = [p.strip(" 【】") for p in patterns.CATEGORY_LIST_SPLIT.split(names) if p.strip(" 【】")]
    if not parts or any("或" in p for p in parts):
        return None, warning("unreadable_needs", f"the sentence names the categories {m.group('method')!r} "
                                                 f"needs, but {names!r} cannot be told apart into names: not read",
                             line=line)
    return Sentence(paths=tuple(category_path(p) for p in parts), names=names.strip(" 【】"),
                    method=clean(m.group("method")), components=(), also=False, text=plain,
                    line=line), None


def could_be_needs_sentence(text: str) -> bool:
    """Has ``text`` the shape ``parse_needs_sentence`` reads (a line that has not gives
    (None, None) there)? A pure function of the text, for ``ParseMemo.pure``."""
    return patterns.METHOD_NEEDS_CATEGORIES.search(strip_markup(text)) is not None


def needs_statements(lines, *, capability: str | None, section: str, file: str, page: str | None,
                     updated: str | None):
    """Eligibility statements from the ``M 需要先满足【X】或【Y】类目`` sentences among ``lines``
    (``(text, line)`` pairs): one per category named, for method M, capability the method's
    (else the page's). Returns them and a warning (in ``file``) per sentence of that shape
    whose names run together, which is never guessed apart."""
    out, warnings = [], []
    for text, no in lines:
        s, why = parse_needs_sentence(text, no)
        if why:
            warnings.append(why.at(file))
        if s is None:
            continue
        cap = detect_capability(s.method) or capability or "live_streaming"
        out += [Statement(capability=cap, section=section, category_raw=path, requirement=None,
                          span=Span(file, no, no, page), integration=s.integration(), page=page,
                          page_updated=updated, kind="eligibility") for path in s.paths]
    return out, warnings


def also_required(texts) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """Other categories a statement's text says the mini-program must also hold
    (``需补充：金融业-证券/期货类目``), as levels, first-appearance order; and the phrases that
    name no clear category (``需补充医疗相关类目``), which give no path."""
    paths: list[tuple[str, ...]] = []
    vague: list[str] = []
    for text in texts:
        for m in patterns.ALSO_REQUIRES.finditer(text or ""):
            path = category_path(m.group("cats"))
            if not path or patterns.VAGUE_CATEGORY.search(path[-1]) or "或" in path[-1]:
                vague.append(m.group(0))
            elif path not in paths:
                paths.append(path)
    return tuple(paths), tuple(vague)


def heading_levels(text: str) -> tuple[str, ...]:
    """``电商平台 - 电商平台`` -> two levels; ``证券/期货`` -> one level (``/`` is part of a name)."""
    return tuple(clean(p) for p in patterns.HEADING_LEVEL_SEPARATOR.split(clean(text)) if clean(p))


def _level_related(a: str, b: str) -> bool:
    """Two spellings of one level: equal after folding, or one inside the other
    (``金融``/``金融业``, ``培训机构``/``学历教育(培训机构)``)."""
    fa, fb = fold(a), fold(b)
    return bool(fa) and bool(fb) and (fa in fb or fb in fa)


def names_section(sentence: Sentence, path: tuple[str, ...]) -> bool:
    """Does the sentence name the category of a section with these levels?

    The last level must match exactly (after folding), or be one of the ``/``-parts of the
    section's last level when the sentence names the parts separately; the first level, when
    the sentence gives one, must be a spelling of the section's.
    """
    return paths_name_section((sentence.paths, path))


def paths_name_section(paths_and_path: tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]) -> bool:
    """``names_section`` of a sentence naming ``paths``: (paths, the section's levels), one
    argument, so that a ``ParseMemo`` can remember it (``ParseMemo.pure``)."""
    paths, path = paths_and_path
    last = fold(path[-1])
    parts = {fold(p) for p in path[-1].split("/")} if _split_parts(paths, path) else set()
    for p in paths:
        if fold(p[-1]) != last and fold(p[-1]) not in parts:
            continue
        # compare the level above the last, aligned from the end (a sentence may name more
        # levels than the heading shows: 教育-培训机构-职业培训 under 学历教育(培训机构) - …)
        if len(p) > 1 and len(path) > 1 and not _level_related(p[-2], path[-2]):
            continue
        return True
    return False


def split_parts(sentence: Sentence | None, path: tuple[str, ...]) -> tuple[str, ...]:
    """The parts a ``A/B`` last level stands for, when the sentence names A and B separately.

    ``培训机构 - 职业培训/课外辅导`` with ``具备【…职业培训】或【…课外辅导】类目`` -> two categories;
    ``证券/期货`` with ``具备【金融-证券/期货】类目`` stays one (the sentence writes it whole).
    A part counts as named when a level of the sentence is, starts or ends with it (a web copy
    prints ``…职业培训教育-培训机构-课外辅导`` with the separator lost).
    """
    if sentence is None:
        return ()
    return _split_parts(sentence.paths, path)


def _split_parts(paths: tuple[tuple[str, ...], ...], path: tuple[str, ...]) -> tuple[str, ...]:
    if "/" not in path[-1]:
        return ()
    parts = tuple(clean(p) for p in path[-1].split("/") if clean(p))
    levels = [fold(level) for p in paths for level in p]
    if len(parts) < 2 or fold(path[-1]) in levels:
        return ()

    def named(part: str) -> bool:
        f = fold(part)
        return any(lv == f or lv.startswith(f) or lv.endswith(f) for lv in levels)

    return parts if all(named(p) for p in parts) else ()


def method_pattern(sentences: list[Sentence]) -> re.Pattern:
    """Access-method names: the known ones (``patterns.ACCESS_METHOD``) plus every method the
    page's own sentences name."""
    names = sorted({re.escape(fold(s.method)) for s in sentences if s.method}, key=len, reverse=True)
    extra = "|".join(n for n in names if n)
    return re.compile(patterns.ACCESS_METHOD.pattern + (f"|{extra}" if extra else ""))


def method_scenario(method: str, content: str) -> str:
    """The label of a scenario listed on an access method's own page (the plugin page's
    ``小程序直播场景 | 要求`` table): ``插件：电商带货、直播导购等``, in every format."""
    return f"{'插件' if method.endswith('插件') else method}：{content}"


def detect_capability(text: str) -> str | None:
    """Face verification if the page talks about 人脸核身/核验, else live streaming if 直播."""
    if patterns.FACE_WORDS.search(text):
        return "face_verification"
    if patterns.LIVE_WORDS.search(text):
        return "live_streaming"
    return None


@dataclass
class Draft:
    """A category section as a page parser found it, before sentences are assigned."""

    path: tuple[str, ...]
    line_start: int
    line_end: int
    section: str
    requirement: Requirement
    requirement_text: str = ""
    scope: str | None = None
    scenario: str | None = None
    notes: tuple[str, ...] = ()
    #: integration sentences written inside the section itself
    inplace: tuple[Sentence, ...] = ()
    warnings: tuple[PipelineWarning, ...] = ()

    def placed(self, delta: int, inplace: tuple[Sentence, ...]) -> Draft:
        """This draft, read ``delta`` lines higher up, placed here with the page's own sentences
        under its heading (a draft remembered with its section: ``ParseMemo``)."""
        moved = copy.copy(self)
        moved.line_start += delta
        moved.line_end += delta
        moved.requirement = self.requirement.shifted(delta)
        moved.inplace = inplace
        return moved


def _mentions(sentence: Sentence, path: tuple[str, ...]) -> bool:
    """The sentence's text contains the section's last level (or each of its ``/``-parts), even
    if its levels cannot be told apart (``…职业培训教育-培训机构-课外辅导``)."""
    named = fold(sentence.names)
    parts = [fold(p) for p in path[-1].split("/") if p.strip()]
    return fold(path[-1]) in named or bool(parts) and all(p in named for p in parts)


def drafts_to_statements(drafts: list[Draft], sentences: list[Sentence], *, capability: str,
                         file: str, page: str | None = None, updated: str | None = None, memo=None):
    """Give each section its own integration sentence and split ``A/B`` sections in two.

    A sentence belongs to the section it names; sentences displaced from their section (a PDF
    export moves them past page breaks) are found by name anywhere on the page. A sentence
    whose names cannot be read belongs to the section it is written in.

    Returns the statements and the sentences no section took (for a warning).
    """
    # whether a sentence names a section, and which parts of it: asked of every section, the
    # same questions on every version of a page (``memo``: a ``ParseMemo``, each answered once)
    names = paths_name_section if memo is None else memo.pure(paths_name_section)
    parts_of = _parts_of if memo is None else memo.pure(_parts_of)
    own = _own_sentences(drafts, _SentencesByName(sentences), names)
    stray = _stray_sentences(drafts, own)
    out = []
    for i, d in enumerate(drafts):
        out += _draft_statements(d, own.get(i), stray.get(i), parts_of, capability=capability, file=file, page=page,
                                 updated=updated)
    used = {id(x) for x in own.values()}
    unused = [x for x in sentences if not x.also and id(x) not in used]
    return out, unused


class _SentencesByName:
    """A page's sentences by the names they end on, so each section looks only at plausible ones."""

    def __init__(self, sentences: list[Sentence]):
        self.sentences = sentences
        self.by_name: dict[str, list[Sentence]] = {}
        self.order = {id(s): n for n, s in enumerate(sentences)}
        for s in sentences:
            if not s.also:
                for key in {fold(level) for p in s.paths for level in p[-1:]} | {fold(s.names)}:
                    self.by_name.setdefault(key, []).append(s)

    def candidates(self, path: tuple[str, ...]) -> list[Sentence]:
        """The sentences that may name ``path``'s section, in page order."""
        keys = [fold(path[-1])] + [fold(p) for p in path[-1].split("/") if p.strip()]
        found = {id(s): s for k in keys for s in self.by_name.get(k, ())}
        # a sentence whose levels run together (…职业培训教育-…) is found by containment
        if len(found) == 0:
            found = {id(s): s for s in self.sentences if not s.also}
        return sorted(found.values(), key=lambda s: self.order[id(s)])


def _own_sentences(drafts: list[Draft], index: _SentencesByName, names=paths_name_section) -> dict[int, Sentence]:
    """Each section's sentence, by the section's index: one under its heading that names it, else
    one anywhere on the page that names it, else one under its heading that mentions it and names
    no section."""
    own: dict[int, Sentence] = {}
    for i, d in enumerate(drafts):
        mine = next((s for s in d.inplace if not s.also and names((s.paths, d.path))), None)
        # (the page is searched only for a section with no sentence of its own that names it)
        anywhere = None if mine else next((s for s in index.candidates(d.path) if names((s.paths, d.path))), None)
        if mine:
            own[i] = mine
        elif anywhere:
            own[i] = anywhere
        else:
            unnamed = [s for s in d.inplace if not s.also and _mentions(s, d.path)
                       and not any(names((s.paths, o.path)) for o in drafts)]
            if unnamed:
                own[i] = unnamed[0]
    return own


def _stray_sentences(drafts: list[Draft], own: dict[int, Sentence]) -> dict[int, PipelineWarning]:
    """A sentence written under a heading that names another section's category (a typo in the
    source: 具备【教育-培训机构-职业培训/课外辅导】 under ### 教育信息服务, whose own section has its
    sentence) keeps its method for the section it stands in, with a warning. Adds those sentences
    to ``own``; returns the warnings by section index."""
    stray: dict[int, PipelineWarning] = {}
    taken = {id(x) for x in own.values()}
    for i, d in enumerate(drafts):
        left = [s for s in d.inplace if not s.also and id(s) not in taken]
        if i not in own and left:
            own[i] = left[0]
            taken.add(id(left[0]))
            stray[i] = warning("sentence_elsewhere", f"the access sentence under this heading (line "
                                                     f"{left[0].line}) names {left[0].names!r}, not this "
                                                     f"category; its method is kept for this section")
    return stray


def _parts_of(paths_and_path: tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]) -> tuple[str, ...]:
    """``_split_parts`` of (paths, path): one argument, for ``ParseMemo.pure``."""
    return _split_parts(*paths_and_path)


def _draft_statements(d: Draft, s: Sentence | None, stray: PipelineWarning | None, parts_of=_parts_of, *,
                      capability: str, file: str, page: str | None, updated: str | None) -> list[Statement]:
    """One section's statements, with its sentence ``s``: one per part of an ``A/B`` section its
    sentence splits, else one. A stray sentence (``stray``) gives only its method: what it names
    is another section's."""
    also = tuple((x.names, x.method) for x in d.inplace if x.also)
    integration = s.integration(also) if s else None
    parts = parts_of((s.paths, d.path)) if s and stray is None else ()
    paths = [d.path[:-1] + (p,) for p in parts] if parts else [d.path]
    return [Statement(
        capability=capability, section=d.section, category_raw=path,
        requirement=d.requirement, requirement_text=d.requirement_text,
        span=Span(file, d.line_start, max(d.line_start, d.line_end), page),
        integration=integration, scope=d.scope, scenario=d.scenario, notes=d.notes,
        renamed_from=s.renamed_from if s and stray is None else (), page=page,
        page_updated=updated, warnings=d.warnings + d.requirement.warnings
        + ((stray,) if stray is not None else ())) for path in paths]
