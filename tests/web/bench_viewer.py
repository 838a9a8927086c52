"""Time the viewer in headless chromium: from opening a stored report's page to its graph drawn and interactive.

``python -m tests.web.bench_viewer [--runs 3] [MODEL[:OUTPUT]]...``: starts a real ``graphlint serve``, uploads
the synthetic InceptionV3-like graphs built in code (about 1,800 and 18,000 nodes in nested name scopes) and
any model files given, then opens each report's page ``--runs`` times in a fresh page and prints, per model,
the median wall time until the graph is drawn and takes input, the layout and drawing times the page measured
itself, and the time to open one collapsed scope and to reveal a searched node. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.web.conftest import CHROMIUM, Server
from tests.web.models import scoped_graphdef


def _last_timing(page) -> dict:
    return page.evaluate("window.graphlintTimings[window.graphlintTimings.length - 1]")


def measure(browser, server: Server, report: dict, runs: int) -> dict:
    walls, first = [], []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        start = time.perf_counter()
        page.goto(f"{server.url}#/report/{report['id']}")
        page.wait_for_selector(".graph-svg[data-ready]", timeout=120_000)
        page.evaluate("new Promise((r) => requestAnimationFrame(() => setTimeout(r)))")  # painted, input handled
        walls.append(time.perf_counter() - start)
        first.append(page.evaluate("window.graphlintTimings[0]"))
        page.close()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server.url}#/report/{report['id']}")
    page.wait_for_selector(".graph-svg[data-ready]", timeout=120_000)
    expand = reveal = None
    scope = page.locator(".graph-svg .unit.scope").first
    if scope.count():
        ready = page.locator(".graph-svg").get_attribute("data-ready")
        t = time.perf_counter()
        scope.click()
        page.wait_for_function(f"document.querySelector('.graph-svg').dataset.ready !== '{ready}'", timeout=120_000)
        expand = (time.perf_counter() - t, _last_timing(page))
    last = page.evaluate("(() => { const g = document.querySelectorAll('.search'); return g.length; })()")
    if last:
        name = page.evaluate("""fetch(`v1/reports/${location.hash.split('/').pop()}/graph`).then((r) => r.json())
            .then((g) => g.nodes.filter((n) => n.kind === 'op').slice(-3)[0].name)""")
        page.fill(".search", name)
        t = time.perf_counter()
        page.locator(".search-results button.hit").first.click()
        page.wait_for_selector(".graph-svg .unit.selected", timeout=120_000)
        reveal = (time.perf_counter() - t, _last_timing(page))
    page.close()
    return {"wall": statistics.median(walls), "first": first[len(first) // 2], "expand": expand, "reveal": reveal}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("models", nargs="*", help="MODEL or MODEL:OUTPUT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), max_upload_mb=512)
        try:
            uploads = []
            for blocks in (30, 300):
                b = scoped_graphdef(blocks)
                uploads.append((f"synthetic-{blocks}.pb", server.upload(f"synthetic-{blocks}.pb", b.to_bytes(),
                                                                       outputs=b.outputs)))
            for spec in args.models:
                path, _, output = spec.partition(":")
                uploads.append((Path(path).name, server.upload(Path(path).name, Path(path).read_bytes(),
                                                               outputs=[output] if output else [])))
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                print("| model | nodes | boxes drawn | page to interactive s | layout ms | drawing ms "
                      "| open a scope s | reveal a searched node s |")
                print("|---|---|---|---|---|---|---|---|")
                for name, report in uploads:
                    m = measure(browser, server, report, args.runs)
                    f = m["first"]
                    ex = f"{m['expand'][0]:.2f} ({m['expand'][1]['units']} boxes)" if m["expand"] else "-"
                    rv = f"{m['reveal'][0]:.2f} ({m['reveal'][1]['units']} boxes)" if m["reveal"] else "-"
                    print(f"| {name} | {report['model']['nodes']} | {f['units']} | {m['wall']:.2f} "
                          f"| {f['layoutMs']:.0f} | {f['drawMs']:.0f} | {ex} | {rv} |", flush=True)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
