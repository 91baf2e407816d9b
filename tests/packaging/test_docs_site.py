"""The docs site as a reader's browser shows it.

`scripts/docs.sh site` (`make docs`) builds the site; Debian's headless Chromium then opens the index, one module
page and one guide and hands back the page as rendered (scripts run). Each must have its title and body, every
internal link and anchor on it must lead somewhere (a file of the site, and an element with that id there), its
stylesheets and scripts must exist, and the module page must show the module's examples. The screenshot of the
module index that `make docs` writes must be a picture of a page, not of an empty window.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Set, Tuple
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from packaging_support import REPO, run, user_env

SITE_PAGES = {
    "index": "index.html",
    "module": "collections/deckhouse/virtualization/virtual_image_module.html",
    "guide": "collections/deckhouse/virtualization/docsite/guide_quickstart.html",
}
SHOT = "_screenshots/module-index.png"


def browser() -> str:
    found = os.environ.get("DVP_DOCS_BROWSER") or shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if not found:
        pytest.fail("no headless Chromium: make venv installs Debian's chromium-headless-shell (as root)")
    return found


def rendered(page: Path) -> str:
    """The page's DOM after the browser loaded it and ran its scripts."""
    proc = subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                           page.resolve().as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "<body" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


class Page(HTMLParser):
    """What a check needs from a page: its ids, title, links out, resources and the text of its <pre> blocks."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: Set[str] = set()
        self.links: List[str] = []
        self.resources: List[str] = []
        self.title = ""
        self.pre: List[str] = []
        self._in_title = False
        self._pre_depth = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, str | None]]) -> None:
        values: Dict[str, str] = {k: v or "" for k, v in attrs}
        for key in ("id", "name"):
            if values.get(key) and (key == "id" or tag == "a"):
                self.ids.add(values[key])
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        elif tag == "link" and values.get("rel") == "stylesheet":
            self.resources.append(values["href"])
        elif tag == "script" and values.get("src"):
            self.resources.append(values["src"])
        elif tag == "title":
            self._in_title = True
        elif tag == "pre":
            self._pre_depth += 1
            self.pre.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "pre":
            self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._pre_depth:
            self.pre[-1] += data


def internal(href: str) -> bool:
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc and not href.startswith("mailto:")


def broken_links(html_root: Path, page: Path, parsed: Page) -> List[str]:
    """Every internal link or resource of the page that leads nowhere, with why."""
    broken: List[str] = []
    ids_of: Dict[Path, Set[str]] = {page: parsed.ids}
    for href in parsed.links + parsed.resources:
        if not internal(href):
            continue
        parts = urlsplit(href)
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or html_root.resolve() not in target.parents:
            broken.append("%s: no file %s" % (href, target))
            continue
        if parts.fragment and target.suffix == ".html":
            if target not in ids_of:
                ids_of[target] = Page(target.read_text(errors="replace")).ids
            if unquote(parts.fragment) not in ids_of[target]:
                broken.append("%s: no element with id %r in %s" % (href, parts.fragment, target.name))
    return broken


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    run([REPO / "scripts" / "docs.sh", "site"], env=user_env(DOCS_OUT=str(out)), cwd=REPO, timeout=600)
    return out / "html"


@pytest.mark.parametrize("kind", sorted(SITE_PAGES))
def test_the_page_renders_with_no_broken_internal_link(site: Path, kind: str) -> None:
    page = site / SITE_PAGES[kind]
    parsed = Page(rendered(page))
    assert "deckhouse.virtualization" in parsed.title, parsed.title
    assert len(parsed.links) > 10, parsed.links
    assert [r for r in parsed.resources if internal(r)], "no stylesheet or script of the site is loaded"
    assert broken_links(site, page, parsed) == []


def test_the_module_page_shows_the_module_examples(site: Path) -> None:
    source = (REPO / "plugins" / "modules" / "virtual_image.py").read_text()
    examples = yaml.safe_load(re.search(r'^EXAMPLES = r?"""(.*?)"""', source, re.MULTILINE | re.DOTALL).group(1))
    parsed = Page(rendered(site / SITE_PAGES["module"]))
    assert "examples" in parsed.ids
    shown = "\n".join(parsed.pre)
    names = [task["name"] for task in examples]
    assert names and [name for name in names if name not in shown] == []


def png_size(path: Path) -> Tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def test_make_docs_pictures_the_module_index(site: Path, tmp_path: Path) -> None:
    shot = site / SHOT
    assert png_size(shot) == (1280, 1000)
    # An empty window of the same size compresses to almost nothing; the page, with its text, does not.
    blank = tmp_path / "blank.png"
    (tmp_path / "blank.html").write_text("<!DOCTYPE html><html><body></body></html>")
    subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1280,1000", "--screenshot=%s" % blank, (tmp_path / "blank.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert png_size(blank) == (1280, 1000)
    assert shot.stat().st_size > 10 * blank.stat().st_size, (shot.stat().st_size, blank.stat().st_size)
