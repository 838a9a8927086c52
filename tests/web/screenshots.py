"""Take the README's screenshots of the viewer: ``python -m tests.web.screenshots [OUT_DIR]`` (default ``docs/``).

Starts a real ``graphlint serve`` on a free port with a temporary data dir, uploads models built in code and
drives Debian's chromium (``/usr/bin/chromium``) through the main views. Needs the built viewer
(``cd web && npm ci && npm run build``) and ``pip install playwright``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.web.conftest import CHROMIUM, Server
from tests.web.models import scoped_graphdef, small_graphdef, small_graphdef_v2

SIZE = {"width": 1280, "height": 760}


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), max_upload_mb=64)
        try:
            v1, v2, big = small_graphdef(), small_graphdef_v2(), scoped_graphdef(30)
            r1 = server.upload("net_v1.pb", v1.to_bytes(), outputs=v1.outputs)
            r2 = server.upload("net_v2.pb", v2.to_bytes(), outputs=v2.outputs)
            rb = server.upload("inception_like.pb", big.to_bytes(), outputs=big.outputs)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport=SIZE)
                page.goto(server.url)
                page.screenshot(path=out / "viewer-upload.png")
                page.goto(f"{server.url}#/report/{r1['id']}")
                page.wait_for_selector(".graph-svg[data-ready]")
                error = next(i for i, f in enumerate(r1["findings"]) if f["severity"] == "error")
                page.locator(f'.findings button.goto[data-finding="{error}"]').click()
                page.wait_for_timeout(300)
                page.screenshot(path=out / "viewer-report.png")
                page.goto(f"{server.url}#/report/{rb['id']}")
                page.wait_for_selector(".graph-svg[data-ready]")
                page.fill(".search", "mixed_12/branch_1/conv_1/bn")
                page.locator(".search-results button.hit").first.click()
                page.wait_for_timeout(300)
                page.screenshot(path=out / "viewer-scopes.png")
                page.goto(f"{server.url}#/compare/{r1['id']}/{r2['id']}")
                page.wait_for_selector(".compare-graphs .graph-svg[data-ready]")
                page.wait_for_timeout(300)
                page.screenshot(path=out / "viewer-compare.png", full_page=True)
                browser.close()
        finally:
            server.stop()
    for png in sorted(out.glob("viewer-*.png")):
        print(f"{png} {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
