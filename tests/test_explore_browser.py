"""The explorer in a real browser: `mgrisk explore` is started on a free loopback port and
headless Chromium loads the page, moves sliders, and checks that the picture and the numbers
change, that bad settings show one message, and that the console stays free of errors.

CI (``CI`` set) must run it: `.ci/run` installs Chromium and its driver. Elsewhere it is skipped
when the browser, the driver, Shiny or Selenium is missing. With ``MGRISK_SCREENSHOTS=folder``
it also saves screenshots of the main states there (the ones in ``docs/``).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: Seconds to wait for the app: a clean CI clone compiles the numba kernels first (~15-40 s).
START_TIMEOUT = 240
#: Seconds to wait for a redraw after a control moves (the issue asks for 1 s; this is a
#: margin for a loaded 2-core CI machine; the measured time is printed by the test).
REDRAW_TIMEOUT = 20


def _missing() -> str | None:
    for module in ("selenium", "shiny"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


if _missing() and not os.environ.get("CI"):  # in CI the test must run: it fails instead
    pytest.skip(_missing(), allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mgrisk.cli", "explore", "--port", str(port), "--no-browser"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mgrisk explore exited with {proc.returncode}: {proc.stdout.read()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as page:
                    if page.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mgrisk explore did not answer on {url} in {START_TIMEOUT} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def driver():
    problem = _missing()
    if problem:
        pytest.fail(f"the browser test must run in CI: {problem}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mgrisk-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1700",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(predicate, timeout: float, what: str):
    """``predicate()`` once it is true; an element Shiny replaced while it was read (a stale
    reference) counts as not yet."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except StaleElementReferenceException:
            value = None
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _state(d):
    from selenium.webdriver.common.by import By

    found = d.find_elements(By.ID, "state")
    return found[0].get_attribute("data-state") if found else None


def _curve_src(d) -> str | None:
    from selenium.webdriver.common.by import By

    imgs = d.find_elements(By.CSS_SELECTOR, "#curve img")
    return imgs[0].get_attribute("src") if imgs else None


def _number(d, key: str) -> str | None:
    from selenium.webdriver.common.by import By

    cells = d.find_elements(By.CSS_SELECTOR, f'td[data-key="{key}"]')
    return cells[0].text if cells else None


def _drag(d, slider_id: str, pixels: int) -> None:
    from selenium.webdriver import ActionChains
    from selenium.webdriver.common.by import By

    handle = d.find_element(By.CSS_SELECTOR, f"div:has(> #{slider_id}) .irs-handle")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
    ActionChains(d).click_and_hold(handle).move_by_offset(pixels, 0).release().perform()


def _idle(d) -> None:
    """Wait until Shiny has been idle (no ``shiny-busy`` class) for 0.5 s."""
    script = "return document.documentElement.classList.contains('shiny-busy')"
    quiet_since = time.monotonic()
    deadline = quiet_since + REDRAW_TIMEOUT
    while time.monotonic() - quiet_since < 0.5:
        if d.execute_script(script):
            quiet_since = time.monotonic()
        if time.monotonic() > deadline:
            pytest.fail("the page stayed busy")
        time.sleep(0.05)


def _redraw(d, before: str, what: str) -> float:
    """Seconds until the curve's picture differs from ``before``."""
    start = time.monotonic()
    _wait(lambda: (_curve_src(d) or before) != before, REDRAW_TIMEOUT, what)
    return time.monotonic() - start


def _shot(d, name: str) -> None:
    folder = os.environ.get("MGRISK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        d.save_screenshot(str(Path(folder) / f"{name}.png"))


def _severe(d) -> list[str]:
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]


