"""Look at the built documentation site in headless Chromium (``nox -s docs-browser``).

Usage: ``python browser_check.py SITE_DIR SCREENSHOT_DIR CHROMIUM CHROMEDRIVER``.
The site is served on 127.0.0.1 by a thread of this process. Each page must render
(a title, an ``<h1>`` in the main content) without an error in the browser's
console, and searching for ``OpendalFileSystem`` must find the API reference.
A screenshot of each step is saved; their paths are printed. Exits non-zero with
every failure listed.
"""

from __future__ import annotations

import functools
import http.server
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

#: The pages looked at: a screenshot name and the path below the site's root.
PAGES = {"index": "", "quickstart": "quickstart/", "api": "api/"}
SEARCHED = "OpendalFileSystem"
#: Seconds a page or the search may take to show what is waited for.
WAIT = 20
#: Chromium's flags for a headless run with no network of its own (no sync,
#: component updates or background fetches).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Containers' /dev/shm is small (64 MiB under Docker): keep shared memory in /tmp.
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(site: Path) -> Iterator[str]:
    """The site served on a free 127.0.0.1 port for the duration; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(binary: str, driver: str) -> Iterator[WebDriver]:
    """Headless Chromium driven by the given chromedriver, with a fresh profile.

    The driver is named explicitly, so selenium-manager never looks for (or
    downloads) one.
    """
    with tempfile.TemporaryDirectory(prefix="opendalfs-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        browser = webdriver.Chrome(service=Service(driver), options=options)
        try:
            yield browser
        finally:
            browser.quit()


def console_errors(browser: WebDriver) -> list[str]:
    """The errors logged in the browser's console since the last call."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def check_page(browser: WebDriver, url: str) -> list[str]:
    """What is wrong with the page at ``url``: no title, no heading, console errors."""
    browser.get(url)
    WebDriverWait(browser, WAIT).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "article h1"))
    )
    problems = []
    if "opendalfs" not in browser.title:
        problems.append(f"{url}: title {browser.title!r} does not name opendalfs")
    article = browser.find_element(By.CSS_SELECTOR, "article")
    if len(article.text) < 200:
        problems.append(f"{url}: the main content is {len(article.text)} characters")
    problems += [f"{url}: console error: {error}" for error in console_errors(browser)]
    return problems


def check_search(browser: WebDriver, url: str) -> list[str]:
    """Type ``SEARCHED`` into the site's search box; the results must name it."""
    browser.get(url)
    box = WebDriverWait(browser, WAIT).until(
        expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, "input.md-search__input"))
    )
    box.click()
    box.send_keys(SEARCHED)
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".md-search-result"), SEARCHED
        )
    )
    results = browser.find_elements(By.CSS_SELECTOR, ".md-search-result__item")
    problems = []
    if not any(SEARCHED in result.text for result in results):
        problems.append(f"search for {SEARCHED}: no result names it")
    links = browser.find_elements(By.CSS_SELECTOR, "a.md-search-result__link")
    if not any("/api/" in (link.get_attribute("href") or "") for link in links):
        problems.append(f"search for {SEARCHED}: the API reference is not among the results")
    problems += [f"search: console error: {error}" for error in console_errors(browser)]
    return problems


def main(site: Path, shots: Path, binary: str, driver: str) -> int:
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with served(site) as base, chromium(binary, driver) as browser:
        print(f"serving {site} at {base}; {browser.capabilities.get('browserVersion')}")
        for name, path in PAGES.items():
            problems += check_page(browser, base + path)
            shot = shots / f"{name}.png"
            browser.save_screenshot(str(shot))
            print(f"{base + path}: {browser.title!r}, screenshot {shot}")
        problems += check_search(browser, base)
        shot = shots / "search.png"
        browser.save_screenshot(str(shot))
        print(f"search for {SEARCHED}: screenshot {shot}")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    site, shots, binary, driver = sys.argv[1:]
    sys.exit(main(Path(site), Path(shots), binary, driver))
