"""The published tables: their fields, types and descriptions, in one place.

JSON rows keep nested structure as it is; in Parquet, fields of kind ``json`` are stored as
JSON text (Parquet has no recursive types, and ``items`` nests to any depth), lists of strings
as ``list<string>``. A change to any field here bumps ``SCHEMA_VERSION``.
"""
from __future__ import annotations

from pipeline.core.model import CAPABILITIES, RULES, STATEMENT_KINDS

#: every conflict status, in the order the report lists them, with what it means: the one list
#: the schema, the report, the listings and ``check`` read
CONFLICT_STATUSES = {
    "open": "bears on today's answer (the statements that hold today disagree, or the newest version of "
            "a page changed it) and nobody decided: waits for a decision",
    "stale": "decided on values that changed since, or on a conflict that is gone: waits for a decision again",
    "decided": "a reviewer decided it (review/decisions.toml)",
    "history": "a change between older versions of a page that later versions superseded, or a revision "
               "lacking what the next one lists again: the category's dated history, needs no decision",
    "gap": "documents lost in a capture (a coverage gap, reported)",
    "info": "a difference between capabilities (informative)",
}
#: conflict statuses waiting for a person: open (never decided) and stale (decided on values
#: that have changed since, or on a conflict that is gone)
UNRESOLVED = ("open", "stale")
#: severities of the conflicts a person decides, most serious first (gap and info conflicts
#: are reported, not decided)
SEVERITY_ORDER = ("high", "medium", "low")
#: every severity a conflict has
SEVERITIES = SEVERITY_ORDER + ("gap", "info")

SCHEMA_VERSION = "5.0.0"

