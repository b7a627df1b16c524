"""The report as a browser shows it: headless Chromium screenshots a page with crisis entries and one
without, and the crisis box, the charts and the timeline must be there and visible. Skips where
Chromium is absent (CI does not need it); on Debian: apt-get install chromium."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from batch_inputs import tagged_entry
from unstuck.cli.report_html import render_html
from unstuck.data.resources import help_lines
from unstuck.data.taxonomy import Audience, default_taxonomy
from unstuck.data.records import Span, Tagged
from unstuck.data.summary import summarise

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian: "
                                                   "apt-get install chromium)")]
# The crisis box border; the charts' bars and lines; the timeline's entries-per-period bars.
VERMILLION, BLUE, GREY = (0xD5, 0x5E, 0x00), (0x00, 0x72, 0xB2), (0x6B, 0x6B, 0x6B)
CRISIS = "I keep thinking everyone would be better off without me."


def entries(crisis: bool) -> list[Tagged]:
    texts = [("I cancelled my session again.", ["inconsistency"]), ("I'm scared to tell her.", ["fear"]),
             ("Had a few drinks before it.", ["substance_use"]), ("My phone kept buzzing.", ["distractions"])] * 3
    found = [tagged_entry(f"e{i}", i, labels, dict.fromkeys(labels, 0.9), False, evidence={labels[0]: [Span(0, 5, text[:5])]},
                   text=text) for i, (text, labels) in enumerate(texts, start=1)]
    if crisis:
        found.append(tagged_entry("e13", 13, [], {}, True, [Span(16, 56, CRISIS[16:56])], {}, CRISIS))
    return found


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)


def pixels(png: Path) -> list[tuple[int, int, int]]:
    """The RGB pixels of a non-interlaced 8-bit RGB or RGBA PNG (what Chromium writes), standard library only."""
    data, chunks, at = png.read_bytes(), [], 8
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        chunks.append((kind, data[at + 8:at + 8 + size]))
        at += 12 + size
    width, height, depth, colour = struct.unpack(">IIBB", dict(chunks)[b"IHDR"][:10])
    assert depth == 8 and colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(b"".join(c for k, c in chunks if k == b"IDAT")), width * step, [], None
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        above = previous or bytearray(stride)
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up, corner = above[x], above[x - step] if x >= step else 0
            guess = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]
            line[x] = (line[x] + guess) & 0xFF
        rows.append(line)
        previous = line
    return [tuple(row[x:x + 3]) for row in rows for x in range(0, stride, step)]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def near(colour: tuple[int, int, int], target: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(colour, target))


@pytest.mark.parametrize("crisis", [True, False], ids=["with-crisis", "without-crisis"])
def test_report_browser_shows_crisis_box_charts_and_timeline(tmp_path, crisis):
    page = tmp_path / "report.html"
    html = render_html(summarise(entries(crisis)), default_taxonomy(), Audience.therapist,
                       help_lines("uk", crisis=True, safety=False), "test")
    page.write_text(html, encoding="utf-8")
    # the page has no script, so what Chromium would build is this markup (one launch fewer)
    assert 'id="frequency"' in html and 'id="timeline"' in html and html.count("<svg") >= 2
    assert ('class="crisis"' in html and "better off without me" in html) is crisis
    shot = tmp_path / "report.png"
    chromium(page, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1000,3200",
             "--hide-scrollbars")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    seen = pixels(shot)
    assert sum(c != seen[0] for c in seen) > len(seen) // 50  # not a blank page
    assert sum(near(c, BLUE) for c in seen) > 500  # the charts are drawn
    assert sum(c == GREY for c in seen) > 2000  # and the timeline, below them
    crisis_red = sum(near(c, VERMILLION) for c in seen)
    assert (crisis_red > 1000) is crisis, crisis_red  # the crisis box's border, only when there is one
    if os.environ.get("UNSTUCK_SCREENSHOTS"):  # a folder to keep the screenshots in, to look at them
        shutil.copy(shot, Path(os.environ["UNSTUCK_SCREENSHOTS"], f"report-{'crisis' if crisis else 'calm'}.png"))
