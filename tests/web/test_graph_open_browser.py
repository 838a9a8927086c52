"""How the graph opens, in Debian's chromium against a real ``graphlint serve``: a graph too wide for the pane opens
at a scale whose labels can be read, centred on the first failing node (or on the model's input when nothing
fails); a small graph is fitted whole; the "0" key still fits everything."""

from __future__ import annotations

import pytest

from tests.web.models import int8_only_graphdef, wide_graphdef
from tests.web.test_viewer_browser import open_report

MIN_LABEL_PX = 10  # node labels on screen must be at least this tall (CSS px) when a graph opens

# The on-screen size of each node label under the graph's current pan and zoom: font size times the scale of the
# text's transform to the screen.
LABEL_PX = """(el) => parseFloat(getComputedStyle(el).fontSize) * el.getScreenCTM().a"""


def _pane(page) -> dict:
    return page.locator(".report-layout .graph-svg").bounding_box()


def _inside(box: dict, area: dict) -> bool:
    return (box["x"] >= area["x"] - 1 and box["y"] >= area["y"] - 1
            and box["x"] + box["width"] <= area["x"] + area["width"] + 1
            and box["y"] + box["height"] <= area["y"] + area["height"] + 1)


def _drawing(page) -> dict:
    return page.locator(".report-layout .graph-svg .viewport").bounding_box()


@pytest.mark.parametrize("scoped", [False, True], ids=["flat", "in-a-scope"])
def test_a_wide_graph_opens_readable_and_centred_on_the_first_failing_node(page, server, scoped):
    b = wide_graphdef(300, scoped=scoped)
    report = server.upload("wide.pb", b.to_bytes(), outputs=b.outputs)
    failing = next(f["node"] for f in report["findings"] if f["severity"] == "error" and f["node"])
    assert failing == ("branch_150/unfrozen" if scoped else "unfrozen")
    open_report(page, server, report)
    pane = _pane(page)
    layout_width = page.locator(".report-layout .graph-svg .viewport").evaluate("el => el.getBBox().width")
    assert layout_width > 3 * pane["width"], "the test graph must be far wider than the pane"
    node = page.locator(f'.report-layout .graph-svg [data-node="{failing}"]')
    label = node.locator("text.name")
    assert label.evaluate(LABEL_PX) >= MIN_LABEL_PX
    assert min(page.locator(".report-layout .graph-svg .unit text").evaluate_all(
        f"els => els.map({LABEL_PX})")) >= MIN_LABEL_PX * 0.8  # badges are smaller than labels, never tiny
    assert _inside(node.bounding_box(), pane), (node.bounding_box(), pane)
    box = node.bounding_box()
    dx = box["x"] + box["width"] / 2 - (pane["x"] + pane["width"] / 2)
    assert abs(dx) < pane["width"] / 5, "centred across the pane"
    # "0" still fits the whole graph in the pane, however small that makes it
    page.focus(".report-layout .graph-svg")
    page.keyboard.press("0")
    assert _inside(_drawing(page), pane)


def test_a_wide_graph_without_failures_opens_readable_on_the_model_input(page, server):
    b = wide_graphdef(300, failing=-1)
    report = server.upload("wide_clean.pb", b.to_bytes(), outputs=b.outputs)
    assert not any(f["severity"] == "error" and f["node"] for f in report["findings"])
    open_report(page, server, report)
    node = page.locator('.report-layout .graph-svg [data-node="input"]')
    assert node.locator("text.name").evaluate(LABEL_PX) >= MIN_LABEL_PX
    assert _inside(node.bounding_box(), _pane(page))


def test_a_small_graph_is_fitted_whole(page, server):
    b = int8_only_graphdef()
    report = server.upload("small_fit.pb", b.to_bytes(), outputs=b.outputs)
    open_report(page, server, report)
    assert _inside(_drawing(page), _pane(page))
    label = page.locator('.report-layout .graph-svg [data-node="input"] text.name')
    assert label.evaluate(LABEL_PX) >= MIN_LABEL_PX