#: what a requirement record states, whatever capture it comes from: the fields its
#: ``content_hash`` covers, in this order (every field but the capture's own, its record id and
#: what was read around the requirement: text, section, warnings)
REQUIREMENT_CONTENT_FIELDS = ("page", "page_part", "capability", "category_raw", "category", "category_id", "covers",
                              "rule", "pick", "of", "options", "declared", "documents", "items_missing",
                              "integration", "scope", "scenario", "renamed_from", "kind", "conditions", "items",
                              "notes", "integration_also")

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
        ("kind", "str", "qualification (what the category must show) | eligibility (the page lists the category as one "
                         "that may use the capability or access method, and states no documents: every requirement "
                         "field is null or empty)"),
        ("category_raw", "list", "category levels as written"),
        ("category", "list", "canonical category levels (width/space folded, aliases applied)"),
        ("category_id", "str", "stable id of the canonical category"),
        ("covers", "str", "children: the statement covers every sub-category of `category` (its last level as "
                          "written is 所有二级类目); null: the category itself"),
        ("rule", "str", "any | all | none | unknown; null for an eligibility statement (it states no requirement)"),
        ("pick", "int", "for any: how many alternatives must be provided (the k of N选k)"),
        ("of", "int", "for any: the number of alternatives the source DECLARES; null if none"),
        ("options", "int", "for any: how many top-level alternatives are actually listed"),
        ("declared", "str", "the declaration as written: （3选1）, 需同时提供, 或"),
        ("conditions", "list", "restrictions on the whole requirement: 仅支持…; for an eligibility statement, the "
                               "restrictions its list sets for every category it lists (只针对国内主体)"),
        ("items", "json", "the requirement's entries: {text, label, documents, conditions, group, line}"),
        ("documents", "list", "every 《》 title in the requirement text, first-appearance order"),
        ("items_missing", "bool", "a rule or 需同时提供 is declared but its items are absent"),
        ("integration", "str", "live streaming access method: 标准直播+直播标签, 小程序·云直播插件, 微信原生组件标签"),
        ("integration_text", "str", "the sentence that names the method as written: 具备…进行接入, a category "
                                     "table's lead-in (若您的小程序已具备以下类目，可…接入), 由于M需要先满足【X】类目"),
        ("integration_line", "int", "line of that sentence"),
        ("integration_also", "json", "[{category, method}] from 若同时具备… sentences"),
        ("renamed_from", "list", "former names the document states (原二级名称为【…】)"),
        ("scenario", "str", "小程序直播场景"),
        ("scope", "str", "类目适用范围"),
        ("notes", "list", "注意 notes of the section"),
        ("also_requires_categories", "json", "[[level, …], …]: other categories the text says the mini-program must "
                                             "also hold (需补充：金融业-证券/期货类目 -> [[\"金融业\", \"证券/期货\"]]), levels "
                                             "as written; the text stays in notes, scope or the requirement text"),
        ("requirement_text", "str", "the qualification text the structure was read from"),
        ("warnings", "list", "recoverable oddities found while reading this record"),
        ("provenance", "json", "{file, line_start, line_end, page, pdf_page}; for a PDF, lines count the text read from it"),
        ("content_hash", "str", "what the record states, as a name: records of any capture with the same hash state the "
                                "same thing of the same category on the same page. The first 16 hex digits of the "
                                "sha256 of the JSON array of the fields " + ", ".join(REQUIREMENT_CONTENT_FIELDS)
                                + " (in that order; object keys sorted, no spaces, non-ASCII as is)"),
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
        ("captures", "json", "[{file, captured}]: every capture of these bytes, this file first (a page captured "
                             "again unchanged is one source, parsed once; its records name the first file)"),
        ("record_counts", "json", "{requirements, scenarios, licenses}"),
        ("links", "json", "[{pdf_page, uri}]: link annotations of a PDF, kept apart from its text"),
        ("truncated", "str", "why the capture looks cut short (ends inside a table, right after a heading, "
                             "before the section of a category it names); null when it reads as complete"),
        ("warnings", "list", "recoverable oddities found in the document"),
    ],
    "conflicts": [
        ("id", "str", "stable conflict id (kind, relation, capability, page, category, field): survives rebuilds"),
        ("kind", "str", "count_differs | rule_differs | documents_differ | integration_differs | scope_differs | "
                        "scenario_differs | category_added | category_removed | category_renamed | rename_candidate (a "
                        "category gone and one come whose names differ by a letter or two: a typo fixed?) | category_moved (one "
                        "event: a category gone and its sub-categories come carrying its documents, or one come "
                        "under the same parent requiring the same or nearly the same documents; a move into the "
                        "only sub-category, its name the old one with a level added, is one category on that "
                        "page, under the newest name; `categories` lists both sides) | "
                        "count_mismatch | items_lost | capability_difference | conditions_differ (restrictions on the whole "
                        "requirement, 仅支持…) | entries_differ (what the entries require, where count, rule and "
                        "documents do not tell it: an entry without a 《》 title dropped, an alternative reworded "
                        "around the same title) | notes_differ (注意 notes; with the scenario, compared as what "
                        "they say together: a sentence moved between them is no change) | absent_from_revision (one "
                        "revision lacks categories the revisions before and after it list: a capture caught "
                        "mid-edit, neither removed nor added; 5 or more from one revision are one page-wide "
                        "event) | text_differs_slightly "
                        "(low: entries, conditions, notes, scope or scenario differ by a character or two standing "
                        "alone, a glyph lost in PDF text, 股权构 for 股权结构; values show the texts that differ; "
                        "never a 《》 title, a condition or entry dropped, a count, a numeral or a negation: "
                        "pipeline/reconcile/values.py); integration_differs also covers integration_also "
                        "(若同时具备… second methods)"),
        ("relation", "str", "version (one page over time) | page (different pages, one capability) | "
                            "capability (informative) | record (within one capture)"),
        ("severity", "str", " | ".join(SEVERITIES)),
        ("status", "str", " | ".join(f"{s} ({meaning})" for s, meaning in CONFLICT_STATUSES.items())),
        ("capability", "str", "capability (capability_difference: both, joined by +)"),
        ("category_id", "str", "canonical category id (null for a page-wide change: see categories)"),
        ("category", "list", "canonical category levels (empty for a page-wide change)"),
        ("categories", "json", "[{category_id, category}]: the categories it is about; a page-wide change (the same "
                               "change at the same version in 5 or more categories of a page) lists every one"),
        ("page", "str", "page key for version and record conflicts"),
        ("field", "str", "the field that differs: count, rule, documents, integration, scope, scenario, category, items"),
        ("summary", "str", "one line a person can read"),
        ("value_count", "int", "how many values it has: the records of conflict_values with its id (each "
                               "capture's value, one per category it names)"),
        ("values_hash", "str", "fingerprint of the values; a decision made on other values is stale"),
        ("decision", "json", "the decision applied from review/decisions.toml, with its status"),
    ],
    "conflict_values": [
        ("conflict_id", "str", "the conflict (conflicts.id) this is one value of"),
        ("position", "int", "its place among the conflict's values, from 0 (they read in this order)"),
        ("source_file", "str", "the capture the value is read from (the first file of an unchanged capture)"),
        ("source_sha256", "str", "sha256 of that capture's bytes"),
        ("page", "str", "page key of the capture"),
        ("date", "str", "the capture's date (最近更新时间, or when it was captured); null when unknown"),
        ("value", "str", "what the capture says of the field (a text a person reads)"),
        ("category_raw", "list", "the category's levels as the capture writes them"),
        ("line_start", "int", "first line of the capture the value is read from"),
        ("line_end", "int", "last line of it"),
    ],
    "categories": [
        ("category_id", "str", "canonical category id"),
        ("capability", "str", "capability"),
        ("category", "list", "canonical category levels"),
        ("names", "list", "every spelling seen in the sources"),
        ("covers", "str", "children: some page states its requirement for every sub-category of it (所有二级类目); "
                          "a sub-category's answer then includes that statement"),
        ("pages", "list", "page keys stating a requirement for it"),
        ("current", "json", "per page, its current statement: {page, source_file, date, rule, pick, of, options, "
                            "documents, integration, items_missing, line_start}"),
        ("conflicts", "list", "ids of the conflicts about it"),
        ("open_conflicts", "int", "how many of them are open"),
        ("review", "json", "for names used by one page only: {reason, candidates: [{category_id, category, score}]}"),
    ],
    "current": [
        ("capability", "str", "capability"),
        ("category_id", "str", "canonical category id"),
        ("category", "list", "canonical category levels"),
        ("status", "str", "current | list_from_older_capture (the newest capture declares the rule and lost its "
                          "list: the entries are the newest capture's that lists them, where they fit its rule) | list_lost (no "
                          "capture lists entries that fit it: see last_list) | eligibility_only (only eligibility lists name it: they state no documents) | open_conflict (versions or pages disagree, not decided) | decided (every conflict "
                          "about it decided by a reviewer: see decisions)"),
        ("statements", "json", "one per page (part) stating it today: {page, kind, rule, pick, of, options, "
                               "declared, conditions, items, documents, integration, items_missing, rule_source, items_source, "
                               "note}; rule_source / items_source: {source_file, line, date} of the capture the rule "
                               "and the entries come from (items_source null when no capture lists them); note: why "
                               "an older capture states it (the newest one is cut short); kind eligibility: the page lists the "
                               "category as eligible (integration: for which access method) and states no rule, "
                               "entries or documents; covers: children when the page states it for every "
                               "sub-category (所有二级类目), from_parent on a sub-category's row when it is such a "
                               "statement of its parent (note names the parent); last_list: where the newest capture lost its list and the last "
                               "complete one does not fit its rule (another rule, or a count other than the entries "
                               "listed), that list with its own {rule, pick, of, options, declared, items, documents, "
                               "source}: never merged into today's answer, whose entries are then unknown"),
        ("conflicts", "json", "[{id, kind, relation, severity, status, summary}]: the open, stale and decided "
                              "conflicts about it (summary cut at 300 characters)"),
        ("decisions", "json", "[{conflict, decision, reason, reviewer, date, status}]: reviewers' decisions on them"),
    ],
    "pages": [
        ("page_key", "str", "capability:URL where a source gives one, else capability:title (spaces aside), "
                            "else capability:untitled:<file> (its first capture's file); a capture without URL "
                            "or title that shares most categories with a page of the previous dataset version "
                            "continues it under that page's key"),
        ("capability", "str", "capability"),
        ("title", "str", "page title (its newest version's)"),
        ("url", "str", "page URL (metadata), when the page is identified by it"),
        ("parts", "list", "the tables of the page that are separate statements (非个人主体 / 个人主体 …), as its "
                          "current version names them; conflicts name a part as `page_key / part`"),
        ("inferred", "str", "how captures without a URL or title were taken as versions of this page, and "
                            "what is not known of their order"),
        ("versions", "json", "[{source_file, source_sha256, date, date_from, captured, truncated, current, "
                             "compared_with, added, removed, renamed, absent, moved}], oldest first (undated first): date is "
                             "the page's own (date_from page) else the capture's (date_from capture); captured "
                             "orders revisions of one day; added/removed/renamed count categories against "
                             "compared_with, the version before (for an undated version: the first dated "
                             "one, added meaning there and not here); a truncated capture removes nothing; absent: "
                             "categories this version lacks that the versions before and after it list (a "
                             "capture caught mid-edit), counted neither as removed here nor added after; moved: "
                             "categories gone whose place others took (conflict kind category_moved)"),
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

TABLE_ORDER = ("requirements", "scenarios", "licenses", "sources", "conflicts", "conflict_values", "categories",
               "current", "pages", "reviews")
#: tables whose rows each come from one source document (and carry its sha256)
SOURCE_TABLES = ("requirements", "scenarios", "licenses", "sources")
#: source tables published as a folder of chunks, each the records of consecutive sources
#: (``store.chunks``: written once, shared by every version that has the chunk); every other
#: table is one file per version
FOLDER_TABLES = ("requirements", "scenarios", "licenses", "conflict_values")
#: folder tables whose records the parser makes, source by source (the object store's); the
#: other one, ``conflict_values``, is made by reconciliation and grouped by source as it is written
PARSED_TABLES = ("requirements", "scenarios", "licenses")
#: the fields of one of a conflict's values, as ``conflicts.values`` held them before 5.0.0 and as
#: reconciliation and the readers of a version (``store.load_tables``) give them
VALUE_FIELDS = ("category_raw", "date", "line_end", "line_start", "page", "source_file", "source_sha256", "value")


def schema_markdown() -> str:
    """The field tables as Markdown (the README's schema section is this text)."""
    parts = []
    for table, fields in TABLES.items():
        parts.append(f"### `{table}`\n\n| field | type | meaning |\n|---|---|---|")
        parts += [f"| `{f}` | {k} | {d.replace('|', '/')} |" for f, k, d in fields]
        parts.append("")
    return "\n".join(parts)


# --- JSON Schema (draft 2020-12) of every table -------------------------------------------

SCHEMA_ID = "urn:tencent-compliance-pipeline:schema:{version}:{table}"

_STR = {"type": ["string", "null"]}
_INT = {"type": ["integer", "null"]}
_STRS = {"type": "array", "items": {"type": "string"}}
_PROVENANCE = {"type": "object", "additionalProperties": False,
               "required": ["file", "line_start", "line_end", "page", "pdf_page"],
               "properties": {"file": {"type": "string"}, "line_start": {"type": "integer", "minimum": 1},
                              "line_end": {"type": "integer", "minimum": 1}, "page": _STR, "pdf_page": _INT}}
_ITEM = {"type": "object", "additionalProperties": False,
         "required": ["text", "label", "documents", "conditions", "group", "line"],
         "properties": {"text": {"type": "string"}, "label": _STR, "documents": _STRS, "conditions": _STRS,
                        "group": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/group"}]}, "line": _INT}}
_GROUP = {"type": "object", "additionalProperties": False,
          "required": ["rule", "pick", "of", "options", "declared", "conditions", "items_missing", "items"],
          "properties": {"rule": {"enum": list(RULES)}, "pick": _INT, "of": _INT,
                         "options": _INT, "declared": _STR, "conditions": _STRS, "items_missing": {"type": "boolean"},
                         "items": {"type": "array", "items": {"$ref": "#/$defs/item"}}}}
_SHA = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_SOURCE = {"type": "object", "additionalProperties": False, "required": ["source_file", "line", "date"],
           "properties": {"source_file": {"type": "string"}, "line": {"type": "integer", "minimum": 1}, "date": _STR}}

#: field -> its JSON Schema where the kind alone says too little
FIELD_SCHEMAS: dict[tuple[str, str], dict] = {
    ("requirements", "items"): {"type": "array", "items": {"$ref": "#/$defs/item"}},
    ("requirements", "provenance"): _PROVENANCE,
    ("requirements", "integration_also"): {"type": "array", "items": {
        "type": "object", "required": ["category", "method"],
        "properties": {"category": {"type": "string"}, "method": {"type": "string"}}}},
    ("requirements", "rule"): {"enum": [*RULES, None]},
    ("requirements", "capability"): {"enum": list(CAPABILITIES)},
    ("requirements", "kind"): {"enum": list(STATEMENT_KINDS)},
    ("requirements", "covers"): {"enum": ["children", None]},
    ("requirements", "category_raw"): {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    ("requirements", "category_id"): {"type": "string", "pattern": "^cat_[0-9a-f]{16}$"},
    ("requirements", "id"): {"type": "string", "pattern": "^req_[0-9a-f]{16}$"},
    ("scenarios", "provenance"): _PROVENANCE,
    ("licenses", "provenance"): _PROVENANCE,
    ("sources", "pages"): {"type": "array", "items": {"type": "object", "required": ["title", "updated", "kind"]}},
    ("sources", "record_counts"): {"type": "object", "required": ["requirements", "scenarios", "licenses"],
                                   "additionalProperties": {"type": "integer"}},
    ("sources", "links"): {"type": "array", "items": {"type": "object", "required": ["pdf_page", "uri"]}},
    ("conflicts", "id"): {"type": "string", "pattern": "^cfl_[0-9a-f]{16}$"},
    ("conflicts", "status"): {"enum": list(CONFLICT_STATUSES)},
    ("conflicts", "severity"): {"enum": list(SEVERITIES)},
    ("conflicts", "relation"): {"enum": ["version", "page", "capability", "record"]},
    ("conflicts", "value_count"): {"type": "integer", "minimum": 1},
    ("conflict_values", "conflict_id"): {"type": "string", "pattern": "^cfl_[0-9a-f]{16}$"},
    ("conflict_values", "position"): {"type": "integer", "minimum": 0},
    ("conflicts", "categories"): {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["category_id", "category"], "additionalProperties": False,
        "properties": {"category_id": {"type": "string"}, "category": {"type": "array", "items": {"type": "string"}}}}},
    ("conflicts", "decision"): {"anyOf": [{"type": "null"}, {"type": "object", "required": ["conflict", "decision", "status"]}]},
    ("categories", "current"): {"type": "array", "items": {"type": "object", "required": ["page", "source_file", "rule"]}},
    ("categories", "review"): {"anyOf": [{"type": "null"}, {"type": "object", "required": ["reason", "candidates"]}]},
    ("current", "status"): {"enum": ["current", "list_from_older_capture", "list_lost", "eligibility_only",
                                     "open_conflict", "decided"]},
    ("current", "statements"): {"type": "array", "minItems": 1, "items": {
        "type": "object", "additionalProperties": False,
        "required": ["page", "kind", "rule", "pick", "of", "options", "declared", "conditions", "items", "documents",
                     "integration", "items_missing", "rule_source", "items_source", "note", "covers", "last_list"],
        "properties": {"page": {"type": "string"}, "kind": {"enum": list(STATEMENT_KINDS)},
                       "rule": {"enum": [*RULES, None]},
                       "pick": _INT, "of": _INT, "options": _INT, "declared": _STR, "conditions": _STRS,
                       "items": {"type": "array", "items": {"$ref": "#/$defs/item"}}, "documents": _STRS,
                       "integration": _STR, "items_missing": {"type": "boolean"},
                       "rule_source": {"$ref": "#/$defs/source"},
                       "items_source": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/source"}]}, "note": _STR,
                       "covers": {"enum": ["children", "from_parent", None]},
                       "last_list": {"anyOf": [{"type": "null"}, {"type": "object", "required": [
                           "rule", "pick", "of", "options", "declared", "items", "documents", "source"],
                           "properties": {"source": {"$ref": "#/$defs/source"}}}]}}}},
    ("current", "conflicts"): {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "kind", "relation", "severity", "status", "summary"],
        "properties": {"id": {"type": "string", "pattern": "^cfl_[0-9a-f]{16}$"}, "kind": {"type": "string"},
                       "relation": {"type": "string"}, "severity": {"type": "string"},
                       "status": {"enum": ["open", "stale", "decided"]}, "summary": {"type": "string"}}}},
    ("current", "decisions"): {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["conflict", "decision", "reason", "reviewer", "date", "status"],
        "properties": {k: {"type": "string"} for k in ("conflict", "decision", "reason", "reviewer", "date", "status")}}},
    ("pages", "versions"): {"type": "array", "items": {"type": "object", "required": ["source_file", "source_sha256", "date", "current"]}},
    ("reviews", "status"): {"enum": ["applied", "stale"]},
}
#: fields that are never null
NOT_NULL = {("requirements", f) for f in ("id", "source_sha256", "source_file", "capability", "category_id",
                                          "format", "kind")} | \
    {(t, "source_sha256") for t in ("scenarios", "licenses", "sources")} | \
    {(t, "id") for t in ("scenarios", "licenses", "conflicts")} | \
    {("conflicts", f) for f in ("kind", "relation", "severity", "status", "summary")} | \
    {("conflict_values", f) for f in ("conflict_id", "position", "source_file", "source_sha256", "value",
                                      "line_start")} | \
    {("categories", "category_id"), ("pages", "page_key"), ("reviews", "conflict")} | \
    {("current", f) for f in ("capability", "category_id", "status")}


