"""Errors that carry a location, so a person can open the file at the line."""
from __future__ import annotations

from dataclasses import dataclass, replace


class PipelineError(Exception):
    """Base class for every error the pipeline reports to a user as one line."""


class ParseError(PipelineError):
    """A document that cannot be turned into records.

    Printed as ``raw/<file>:<line>: <what is wrong>``; ``line`` is 1-based.
    """

    def __init__(self, file: str, line: int, message: str):
        self.file = file
        self.line = line
        self.message = message
        super().__init__(f"{file}:{line}: {message}")

    def __reduce__(self):
        # a pool worker's error is pickled back to the build: rebuilt from its three parts
        # (the default would call __init__ with the one formatted string and fail)
        return (type(self), (self.file, self.line, self.message))


class StoreError(PipelineError):
    """Output could not be read or written (lock held, corrupt dataset, ...)."""


class SchemaError(PipelineError):
    """A record does not match its published JSON Schema: the build stops, naming the record."""


#: every kind of warning, listed once: what the pipeline read but could not be sure of, or did
#: not read. A warning is data (``PipelineWarning``); its text form is what is printed and published.
WARNING_KINDS = {
    # reading the raw folders and earlier versions
    "skipped": "an entry of a raw folder that is not read (a readme, a hidden name, a link)",
    "unreadable_version": "a published version that cannot be read; the build goes on without it",
    "feed_entry_untold": "a version whose feed entry cannot tell what changed (a version it compares with unreadable)",
    # decoding
    "control_characters": "control characters removed from a document's text",
    # tables
    "row_without_tr": "an HTML table row without <tr>",
    "rowspan_ends_early": "a row with cells of its own where a rowspan above was still running",
    "rowspan_past_end": "a rowspan running past the last row of its table",
    "pipe_header_wider": "a pipe table header with more cells than columns: its empty cells dropped",
    "table_not_closed": "a <table> never closed",
    "continued_row": "a line of a column layout that continues the table row above",
    "unread_column": "a column of a category table that no field takes",
    "scenario_without_method": "a scenario table without an access-method column",
    # sections and sentences
    "unknown_access_method": "a lead-in naming an access method that is none of the known names",
    "sentence_without_section": "a 具备…类目 sentence naming a category no section has",
    "sentence_elsewhere": "a 具备…类目 sentence under a heading naming another category",
    "unreadable_needs": "a sentence naming the categories a method needs that cannot be read",
    "vague_also_requires": "a 需补充…类目 phrase that names no clear category",
    "nothing_readable": "a capture in which no category section, scenario table or licence list was found",
    "truncated": "a capture that looks cut short",
    # the grammar of a requirement
    "no_requirement_table": "a section with no requirement table: requirement unknown",
    "no_declared_rule": "a list of items without a declared rule: read as all required",
    "unreadable_count": "a declared count that cannot be read: left unknown",
    "or_and_mixed": "或 and 和/与/及 in one sentence",
    "unclosed_bracket": "a bracket that is not closed",
    "rule_in_note": "a note in brackets that states a rule, kept as text",
    "malformed_title": "a 《》 title closed or opened by the wrong mark",
    "several_sentences": "an entry of several sentences, kept whole",
    # reconciliation
    "joined_cell_split": "an eligibility cell joined by 、 read as several categories",
    "joined_cell_kept_whole": "an eligibility cell joined by 、 kept whole: the names do not settle it",
}


@dataclass(frozen=True)
class PipelineWarning:
    """Something read that a person should check, where it is: ``file`` (as every record's
    ``source_file``, or a path) and 1-based ``line`` when known, its ``kind``
    (``WARNING_KINDS``) and what is wrong. Printed and published as its text (``str``):
    ``file:line: message``, ``line N: message`` within a record, or the message alone."""

    file: str | None
    line: int | None
    kind: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in WARNING_KINDS:
            raise ValueError(f"unknown warning kind {self.kind!r}")

    def __str__(self) -> str:
        if self.file is not None and self.line is not None:
            return f"{self.file}:{self.line}: {self.message}"
        if self.file is not None:
            return f"{self.file}: {self.message}"
        if self.line is not None:
            return f"line {self.line}: {self.message}"
        return self.message

    def at(self, file: str | None = None, delta: int = 0) -> "PipelineWarning":
        """The same warning in ``file`` (when given), ``delta`` lines further down."""
        line = None if self.line is None else self.line + delta
        return replace(self, file=self.file if file is None else file, line=line)

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "kind": self.kind, "message": self.message}

    @classmethod
    def from_dict(cls, d: dict) -> "PipelineWarning":
        return cls(d["file"], d["line"], d["kind"], d["message"])


def warning(kind: str, message: str, file: str | None = None, line: int | None = None) -> PipelineWarning:
    """A ``PipelineWarning`` (keywords in the order a producer knows them)."""
    return PipelineWarning(file, line, kind, message)