def test_explorer_in_a_browser(app_url, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = driver
    d.get(app_url)
    assert "mgrisk explore" in d.title or "mgrisk explore" in d.page_source
    _wait(lambda: _state(d) in ("warming", "ready"), 60, "the status line")
    _wait(lambda: _state(d) == "ready" and _curve_src(d), START_TIMEOUT, "the first picture")
    _wait(lambda: _number(d, "nadir"), REDRAW_TIMEOUT, "the numbers")
    _shot(d, "explore-u")
    first = _curve_src(d)
    assert first.startswith("data:image/png")
    assert _number(d, "true nadir").startswith("0.850")
    nadir = _number(d, "nadir")
    shape_words = d.find_element(By.ID, "shape-list").text
    assert "The true curve is U-shaped." in shape_words

    # move the true nadir: truth and estimate both change (a new cohort is drawn)
    _idle(d)
    _drag(d, "nadir", -70)
    seconds = _redraw(d, first, "the picture after moving the nadir")
    _wait(lambda: not _number(d, "true nadir").startswith("0.850"), REDRAW_TIMEOUT, "truth")
    _wait(lambda: _number(d, "nadir") != nadir, REDRAW_TIMEOUT, "the estimated nadir")
    print(f"\nredraw after moving the nadir slider: {seconds:.2f} s (browser round trip)")

    # a steeper high side
    _idle(d)
    second = _curve_src(d)
    _drag(d, "hr_high", 60)
    seconds = _redraw(d, second, "the picture after moving the steepness")
    print(f"redraw after moving the steepness slider: {seconds:.2f} s")

    # the corridor rule: only the results change, not the cohort
    _idle(d)
    third = _curve_src(d)
    d.find_element(By.CSS_SELECTOR, "input[name='rule'][value='ci']").click()
    _redraw(d, third, "the picture after changing the corridor rule")
    _wait(lambda: "CI of the HR" in _number(d, "corridor"), REDRAW_TIMEOUT, "the CI corridor")

    # draw 20 cohorts
    d.find_element(By.ID, "draws").click()
    drawn = _wait(
        lambda: d.find_elements(By.CSS_SELECTOR, "#draws_plot img"), 60, "the 20 cohorts' picture"
    )
    d.execute_script("arguments[0].scrollIntoView({block: 'center'});", drawn[0])
    _shot(d, "explore-draws")
    d.find_element(By.ID, "draws").click()

    # bad knots typed by hand: one message in the page, no traceback
    d.find_element(By.CSS_SELECTOR, "input[name='knot_mode'][value='hand']").click()
    box = d.find_element(By.ID, "knot_values")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("0.8, oops, 0.9", Keys.ENTER)
    problem = _wait(lambda: d.find_elements(By.ID, "problem"), REDRAW_TIMEOUT, "the message")
    text = problem[0].text
    assert "'oops' is not a number" in text and "Traceback" not in d.page_source
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("0.74, 0.8, 0.86, 0.94", Keys.ENTER)
    _wait(lambda: not d.find_elements(By.ID, "problem"), REDRAW_TIMEOUT, "the message to go")
    _wait(lambda: (_number(d, "knots") or "").startswith("0.74"), REDRAW_TIMEOUT, "hand knots")

    # a user's own file: fitted with the columns guessed from its header
    folder = Path(tempfile.mkdtemp(prefix="mgrisk-upload-test-"))
    from mgrisk import simulate_cohort

    good = folder / "my_cohort.csv"
    simulate_cohort("aric", n=3000, seed=2).drop(columns="true_log_hr").to_csv(good, index=False)
    bad = folder / "broken.csv"
    bad.write_text("mg,exit,event\n0.8,70,1\n0.9,71\n", encoding="utf-8")
    d.find_element(By.CSS_SELECTOR, "input[name='source'][value='csv']").click()
    d.find_element(By.ID, "upload").send_keys(str(good))
    _wait(lambda: _number(d, "people") == "3,000", 60, "the uploaded cohort's fit")
    assert _number(d, "true nadir") is None  # no truth for real data
    d.find_element(By.ID, "upload").send_keys(str(bad))
    problem = _wait(lambda: d.find_elements(By.ID, "problem"), 60, "the upload's message")
    assert "broken.csv" in problem[0].text and "line 3" in problem[0].text
    shutil.rmtree(folder, ignore_errors=True)

    assert _severe(d) == []
