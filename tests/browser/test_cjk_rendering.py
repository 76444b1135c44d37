"""The HTML report and an HTML letter, rendered by headless Chromium, show Chinese, not tofu.

On a machine without CJK fonts every Chinese character comes out as the same empty box (the
``.notdef`` glyph, "tofu"). Three checks, each on what Chromium really drew:

* the platform font that drew most of an element's glyphs (``CSS.getPlatformFontsForNode``) is
  a CJK font, and it is the first family of the element's declared font stack that the machine
  has installed — so the stack, not a random fallback, decides the face;
* screenshots of two different Chinese characters in the element's font differ from each other
  and from a private-use character (which no font has: the ``.notdef`` box);
* the letter printed to PDF embeds a CJK font.

``make browser-deps`` installs Debian's ``chromium`` and ``fonts-noto-cjk`` where missing (``make
test`` runs it first); where that could not be done the tests skip and say so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from .chromium import Browser, browser, find_chromium
from .documents import desk_documents

pytestmark = pytest.mark.slow

HINT = "run `make browser-deps` (as root on Debian: apt-get install chromium fonts-noto-cjk)"
CJK_FAMILY = re.compile(r"CJK|Han |Hei|Song|Fang|Kai|Ming|WenQuanYi|YaHei|PingFang", re.I)
GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}


def installed_families() -> set[str]:
    """Every family name fontconfig knows (a font may have several, localised ones too)."""
    if shutil.which("fc-list") is None:
        return set()
    listing = subprocess.run(
        ["fc-list", ":", "family"], capture_output=True, text=True, check=False
    ).stdout
    return {name.strip() for line in listing.splitlines() for name in line.split(",")}


@pytest.fixture(scope="module")
def page() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        pytest.skip(f"Chromium is not installed; {HINT}")
    if not any(CJK_FAMILY.search(f) for f in installed_families()):
        pytest.skip(f"no CJK font is installed (fc-list shows none); {HINT}")
    with browser(executable) as opened:
        yield opened


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cjk")
    paths = {"report": folder / "report.html", "letter": folder / "letter.html"}
    report, letter = desk_documents()
    paths["report"].write_text(report, encoding="utf-8")
    paths["letter"].write_text(letter, encoding="utf-8")
    return paths


def declared_stack(page: Browser, selector: str) -> list[str]:
    family = page.evaluate(f"getComputedStyle(document.querySelector({selector!r})).fontFamily")
    return [name.strip().strip("\"'") for name in str(family).split(",")]


def check_not_tofu(page: Browser, selector: str) -> str:
    """The checks of the module docstring for one element; returns the family drawn with."""
    fonts = page.platform_fonts(selector)
    assert fonts, f"{selector}: Chromium reports no font for its text"
    used = max(fonts, key=lambda f: f["glyphCount"])["familyName"]
    assert CJK_FAMILY.search(used), f"{selector}: drawn with {used!r}, not a CJK font: {fonts}"
    stack = declared_stack(page, selector)
    installed = installed_families()
    first = next((f for f in stack if f in installed and f not in GENERIC), None)
    if first is not None:
        assert used == first or first in _aliases(used, installed), (
            f"{selector}: the stack {stack} names {first!r} first among installed fonts, "
            f"but Chromium drew with {used!r}"
        )

    # Screenshots of single characters in the element's own font: tofu boxes are all alike.
    shots = {}
    for index, char in enumerate(("甄", "审", "\ue000")):
        box = page.evaluate(
            f"""(() => {{
              const el = document.querySelector({selector!r});
              const s = getComputedStyle(el);
              const probe = document.createElement('span');
              probe.textContent = {char!r};
              Object.assign(probe.style, {{position: 'absolute', left: '0px',
                top: '{index * 80}px', fontFamily: s.fontFamily, fontWeight: s.fontWeight,
                fontStyle: s.fontStyle, fontSize: '48px', lineHeight: '64px',
                display: 'block', width: '64px', height: '64px', overflow: 'hidden',
                textAlign: 'center', margin: 0, padding: 0, border: 0,
                background: '#fff', color: '#000', zIndex: 99999}});
              probe.id = 'tofu-probe-{index}';
              document.body.appendChild(probe);
              const r = probe.getBoundingClientRect();
              return {{x: r.left + window.scrollX, y: r.top + window.scrollY,
                       width: 64, height: 64}};
            }})()"""
        )
        shots[char] = page.screenshot(box)
    page.evaluate("document.querySelectorAll('[id^=tofu-probe]').forEach(e => e.remove())")
    assert shots["甄"] != shots["审"], f"{selector}: 甄 and 审 look the same (tofu)"
    assert shots["甄"] != shots["\ue000"], f"{selector}: 甄 looks like the .notdef box"
    return str(used)


def _aliases(family: str, installed: set[str]) -> set[str]:
    """Other names fontconfig gives the font that has ``family`` (e.g. a localised name)."""
    listing = subprocess.run(
        ["fc-list", f":family={family}", "family"], capture_output=True, text=True, check=False
    ).stdout
    return {name.strip() for line in listing.splitlines() for name in line.split(",")} & installed


def test_report_is_drawn_in_a_cjk_sans_font(page: Browser, documents: dict[str, Path]) -> None:
    page.open(documents["report"])
    for selector in ("h1", "h2", "table td"):
        check_not_tofu(page, selector)


def test_letter_is_drawn_in_cjk_fonts_and_its_pdf_embeds_one(
    page: Browser, documents: dict[str, Path]
) -> None:
    page.open(documents["letter"])
    body = check_not_tofu(page, "p.opening")
    check_not_tofu(page, "h1")
    if any("Serif CJK" in f for f in installed_families()):
        assert "Serif" in body, f"the letter's body text should be a serif (宋/仿宋) face: {body}"
    pdf = page.print_pdf()
    names = re.findall(rb"/(?:BaseFont|FontName)\s*/(?:[A-Z]{6}\+)?([^\s/<>\[\]()]+)", pdf)
    fonts = {n.decode("latin-1") for n in names}
    assert any(CJK_FAMILY.search(f) for f in fonts), (
        f"the letter's PDF embeds no CJK font: {sorted(fonts)}"
    )
