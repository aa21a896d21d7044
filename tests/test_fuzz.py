"""Random and mutated documents into every parser: the only exception allowed out is ParseError.

Derandomized so CI runs the same examples every time; run with ``--hypothesis-seed`` (and a
larger ``FUZZ_EXAMPLES``) to explore further."""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from pipeline.core import records
from pipeline.build import parse_raw
from pipeline.core.errors import ParseError
from pipeline.parsers import PARSERS
from pipeline.store import RawFile

SEEDS = [p.read_text() for p in sorted((ROOT / "raw").iterdir()) if p.is_file()]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
# characters the parsers react to, plus some CJK
ALPHABET = list("《》（）()选1234567890一二三①⑥、：:;；，,。或与及和-/ \t\n<>tdrhbuli=\"'【】#>!*") + \
    list("资质要求说明类目具备可使用进行接入金融业银行证书许可需同时提供最近更新时间场景")


@st.composite
def mutated(draw):
    lines = draw(st.sampled_from(SEEDS)).split("\n")
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate", "splice"]))
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[j])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, draw(st.text(ALPHABET, max_size=40)))
        elif op == "truncate":
            lines = lines[:i + 1]
            if lines:
                cut = draw(st.integers(0, len(lines[-1])))
                lines[-1] = lines[-1][:cut]
        else:
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + draw(st.text(ALPHABET, max_size=12)) + lines[i][k:]
    return "\n".join(lines)


def _only_parse_errors(text: str) -> None:
    for fmt, parse in PARSERS.items():
        try:
            parse(text, "raw/fuzz.txt")
        except ParseError:
            pass
    try:
        doc, info = parse_raw(RawFile("raw/fuzz.txt", ROOT / "raw" / "fuzz.txt", text.encode("utf-8")))
    except ParseError:
        return
    rows = records.document_to_rows(doc, info)
    assert all(r["category_raw"] and all(r["category_raw"]) for r in rows["requirements"])


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(mutated())
def test_mutated_documents(text):
    _only_parse_errors(text)


@SETTINGS
@given(st.text(ALPHABET, max_size=400))
def test_random_text(text):
    _only_parse_errors(text)


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data):
    try:
        parse_raw(RawFile("raw/fuzz.bin", ROOT / "raw" / "fuzz.bin", data))
    except ParseError:
        pass


PDF_SEED = (ROOT / "tests" / "fixtures" / "pdf" / "004-flowing-text.pdf").read_bytes()


@settings(max_examples=max(10, EXAMPLES // 4), deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(st.integers(0, len(PDF_SEED) - 1), st.integers(0, 255)), max_size=8),
       st.integers(200, len(PDF_SEED)))
def test_mutated_pdf_bytes(flips, cut):
    from pipeline.parsers import pdf

    data = bytearray(PDF_SEED[:cut])
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    try:
        pdf.parse(bytes(data), "raw/fuzz.pdf")
    except ParseError:
        pass