def json_schema(table: str) -> dict:
    """The JSON Schema (draft 2020-12) of one record of ``table``."""
    kinds = {"str": _STR, "int": _INT, "bool": {"type": "boolean"}, "list": _STRS, "json": {}}
    props = {}
    for name, kind, desc in TABLES[table]:
        sub = dict(FIELD_SCHEMAS.get((table, name), kinds[kind]))
        if (table, name) in NOT_NULL and sub.get("type") in (["string", "null"], ["integer", "null"]):
            sub["type"] = sub["type"][0]
        if (table, name) == ("sources", "source_sha256") or name == "source_sha256":
            sub = dict(_SHA)
        props[name] = dict(sub, description=desc)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(version=SCHEMA_VERSION, table=table),
        "title": f"{table} record (schema {SCHEMA_VERSION})",
        "type": "object",
        "additionalProperties": False,
        "required": [f for f, _, _ in TABLES[table]],
        "properties": props,
        "$defs": {"item": _ITEM, "group": _GROUP, **({"source": _SOURCE} if table == "current" else {})}
        if table in ("requirements", "current") else {},
    }


def table_schema(table: str) -> dict:
    """The JSON Schema of a whole ``<table>.json`` file: its header and every record."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(version=SCHEMA_VERSION, table=table) + ":file",
        "type": "object",
        "required": ["schema_version", "table", "records", "dataset_version"],
        "properties": {"schema_version": {"const": SCHEMA_VERSION}, "table": {"const": table},
                       "dataset_version": {"type": "string"},
                       "records": {"type": "array", "items": {"$ref": SCHEMA_ID.format(version=SCHEMA_VERSION, table=table)}}},
    }


class SchemaViolation(Exception):
    """A record that does not match its table's JSON Schema (a bug: the build stops)."""


