"""The HTML report in a real browser: headless Chromium (Debian's package; skipped, with the
reason, where it is not installed), no console errors, the filter works, and a screenshot is
kept in tests/artifacts/."""
import time
from pathlib import Path

import pytest

from conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1600"]


#: what the test needs, and the Debian package that gives it (`.ci/run` installs them in CI)
NEEDS = (("chromium", "/usr/bin/chromium"), ("chromium-driver", "/usr/bin/chromedriver"),
         ("fonts-noto-cjk", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"))


def _require_chromium() -> None:
    """Skip, naming what is missing, when headless Chromium, its driver or a CJK font is not
    installed: `make test` never installs anything (`.ci/run` does, for CI)."""
    missing = [pkg for pkg, path in NEEDS if not Path(path).exists()]
    if missing:
        pytest.skip(f"headless Chromium not available: install {' '.join(missing)} (as .ci/run does)")


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    _require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    yield d
    d.quit()


SECTIONS = ["What needs a decision", "Current requirements", "What changed since the previous version",
            "Decided, history, gaps and informative differences", "Page versions", "Category names to review"]


def _counts_match_what_is_shown(driver) -> list[tuple[str, int]]:
    """Every count in the page (``.n[data-count]``) against the rows its selector names that
    are displayed (distinct ``data-key`` values where it says so); the counts read."""
    from selenium.webdriver.common.by import By

    got = []
    for el in driver.find_elements(By.CSS_SELECTOR, ".n[data-count]"):
        sel = el.get_attribute("data-count")
        shown = [r for r in driver.find_elements(By.CSS_SELECTOR, sel) if r.is_displayed()]
        if el.get_attribute("data-distinct"):
            expected = len({r.get_attribute("data-key") for r in shown})
        else:
            expected = len(shown)
        text = el.get_attribute("textContent")  # (.text is empty where a hidden section holds it)
        assert int(text) == expected, (sel, text, expected)
        got.append((sel, expected))
    return got


def _filter(driver, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "filter")
    box.clear()
    if text:
        box.send_keys(text)
    # (clear() fires no input event)
    driver.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
    time.sleep(0.2)


def test_report_opens_with_decisions_filters_and_counts_follow(driver, fresh_build):
    from selenium.webdriver.common.by import By

    result, output = fresh_build
    page = output / "reports" / f"{result.version}.html"
    driver.get(page.as_uri())
    assert driver.title.startswith("Review report")
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    heads = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
    assert [next(i for i, h in enumerate(heads) if h.startswith(x)) for x in SECTIONS] == list(range(len(SECTIONS))), heads
    cards = driver.find_elements(By.CSS_SELECTOR, ".card")
    assert cards and "conflicts open" in cards[0].text, "what needs a decision comes first"
    severities = [h.text.split(" (")[0] for h in driver.find_elements(By.CSS_SELECTOR, "#decide h3")]
    assert severities[:3] == ["High", "Medium", "Low"]
    # a page-wide change is one row, its categories listed in it
    wide = [r for r in driver.find_elements(By.CSS_SELECTOR, "#decide tr.row") if "page-wide:" in r.text]
    assert len(wide) == 1 and len(wide[0].find_elements(By.CSS_SELECTOR, "ul.cats li")) == 19
    assert len(driver.find_elements(By.CSS_SELECTOR, ".quote")) > 50, "values come with their source lines"
    before = dict(_counts_match_what_is_shown(driver))
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.row")
    assert len(rows) > 50 and before["#decide tr.row"] > 0
    ARTIFACTS.mkdir(exist_ok=True)
    top = ARTIFACTS / "report-top.png"
    driver.save_screenshot(str(top))
    _filter(driver, "公募基金")
    visible = [r for r in rows if r.is_displayed()]
    assert 0 < len(visible) < len(rows)
    assert all("公募基金" in r.text or "公募基金" in r.find_element(By.XPATH, "ancestor::section[1]").text for r in visible)
    after = dict(_counts_match_what_is_shown(driver))
    assert 0 < after["#decide tr.row"] < before["#decide tr.row"], "the counts follow the filter"
    assert not any(e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, ".nofilter"))
    shot = ARTIFACTS / "report-filtered.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000 and top.stat().st_size > 10_000
    _filter(driver, "")
    assert all(r.is_displayed() for r in rows), "clearing the filter shows everything again"
    assert dict(_counts_match_what_is_shown(driver)) == before
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []


def test_current_requirements_and_excerpts_in_the_browser(driver, tmp_path):
    """The sections a build of raw/ leaves empty (current requirements, a stale decision),
    from the data ``test_review_report.sample_data`` makes: shown, counted, filtered, and a
    document's markup in an excerpt is text."""
    from selenium.webdriver.common.by import By
    from test_review_report import HOSTILE, sample_data

    from pipeline.present import report

    data, _ = sample_data(tmp_path)
    page = tmp_path / "output" / "reports" / "v2.html"
    page.parent.mkdir(parents=True)
    page.write_text(report.to_html(data), encoding="utf-8")
    driver.get(page.as_uri())
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
    counts = dict(_counts_match_what_is_shown(driver))
    assert counts["#current tr.row"] == 2 and counts["#decide tr.row[data-status=stale]"] == 1
    quotes = [q.text for q in driver.find_elements(By.CSS_SELECTOR, ".quote")]
    assert any(HOSTILE in q for q in quotes), "markup from a document is shown as text"
    assert driver.execute_script("return document.scripts.length") == 1
    _filter(driver, "教育平台")
    counts = dict(_counts_match_what_is_shown(driver))
    assert counts["#current tr.row"] == 1 and counts["#decide tr.row"] == 1
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "report-current-filtered.png"))


def test_every_value_links_to_its_source_file(driver, fresh_build):
    from selenium.webdriver.common.by import By

    result, output = fresh_build
    driver.get((output / "reports" / f"{result.version}.html").as_uri())
    links = driver.find_elements(By.CSS_SELECTOR, "a.src")
    assert len(links) > 100
    for a in links[:40]:
        href = a.get_attribute("href")
        file, line = a.text.rsplit(":", 1)
        assert href.endswith("/" + file) and line.isdigit()
        assert (ROOT / file).exists() or file.startswith("raw/"), file


def test_a_missing_browser_is_a_skip_naming_what_to_install(monkeypatch, tmp_path):
    """`make test` installs nothing: without Chromium the browser test is skipped, and says
    what `.ci/run` would install."""
    import test_browser

    monkeypatch.setattr(test_browser, "NEEDS", (("chromium", str(tmp_path / "no-chromium")),))
    with pytest.raises(pytest.skip.Exception) as e:
        test_browser._require_chromium()
    assert "install chromium" in str(e.value)
