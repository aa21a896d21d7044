"""Which parser reads a document, and the parsers: one module per input format.

``parse(data, file, format=None)`` is the one way in: it tells the format from the bytes and the
text (``pipeline.parsers.detect``) unless ``format`` names one, decodes the text, bounds it, removes
control characters (with a warning) and runs the format's parser. A new format is a module here
and a line in ``PARSERS`` (and, if it can be told from its content, a rule in ``detect.py``).
Text parsers take ``(text, file, memo)``, the PDF parser the bytes instead of the text; ``memo`` is
the build's ``ParseMemo`` (``pipeline.parsers.memo``: each distinct text read once), or None.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

from pipeline.core.errors import ParseError, warning
from pipeline.core.model import ParsedDocument
from pipeline.core.normalize import strip_controls
from pipeline.parsers import columns, markdown, pdftext, webtext
from pipeline.parsers.memo import ParseMemo
from pipeline.parsers.sections import also_required

#: the most characters a text document may decode to
MAX_DOCUMENT_CHARS = 8_000_000


def _pdf(data: bytes, file: str, memo: ParseMemo | None = None) -> ParsedDocument:
    from pipeline.parsers import pdf  # pdfplumber is loaded only for a PDF

    return pdf.parse(data, file, memo)


#: format name -> parser
PARSERS: dict[str, Callable[..., ParsedDocument]] = {
    "markdown": markdown.parse,
    "web_text": webtext.parse,
    "pdf_text": pdftext.parse,
    "column_text": columns.parse,
    "pdf": _pdf,
}
#: formats whose parser reads the bytes, not decoded text
BINARY = {"pdf"}


@dataclasses.dataclass(frozen=True)
class Parsed:
    doc: ParsedDocument
    format: str
    #: how the text was decoded ("pdf" for a PDF)
    encoding: str


def parse(data: bytes, file: str, format: str | None = None, memo: ParseMemo | None = None) -> Parsed:
    """One document's bytes -> what its parser read. Raises ``ParseError`` naming ``file``
    (never anything else: a parser bug is reported as one, naming the file). ``memo``: what
    this build read before (``ParseMemo``), None to read everything afresh."""
    from pipeline.parsers import detect

    removed = None
    if format in (None, "pdf") and data.startswith(b"%PDF"):
        format, encoding, source = "pdf", "pdf", data
    elif format in BINARY:
        raise ParseError(file, 1, f"metadata says {format!r}, but the file is not one")
    else:
        text, encoding = detect.decode(data, file)
        text, removed = strip_controls(text, file)
        if len(text) > MAX_DOCUMENT_CHARS:
            raise ParseError(file, 1, f"{len(text):,} characters: more than the {MAX_DOCUMENT_CHARS:,} "
                                      f"a document is read for")
        if format is None:
            found = detect.detect_format(data, text)
            # text in no layout the parsers know is still a capture of its page, one that lists
            # nothing: read as plain web text, whose parser says nothing was readable (only bytes
            # that are no text at all stop the build, in ``detect.decode``)
            format = found.value if found is not None else detect.Format.WEB_TEXT.value
        if format not in PARSERS:
            raise ParseError(file, 1, f"unknown format {format!r} (metadata); known: {sorted(PARSERS)}")
        source = text
    try:
        doc = PARSERS[format](source, file, memo)
    except ParseError as e:
        if not e.file:  # raised where the file is not known (``htmltable``): it is this one
            raise ParseError(file, e.line, e.message) from None
        raise
    except Exception as e:  # a parser bug must still name the file, never print a traceback
        raise ParseError(file, 1, f"the {format} parser failed ({type(e).__name__}: {e}); "
                                  f"please report this file") from e
    if removed:
        doc = dataclasses.replace(doc, warnings=(removed, *doc.warnings))
    return Parsed(with_also_required(doc), format, encoding)


def with_also_required(doc: ParsedDocument) -> ParsedDocument:
    """Each statement with the other categories its text says the mini-program must also hold
    (``需补充：金融业-证券/期货类目``), read the same in every format from wherever the phrase
    stands: notes and callouts, the 类目适用范围 text, the scenario, the requirement text. A
    phrase that names no clear category (``需补充医疗相关类目``) stays text, with a warning."""
    out = []
    for st in doc.statements:
        paths, vague = also_required((*st.notes, st.scope, st.scenario, st.requirement_text))
        warned = tuple(warning("vague_also_requires", f"{p!r} names no clear category: kept as text, no category read")
                       for p in vague)
        out.append(dataclasses.replace(st, also_requires=paths, warnings=st.warnings + warned)
                   if paths or warned else st)
    return dataclasses.replace(doc, statements=tuple(out))
