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


def test_report_loads_filters_and_is_screenshotted(driver, fresh_build):
    from selenium.webdriver.common.by import By

    result, output = fresh_build
    page = output / "reports" / f"{result.version}.html"
    driver.get(page.as_uri())
    assert driver.title.startswith("Review report")
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    cards = driver.find_elements(By.CSS_SELECTOR, ".card")
    assert cards and "categories added" in cards[0].text, "summary counts come first"
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.row")
    assert len(rows) > 50
    box = driver.find_element(By.ID, "filter")
    box.send_keys("公募基金")
    time.sleep(0.3)
    visible = [r for r in rows if r.is_displayed()]
    assert 0 < len(visible) < len(rows)
    assert all("公募基金" in r.text or "公募基金" in r.find_element(By.XPATH, "ancestor::section").text for r in visible)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-filtered.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    box.clear()
    box.send_keys(" ")
    box.clear()
    driver.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
    time.sleep(0.3)
    assert all(r.is_displayed() for r in rows[:20]), "clearing the filter shows everything again"
    assert [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []


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
