#!/usr/bin/env python3
"""report_check.py - opens a run's report.html in headless Chromium and
fails on what a person would see as broken.

    tools/report_check.py RUN/report.html [--screenshot OUT.png]

Checks, each printed when it fails:
  * the browser logged nothing on the console (the page itself logs only
    errors: an image that did not load, or an uncaught script error);
  * the page's load handler ran (body data-loaded="1"): its script parsed;
  * no image is marked broken by the page (class "broken": onerror, or no
    pixels at the load event), and every relative image path exists;
  * every table has at least one body row with text in it.

--screenshot also saves the top of the page (1200 x 2000 CSS pixels,
scaled to WIDTH pixels wide with --screenshot-width) for the docs.

Exit status: 0 clean, 1 problems found, 2 usage, 77 no Chromium (the
caller skips; `make deps` installs Debian's chromium).  SG_CHROMIUM
names another browser binary.
"""
import argparse
import html.parser
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio"]


def find_chromium():
    env = os.environ.get("SG_CHROMIUM")
    if env:
        return env if shutil.which(env) else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_browser(browser, args, timeout):
    with tempfile.TemporaryDirectory(prefix="sg_chromium_") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                              timeout=timeout)


class Page(html.parser.HTMLParser):
    """What the check needs from the DOM Chromium dumped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loaded = False
        self.images = []          # (src, classes)
        self.tables = []          # per table: [rows with text, caption]
        self.stack = []           # open table states: {"section", "cells_text"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.loaded = a.get("data-loaded") == "1"
        elif tag == "img":
            self.images.append((a.get("src") or "", (a.get("class") or "").split()))
            if self.stack and self.stack[-1]["in_row"]:
                self.stack[-1]["row_text"] = True
        elif tag == "table":
            self.tables.append({"rows": 0, "caption": "", "id": len(self.tables)})
            self.stack.append({"t": self.tables[-1], "section": "body", "in_row": False,
                               "row_text": False, "in_caption": False})
        elif self.stack:
            s = self.stack[-1]
            if tag in ("thead", "tfoot", "tbody"):
                s["section"] = tag
            elif tag == "tr":
                s["in_row"], s["row_text"] = True, False
            elif tag == "caption":
                s["in_caption"] = True

    def handle_endtag(self, tag):
        if not self.stack:
            return
        s = self.stack[-1]
        if tag == "table":
            self.stack.pop()
        elif tag in ("thead", "tfoot", "tbody"):
            s["section"] = "body"
        elif tag == "tr" and s["in_row"]:
            if s["section"] in ("body", "tbody") and s["row_text"]:
                s["t"]["rows"] += 1
            s["in_row"] = False
        elif tag == "caption":
            s["in_caption"] = False

    def handle_data(self, data):
        if not self.stack:
            return
        s = self.stack[-1]
        if s["in_caption"]:
            s["t"]["caption"] += data
        elif s["in_row"] and data.strip():
            s["row_text"] = True


def check(report, browser, timeout):
    problems = []
    url = report.resolve().as_uri()
    res = run_browser(browser, ["--enable-logging=stderr", "--v=0", "--dump-dom",
                                "--virtual-time-budget=5000", url], timeout)
    if res.returncode != 0:
        problems.append(f"chromium exited with status {res.returncode}: "
                        f"{res.stderr.strip()[-2000:]}")
    # Chromium prints console messages as
    #   [pid:tid:date:INFO:CONSOLE(LINE)] "text", source: URL (LINE)
    # (or CONSOLE:LINE in newer versions); the report logs only errors.
    for line in res.stderr.splitlines():
        if re.search(r":CONSOLE[(:]\d+", line):
            problems.append("console: " + line.split("] ", 1)[-1])
    page = Page()
    page.feed(res.stdout)
    if not res.stdout.strip():
        problems.append("chromium dumped no DOM")
    elif not page.loaded:
        problems.append("the page's load handler did not run (body has no data-loaded=\"1\")")
    if not page.tables:
        problems.append("no tables on the page")
    for t in page.tables:
        if t["rows"] == 0:
            name = " ".join(t["caption"].split())[:80] or f"table {t['id'] + 1}"
            problems.append(f"empty table: {name}")
    for src, classes in page.images:
        if "broken" in classes:
            problems.append(f"image did not load: {src}")
        parsed = urllib.parse.urlparse(src)
        if not parsed.scheme and not src.startswith("/"):
            path = report.parent / urllib.parse.unquote(parsed.path)
            if not path.is_file():
                problems.append(f"image file missing: {src}")
        else:
            problems.append(f"image not relative to the run folder: {src}")
    return problems, len(page.images), len(page.tables)


def screenshot(report, browser, out, width, timeout):
    out = pathlib.Path(out).resolve()
    res = run_browser(browser, [f"--screenshot={out}", "--window-size=1200,2000",
                                "--virtual-time-budget=5000", report.resolve().as_uri()],
                      timeout)
    if res.returncode != 0 or not out.is_file():
        print(f"report_check: screenshot failed: {res.stderr.strip()[-2000:]}", file=sys.stderr)
        return False
    if width:
        try:
            from PIL import Image
        except ImportError:
            print("report_check: no PIL: screenshot left at full size", file=sys.stderr)
            return True
        im = Image.open(out).convert("RGB")
        h = round(im.height * width / im.width)
        im.resize((width, h), Image.LANCZOS).quantize(colors=256).save(out, optimize=True)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("report", help="RUN/report.html")
    ap.add_argument("--screenshot", metavar="PNG", help="also save the top of the page")
    ap.add_argument("--screenshot-width", type=int, default=0, metavar="W",
                    help="scale the screenshot to W pixels wide (needs PIL)")
    ap.add_argument("--timeout", type=float, default=180, help="seconds per browser run")
    a = ap.parse_args()
    report = pathlib.Path(a.report)
    if not report.is_file():
        print(f"report_check: {report}: no such file", file=sys.stderr)
        return 2
    browser = find_chromium()
    if not browser:
        print("report_check: SKIP: no chromium (make deps installs Debian's chromium)",
              file=sys.stderr)
        return 77
    try:
        problems, n_img, n_tab = check(report, browser, a.timeout)
    except subprocess.TimeoutExpired:
        problems, n_img, n_tab = [f"chromium took over {a.timeout:.0f} s"], 0, 0
    for p in problems:
        print(f"report_check: {report}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"report_check: {report}: clean ({n_tab} tables, {n_img} images)")
    if a.screenshot and not screenshot(report, browser, a.screenshot, a.screenshot_width,
                                       a.timeout):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