_VALIDATORS: dict[str, object] = {}


def validate_row(table: str, row: dict) -> None:
    """Check a record against its table's JSON Schema; the message names the record.

    Validated with jsonschema-rs (the same draft 2020-12 schema shipped with the dataset): a
    build can hold hundreds of thousands of records, and it checks them 5x faster than
    fastjsonschema's compiled Python (and ~20x faster than the reference validator)."""
    import jsonschema_rs

    check = _VALIDATORS.get(table)
    if check is None:
        check = _VALIDATORS[table] = jsonschema_rs.validator_for(json_schema(table))
    try:
        check.validate(row)
    except jsonschema_rs.ValidationError as e:
        where = ""
        prov = row.get("provenance")
        if isinstance(prov, dict):
            where = f" ({prov.get('file')}:{prov.get('line_start')})"
        ident = row.get("id") or row.get("source_sha256") or row.get("category_id") or row.get("page_key") or row.get("conflict")
        field = "/".join(str(p) for p in e.instance_path) or "(record)"
        raise SchemaViolation(f"{table} record {ident}{where} does not match schema {SCHEMA_VERSION}: "
                              f"{field}: {e.message}") from None


def rows_validator(table: str):
    """A check of many records of ``table`` at once, ``check(rows)``: one call into jsonschema-rs
    for them all (the JSON Schema of an array of them), not one per record (500,000 conflict
    values: 0.38 s CPU one by one, 0.15 s in lists of 2,000). It raises
    ``SchemaViolation`` as ``validate_row`` does, for the first record that does not match. Its
    caller keeps it (the build, for its conflict values)."""
    import jsonschema_rs

    schema = json_schema(table)
    many = jsonschema_rs.validator_for({"$schema": schema["$schema"], "type": "array", "items": schema})

    def check(rows: list[dict]) -> None:
        if many.is_valid(rows):
            return
        for row in rows:  # (which one, and what of it: as validate_row says it)
            validate_row(table, row)
        raise SchemaViolation(f"{table}: {len(rows)} records do not match schema {SCHEMA_VERSION}")

    return check


#: primary keys of the published tables
PRIMARY_KEYS = {"requirements": ["id"], "scenarios": ["id"], "licenses": ["id"], "sources": ["source_sha256"],
                "conflicts": ["id"], "conflict_values": ["conflict_id", "position"],
                "categories": ["category_id", "capability"],
                "current": ["category_id", "capability"], "pages": ["page_key"],
                "reviews": ["conflict"]}


def table_schema_fields(table: str) -> dict:
    """The Frictionless Table Schema of a table."""
    fields = []
    for name, kind, desc in TABLES[table]:
        t = {"str": "string", "int": "integer", "bool": "boolean", "list": "array"}.get(kind)
        if t is None:
            sub = FIELD_SCHEMAS.get((table, name), {})
            t = sub.get("type") if isinstance(sub.get("type"), str) else "any"
        fields.append({"name": name, "type": t, "description": desc})
    # records are written with sorted keys, and Frictionless matches keyed JSON by position
    fields.sort(key=lambda f: f["name"])
    out = {"fields": fields, "primaryKey": PRIMARY_KEYS[table]}
    if table == "conflict_values":
        out["foreignKeys"] = [{"fields": ["conflict_id"], "reference": {"resource": "conflicts", "fields": ["id"]}}]
    return out
