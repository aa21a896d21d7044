"""The published tables: their fields, types and descriptions, in one place.

JSON rows keep nested structure as it is; in Parquet, fields of kind ``json`` are stored as
JSON text (Parquet has no recursive types, and ``items`` nests to any depth), lists of strings
as ``list<string>``. A change to any field here bumps ``SCHEMA_VERSION``.
"""
from __future__ import annotations

SCHEMA_VERSION = "1.3.0"

#: table -> [(field, kind, description)]; kind: str, int, bool, list (of str), json
TABLES: dict[str, list[tuple[str, str, str]]] = {
    "requirements": [
        ("id", "str", "stable id of this record (source, capability, page, category, line)"),
        ("source_sha256", "str", "sha256 of the raw file's bytes"),
        ("source_file", "str", "raw file, e.g. raw/001_….txt"),
        ("format", "str", "markdown | web_text | pdf_text | column_text | pdf"),
        ("page", "str", "page title inside the document, when it has one"),
        ("page_updated", "str", "the page's own 最近更新时间 date (YYYY-MM-DD), or metadata"),
        ("capability", "str", "face_verification | live_streaming | category_list"),
        ("section", "str", "table or page part the record comes from"),
        ("page_part", "str", "the table a record comes from when a page holds several separate category tables"),
        ("kind", "str", "qualification | whitelist (a category list without a qualification column)"),
        ("category_raw", "list", "category levels as written"),
        ("category", "list", "canonical category levels (width/space folded, aliases applied)"),
        ("category_id", "str", "stable id of the canonical category"),
        ("rule", "str", "any | all | none | unknown"),
        ("pick", "int", "for any: how many alternatives must be provided (the k of N选k)"),
        ("of", "int", "for any: the number of alternatives the source DECLARES; null if none"),
        ("options", "int", "for any: how many top-level alternatives are actually listed"),
        ("declared", "str", "the declaration as written: （3选1）, 需同时提供, 或"),
        ("conditions", "list", "restrictions on the whole requirement: 仅支持…"),
        ("items", "json", "the requirement's entries: {text, label, documents, conditions, group, line}"),
        ("documents", "list", "every 《》 title in the requirement text, first-appearance order"),
        ("items_missing", "bool", "a rule or 需同时提供 is declared but its items are absent"),
        ("integration", "str", "live streaming access method: 标准直播+直播标签, 小程序·云直播插件, 微信原生组件标签"),
        ("integration_text", "str", "the 具备…进行接入 sentence as written"),
        ("integration_line", "int", "line of that sentence"),
        ("integration_also", "json", "[{category, method}] from 若同时具备… sentences"),
        ("renamed_from", "list", "former names the document states (原二级名称为【…】)"),
        ("scenario", "str", "小程序直播场景"),
        ("scope", "str", "类目适用范围"),
        ("notes", "list", "注意 notes of the section"),
        ("requirement_text", "str", "the qualification text the structure was read from"),
        ("warnings", "list", "recoverable oddities found while reading this record"),
        ("provenance", "json", "{file, line_start, line_end, page, pdf_page}; for a PDF, lines count the text read from it"),
    ],
    "scenarios": [
        ("id", "str", "stable id"),
        ("source_sha256", "str", "sha256 of the raw file's bytes"),
        ("source_file", "str", "raw file"),
        ("page", "str", "page title (方案选择, 小程序·云直播插件)"),
        ("page_updated", "str", "page date"),
        ("scenario", "str", "scenario label as written (场景1：政府主体账号); a row without a label of its own "
                            "is named after its page's access-method kind and content (插件：…)"),
        ("content", "str", "小程序内容场景 (rows of one scenario joined by ；)"),
        ("requirements", "list", "要求 cells"),
        ("solutions", "list", "接入方案 cells (access methods or 见场景N…方案)"),
        ("notes", "list", "注意/说明 under the scenario"),
        ("provenance", "json", "{file, line_start, line_end, page, pdf_page}; for a PDF, lines count the text read from it"),
    ],
    "licenses": [
        ("id", "str", "stable id"),
        ("source_sha256", "str", "sha256 of the raw file's bytes"),
        ("source_file", "str", "raw file"),
        ("page", "str", "page title (直播服务许可申请)"),
        ("page_updated", "str", "page date"),
        ("business", "str", "the business (经营网络表演业务)"),
        ("licence", "str", "the licence, without 《》"),
        ("authority", "str", "where to apply"),
        ("provenance", "json", "{file, line_start, line_end, page, pdf_page}; for a PDF, lines count the text read from it"),
    ],
    "sources": [
        ("source_sha256", "str", "sha256 of the raw file's bytes"),
        ("source_file", "str", "raw file"),
        ("bytes", "int", "size of the raw file"),
        ("encoding", "str", "how its text was decoded"),
        ("format", "str", "detected (or metadata) format: markdown, web_text, pdf_text, column_text, pdf"),
        ("capability", "str", "detected (or metadata) capability"),
        ("title", "str", "title of the first page"),
        ("updated", "str", "newest page date in the document (or metadata)"),
        ("pages", "json", "[{title, updated, kind, line_start, line_end}]"),
        ("url", "str", "source URL (metadata)"),
        ("captured", "str", "capture date (metadata)"),
        ("record_counts", "json", "{requirements, scenarios, licenses}"),
        ("links", "json", "[{pdf_page, uri}]: link annotations of a PDF, kept apart from its text"),
        ("warnings", "list", "recoverable oddities found in the document"),
    ],
    "conflicts": [
        ("id", "str", "stable conflict id (kind, relation, capability, page, category, field): survives rebuilds"),
        ("kind", "str", "count_differs | rule_differs | documents_differ | integration_differs | scope_differs | "
                        "scenario_differs | category_added | category_removed | category_renamed | count_mismatch | "
                        "items_lost | capability_difference"),
        ("relation", "str", "version (one page over time) | page (different pages, one capability) | "
                            "capability (informative) | record (within one capture)"),
        ("severity", "str", "high | medium | low | gap | info"),
        ("status", "str", "open | decided | stale | gap | info"),
        ("capability", "str", "capability (capability_difference: both, joined by +)"),
        ("category_id", "str", "canonical category id"),
        ("category", "list", "canonical category levels"),
        ("page", "str", "page key for version and record conflicts"),
        ("field", "str", "the field that differs: count, rule, documents, integration, scope, scenario, category, items"),
        ("summary", "str", "one line a person can read"),
        ("values", "json", "[{source_file, source_sha256, page, date, value, category_raw, line_start, line_end}]"),
        ("values_hash", "str", "fingerprint of the values; a decision made on other values is stale"),
        ("decision", "json", "the decision applied from review/decisions.toml, with its status"),
    ],
    "categories": [
        ("category_id", "str", "canonical category id"),
        ("capability", "str", "capability"),
        ("category", "list", "canonical category levels"),
        ("names", "list", "every spelling seen in the sources"),
        ("pages", "list", "page keys stating a requirement for it"),
        ("current", "json", "per page, its current statement: {page, source_file, date, rule, pick, of, options, "
                            "documents, integration, items_missing, line_start}"),
        ("conflicts", "list", "ids of the conflicts about it"),
        ("open_conflicts", "int", "how many of them are open"),
        ("review", "json", "for names used by one page only: {reason, candidates: [{category_id, category, score}]}"),
    ],
    "pages": [
        ("page_key", "str", "capability:title (or capability:untitled:<file>)"),
        ("capability", "str", "capability"),
        ("title", "str", "page title"),
        ("part", "str", "the table of the page, when a page holds several separate statements"),
        ("inferred", "str", "why an untitled document was taken as a version of this page"),
        ("versions", "json", "[{source_file, source_sha256, date, current}], oldest first (undated first)"),
    ],
    "reviews": [
        ("conflict", "str", "conflict id the decision is about"),
        ("decision", "str", "what was decided"),
        ("reason", "str", "why"),
        ("reviewer", "str", "who"),
        ("date", "str", "when (YYYY-MM-DD)"),
        ("values", "str", "fingerprint of the values the reviewer saw"),
        ("line", "int", "line of the decision in review/decisions.toml"),
        ("status", "str", "applied | stale"),
        ("stale_reason", "str", "values changed since the decision | conflict no longer exists"),
        ("summary", "str", "the conflict's summary"),
    ],
}

TABLE_ORDER = ("requirements", "scenarios", "licenses", "sources", "conflicts", "categories", "pages", "reviews")
#: tables whose rows each come from one source document (and carry its sha256)
SOURCE_TABLES = ("requirements", "scenarios", "licenses", "sources")


def schema_markdown() -> str:
    """The field tables as Markdown (the README's schema section is this text)."""
    parts = []
    for table, fields in TABLES.items():
        parts.append(f"### `{table}`\n\n| field | type | meaning |\n|---|---|---|")
        parts += [f"| `{f}` | {k} | {d.replace('|', '/')} |" for f, k, d in fields]
        parts.append("")
    return "\n".join(parts)
