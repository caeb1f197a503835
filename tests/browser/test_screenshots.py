"""The browser tests' screenshots go to the run's temporary folder; only `make screenshots` writes the
documentation's copies in docs/screenshots/ (tracked files)."""

import os
import subprocess
from pathlib import Path

from tests.browser.conftest import REPO, screenshots_dir

DOCS = REPO / "docs" / "screenshots"


class FakePage:
    """Stands in for a Playwright page: the helper under test only calls page.screenshot()."""

    def screenshot(self, path, full_page):
        assert full_page
        Path(path).write_bytes(b"not really a png")


def pngs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.glob("*.png")}


def test_by_default_a_screenshot_goes_to_the_temporary_folder(screenshot, tmp_path_factory, monkeypatch):
    monkeypatch.delenv("SCREENSHOTS_DIR", raising=False)
    before = pngs(DOCS)
    assert "triage-queue.png" in before
    path = screenshot(FakePage(), "screenshot-helper-test.png")
    assert path.is_relative_to(tmp_path_factory.getbasetemp())
    assert path.read_bytes() == b"not really a png"
    assert pngs(DOCS) == before


def test_screenshots_dir_chooses_the_folder(screenshot, tmp_path, monkeypatch):
    monkeypatch.setenv("SCREENSHOTS_DIR", str(tmp_path / "shots"))
    path = screenshot(FakePage(), "screenshot-helper-test.png")
    assert path == tmp_path / "shots" / "screenshot-helper-test.png" and path.read_bytes() == b"not really a png"
    monkeypatch.setenv("SCREENSHOTS_DIR", "docs/screenshots")  # relative: to the repository
    assert screenshots_dir(tmp_path) == DOCS


def test_make_screenshots_runs_the_browser_tests_into_docs():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    out = subprocess.run(["make", "-n", "screenshots"], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert f"SCREENSHOTS_DIR={DOCS}" in out and "tests/browser" in out
