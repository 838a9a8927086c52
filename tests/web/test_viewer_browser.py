"""The web viewer in Debian's chromium against a real ``graphlint serve``: upload, findings, graph, inspector,
search, compare, exports, rule docs, keyboard use and the error states."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips these tests (or fails them in CI) and says why
    expect = None

from graphlint.viewer import model_explorer_node_data
from tests.conftest import tensorflow_version
from tests.web.models import (
    convertible_graphdef,
    int8_only_graphdef,
    scoped_graphdef,
    small_graphdef,
    small_graphdef_v2,
)

SEVERITY_ORDER = ["error", "warning", "info"]


def _file(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": data}


def wait_drawn(page, pane: str = ".report-layout"):
    """Wait until the graph of a pane is laid out and drawn."""
    page.wait_for_selector(f"{pane} .graph-svg[data-ready]")


def current_report_id(page) -> str:
    page.wait_for_url(re.compile(r"#/report/"))
    return page.url.rsplit("/", 1)[1]


def open_report(page, server, report: dict) -> None:
    page.goto(f"{server.url}#/report/{report['id']}")
    wait_drawn(page)


def upload_form(page, name: str, data: bytes, outputs: str = "") -> None:
    page.set_input_files("#model-file", _file(name, data))
    if outputs:
        page.locator("details.io summary").click()
        page.fill("#io-outputs", outputs)
    page.get_by_role("button", name="Check the model").click()


def node_centred(page, node_id: str) -> bool:
    """True when the node's box is drawn near the middle of the visible graph area."""
    box = page.locator(f'.graph-svg [data-node="{node_id}"]').bounding_box()
    area = page.locator(".report-layout .graph-svg").bounding_box()
    viewport = page.viewport_size
    assert area["y"] + area["height"] <= viewport["height"] + 1, "the graph must fit in the window"
    dx = box["x"] + box["width"] / 2 - (area["x"] + area["width"] / 2)
    dy = box["y"] + box["height"] / 2 - (area["y"] + area["height"] / 2)
    return abs(dx) < area["width"] / 5 and abs(dy) < area["height"] / 5


@pytest.fixture(scope="module")
def small_report(server):
    b = small_graphdef()
    return server.upload("small.pb", b.to_bytes(), outputs=b.outputs)


def test_upload_shows_verdicts_and_findings_grouped_by_severity_and_rule(page, server):
    b = small_graphdef()
    upload_form(page, "upload.pb", b.to_bytes(), outputs="probs")
    report_id = current_report_id(page)
    wait_drawn(page)
    report = server.get(f"v1/reports/{report_id}")
    assert report["findings"], "the test model must produce findings"
    for target, verdict in report["targets"].items():
        card = page.locator(".verdict", has_text=target).first
        assert card.locator(".vv").inner_text().lower() == verdict["verdict"]
    # sections in severity order, each with its rules and every finding's message
    shown = [s.split("-")[1] for s in page.locator(".sev-section").evaluate_all("els => els.map(e => e.classList[1])")]
    expected = [s for s in SEVERITY_ORDER if any(f["severity"] == s for f in report["findings"])]
    assert shown == expected
    for f in report["findings"]:
        section = page.locator(f".sev-section.sev-{f['severity']}")
        group = section.locator(".rule-group", has=page.locator(".code", has_text=f["code"]))
        assert group.count() == 1
        assert group.locator(f'a[data-rule="{f["code"]}"]').count() == 1
        item = page.locator(f"#finding-{report['findings'].index(f)}")
        assert item.locator(".message").inner_text() == f["message"].replace("`", "")


def test_the_upload_page_offers_the_servers_targets_with_their_defaults(page, server):
    targets = server.get("v1/targets")
    boxes = page.locator("fieldset.targets input[name=target]")
    boxes.first.wait_for()
    assert boxes.evaluate_all("els => els.map(e => e.value)") == [t["name"] for t in targets]
    assert boxes.evaluate_all("els => els.map(e => e.checked)") == [t["default"] for t in targets]
    assert page.locator("fieldset.targets").inner_text().count(targets[0]["description"]) == 1


def test_every_node_with_findings_is_coloured_by_its_worst_severity(page, server, small_report):
    with page.expect_response(lambda r: r.url.endswith("/graph")) as graph_response:
        open_report(page, server, small_report)
    # the browser takes the graph as stored (deflate) and draws it
    assert graph_response.value.header_value("content-encoding") == "deflate"
    graph = server.get(f"v1/reports/{small_report['id']}/graph")
    with_findings = [n for n in graph["nodes"] if n["findings"]]
    assert with_findings
    for n in with_findings:
        # every node with findings is reachable from the findings list, and shows its worst severity once opened
        page.locator(f'.findings button.goto[data-finding="{n["findings"][0]}"]').click()
        el = page.locator(f'.graph-svg [data-node="{n["id"]}"]')
        el.wait_for()
        assert f"sev-{n['severity']}" in el.get_attribute("class").split()


def test_the_target_filter_recolours_nodes_and_scopes(page, server):
    b = int8_only_graphdef()
    report = server.upload("int8only.pb", b.to_bytes(), outputs=b.outputs)
    assert {f["code"] for f in report["findings"]} == {"GL101", "GL401"}
    open_report(page, server, report)
    neg = page.locator('.graph-svg [data-node="q/neg1"]')
    bias = page.locator('.graph-svg [data-node="bias"]')
    scope = page.locator('.graph-svg .cluster-head[data-scope="main::q"]')
    expect(neg).to_have_class(re.compile(r"\bsev-warning\b"))
    expect(scope).to_have_class(re.compile(r"\bsev-warning\b"))
    page.select_option("#target-filter", "float")  # GL401 does not concern float: only the variable is left
    expect(neg).not_to_have_class(re.compile(r"\bsev-"))
    expect(scope).not_to_have_class(re.compile(r"\bsev-"))
    expect(bias).to_have_class(re.compile(r"\bsev-error\b"))
    assert "finding" not in neg.get_attribute("aria-label")
    neg.click()  # the inspector follows the filter too
    inspector = page.locator(".inspector")
    expect(inspector.locator("#nf-title")).to_have_text("No findings on this node for float")
    expect(inspector.locator(".other-targets")).to_contain_text("1 more for other targets")
    page.select_option("#target-filter", "int8")
    expect(neg).to_have_class(re.compile(r"\bsev-warning\b"))
    expect(scope).to_have_class(re.compile(r"\bsev-warning\b"))
    assert "worst finding warning, 1 finding" in neg.get_attribute("aria-label")
    expect(inspector.locator("#nf-title")).to_have_text("Findings on this node (1) for int8")
    expect(inspector.locator(".node-findings li")).to_contain_text("GL401")


def test_finding_centres_the_graph_on_its_node_and_opens_the_inspector(page, server, small_report):
    open_report(page, server, small_report)
    index = next(i for i, f in enumerate(small_report["findings"]) if f["node"] == "conv/bias")
    page.locator(f'.findings button.goto[data-finding="{index}"]').click()
    node = page.locator('.graph-svg [data-node="conv/bias"]')
    node.wait_for()
    assert "selected" in node.get_attribute("class").split()
    assert node_centred(page, "conv/bias")
    inspector = page.locator(".inspector")
    assert inspector.locator("h2 .op").inner_text() == "VariableV2"
    assert small_report["findings"][index]["code"] in inspector.locator(".node-findings").inner_text()
    # the finding is marked as the current one in the list
    assert "current" in page.locator(f"#finding-{index}").get_attribute("class").split()


def test_node_click_shows_its_findings_and_leads_back_to_the_list(page, server, small_report):
    open_report(page, server, small_report)
    page.locator('.graph-svg [data-node="input"]').click()
    inspector = page.locator(".inspector")
    mine = [i for i, f in enumerate(small_report["findings"]) if f["node"] == "input"]
    assert mine
    assert inspector.locator(".node-findings li").count() == len(mine)
    inspector.get_by_role("button", name="Show in the findings list").first.click()
    assert "current" in page.locator(f"#finding-{mine[0]}").get_attribute("class").split()


def test_inspector_shows_op_attributes_and_tensors(page, server, small_report):
    open_report(page, server, small_report)
    graph = server.get(f"v1/reports/{small_report['id']}/graph")
    conv = next(n for n in graph["nodes"] if n["id"] == "conv/Conv2D")
    page.locator('.graph-svg [data-node="conv/Conv2D"]').click()
    inspector = page.locator(".inspector")
    assert inspector.locator("h2 .op").inner_text() == "Conv2D"
    attrs = inspector.locator("table.attrs").inner_text()
    assert "padding" in attrs and "SAME" in attrs and "strides" in attrs
    inputs = inspector.locator("table.tensors").nth(0)
    assert inputs.locator("tbody tr").count() == len(conv["inputs"])
    first = graph["tensors"][conv["inputs"][0]]
    row = inputs.locator("tbody tr").first.inner_text()
    assert first["name"] in row and first["dtype"] in row and "?" in row  # the dynamic batch dim
    # the producer link leads to the input node
    inputs.get_by_role("button", name=re.compile("Go to producer input")).click()
    assert page.locator(".inspector h2 .op").inner_text() == "Placeholder"


@pytest.mark.tf
def test_quantization_is_on_the_graph_and_its_float_range_in_the_inspector(page, server, tf_models):
    report = server.upload("int8.tflite", (tf_models / "int8.tflite").read_bytes(), targets=["int8"])
    open_report(page, server, report)
    graph = server.get(f"v1/reports/{report['id']}/graph")
    conv = next(n for n in graph["nodes"] if n["op"] == "CONV_2D")
    # on the graph: int8 edges and an i8 badge on the conv
    assert page.locator(".graph-svg path.edge.dt-int8").count() > 0
    assert page.locator(f'.graph-svg [data-node="{conv["id"]}"] .badge').text_content() == "i8"
    page.locator(f'.graph-svg [data-node="{conv["id"]}"]').click()
    t = graph["tensors"][conv["inputs"][0]]
    lo, hi = t["quant"]["range"]
    row = page.locator(".inspector table.tensors").nth(0).locator("tbody tr").first.inner_text()
    assert "int8" in row and f"zero point {t['quant']['zero_point'][0]}" in row
    shown = [float(x) for x in re.search(r"float \[([-\d.e+]+), ([-\d.e+]+)\]", row).groups()]
    assert shown == pytest.approx([lo, hi], rel=1e-4)


@pytest.mark.tf
def test_subgraphs_are_drawn_one_at_a_time_and_search_switches_to_the_right_one(page, server, tf_models):
    report = server.upload("while.tflite", (tf_models / "while.tflite").read_bytes(), targets=["float"])
    open_report(page, server, report)
    graph = server.get(f"v1/reports/{report['id']}/graph")
    assert len(graph["subgraphs"]) == 3
    drawn = set(page.locator(".graph-svg .unit.node").evaluate_all("els => els.map(e => e.dataset.node)"))
    by_id = {n["id"]: n for n in graph["nodes"]}
    assert drawn and {by_id[i]["subgraph"] for i in drawn} == {graph["subgraphs"][0]["id"]}
    body = graph["subgraphs"][2]
    op = next(n for n in graph["nodes"] if n["subgraph"] == body["id"] and n["kind"] == "op")
    page.fill(".search", op["name"])
    page.locator(f'.search-results button[data-node="{op["id"]}"]').click()
    expect(page.locator(f'.graph-svg [data-node="{op["id"]}"]')).to_have_class(re.compile("selected"))
    expect(page.get_by_label("Subgraph")).to_have_value(str(body["id"]))
    page.get_by_label("Subgraph").select_option(str(graph["subgraphs"][1]["id"]))
    cond = next(n for n in graph["nodes"] if n["subgraph"] == graph["subgraphs"][1]["id"] and n["kind"] == "op")
    page.locator(f'.graph-svg [data-node="{cond["id"]}"]').wait_for()


def test_search_opens_the_scopes_around_a_node(page, server):
    b = scoped_graphdef(30)
    report = server.upload("inception_like.pb", b.to_bytes(), outputs=b.outputs)
    open_report(page, server, report)
    target = "model/mixed_17/branch_2/conv_3/Relu"
    # collapsed at first: the node is inside a closed scope
    assert page.locator(f'.graph-svg [data-node="{target}"]').count() == 0
    timings = page.evaluate("window.graphlintTimings")
    print("layout of a", report["model"]["nodes"], "node graph:", timings[-1])
    page.fill(".search", "mixed_17/branch_2/conv_3/re")
    page.locator(f'.search-results button[data-node="{target}"]').click()
    node = page.locator(f'.graph-svg [data-node="{target}"]')
    node.wait_for()
    assert "selected" in node.get_attribute("class").split()
    assert node_centred(page, target)
    assert page.locator(".inspector h2 .op").inner_text() == "Relu"
    # search by op lists matching nodes
    page.fill(".search", "concatv2")
    assert page.locator(".search-results .count").inner_text() == "30 matches"


# The first collapsed scope whose box shows whole in the graph pane (a wide graph opens at a readable scale, so
# some boxes lie outside the pane until it is panned).
FIRST_SCOPE_IN_VIEW = """(svg) => {
  const area = svg.getBoundingClientRect();
  const inside = (r) => r.left >= area.left && r.right <= area.right && r.top >= area.top && r.bottom <= area.bottom;
  const el = [...svg.querySelectorAll('.unit.scope')].find((e) => inside(e.getBoundingClientRect()));
  return el ? el.dataset.scope : null;
}"""


def test_scopes_open_and_close_by_mouse_and_keyboard(page, server):
    b = scoped_graphdef(30)
    report = server.upload("inception_like.pb", b.to_bytes(), outputs=b.outputs)
    open_report(page, server, report)
    scope_id = page.locator(".report-layout .graph-svg").evaluate(FIRST_SCOPE_IN_VIEW)
    assert scope_id, "a collapsed scope shows in the pane"
    scope = page.locator(f'.graph-svg .unit.scope[data-scope="{scope_id}"]')
    before = page.locator(".graph-svg .unit").count()
    scope.click()
    page.wait_for_selector(f'.graph-svg .cluster-head[data-scope="{scope_id}"]')
    assert page.locator(".graph-svg .unit").count() > before
    # keyboard: focus lands inside the opened scope; Escape closes it again
    page.keyboard.press("Escape")
    page.wait_for_selector(f'.graph-svg .unit.scope[data-scope="{scope_id}"]')
    assert page.evaluate("document.activeElement.dataset.scope") == scope_id
    page.keyboard.press("Enter")
    page.wait_for_selector(f'.graph-svg .cluster-head[data-scope="{scope_id}"]')


def test_keyboard_alone_runs_the_main_flow(page, server):
    b = small_graphdef()
    # pick the file (the one step a file dialog does), then keyboard only
    page.set_input_files("#model-file", _file("keys.pb", b.to_bytes()))
    page.focus("#model-file")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Check the model":
            break
    else:
        pytest.fail("Tab never reached the submit button")
    page.keyboard.press("Enter")
    current_report_id(page)
    wait_drawn(page)
    # Tab to the first finding's node button and open it
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('goto')"):
            break
    else:
        pytest.fail("Tab never reached a finding")
    node_id = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'inspector-title'")
    assert node_id in page.locator(".inspector").inner_text()
    # into the graph: arrows move between boxes, Enter inspects
    page.focus(".report-layout .graph-svg")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("document.activeElement.dataset.unit")
    assert focused
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.unit") != focused


def test_rule_docs_open_from_a_finding(page, server, small_report):
    open_report(page, server, small_report)
    code = small_report["findings"][0]["code"]
    rule = server.get(f"v1/rules/{code}")
    page.locator(f'.findings a[data-rule="{code}"]').click()
    dialog = page.locator("#doc-dialog")
    expect(dialog.locator("#doc-title")).to_have_text(code)
    expect(dialog.locator("#doc-body")).to_contain_text(rule["name"])
    if rule.get("doc"):
        first_heading = next(line.lstrip("# ") for line in rule["doc"].splitlines() if line.startswith("#"))
        expect(dialog.locator("#doc-body")).to_contain_text(first_heading)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_exports_model_explorer_node_data_and_sarif(page, server, small_report):
    open_report(page, server, small_report)
    page.locator("details.panel summary", has_text="Export").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Model Explorer node data").click()
    exported = json.loads(Path(info.value.path()).read_text())
    graph = server.get(f"v1/reports/{small_report['id']}/graph")
    assert exported == model_explorer_node_data(small_report, graph)
    with page.expect_download() as info:
        page.get_by_role("button", name="SARIF").click()
    sarif = json.loads(Path(info.value.path()).read_text())
    assert sarif["version"] == "2.1.0"
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {f["code"] for f in small_report["findings"]}


def test_compare_two_versions_from_the_history(page, server):
    v1, v2 = small_graphdef(), small_graphdef_v2()
    r1 = server.upload("net_v1.pb", v1.to_bytes(), targets=["float", "tflm"], outputs=v1.outputs)
    r2 = server.upload("net_v2.pb", v2.to_bytes(), targets=["float", "tflm"], outputs=v2.outputs)
    name1, name2 = (r["model"]["path"].rsplit("/", 1)[-1] for r in (r1, r2))
    page.goto(f"{server.url}#/history")
    for r in (r1, r2):
        page.get_by_role("row", name=re.compile(r["name"])).get_by_role("checkbox").check()
    page.get_by_role("button", name="Compare the two selected").click()
    page.wait_for_selector(".compare-page")
    wait_drawn(page, ".compare-col:nth-child(1)")
    wait_drawn(page, ".compare-col:nth-child(2)")
    old = {f["fingerprint"] for f in r1["findings"]}
    new = {f["fingerprint"] for f in r2["findings"]}
    gone = [f for f in r1["findings"] if f["fingerprint"] not in new]
    added = [f for f in r2["findings"] if f["fingerprint"] not in old]
    assert any(f["code"] == "GL101" for f in gone)  # v2 froze the variable
    for caption, expected in ((f"Gone since {name1} ({len(gone)})", gone), (f"New in {name2} ({len(added)})", added)):
        table = page.locator("table.diff", has=page.locator("caption", has_text=caption))
        assert table.count() == 1, (caption, page.locator("table.diff caption").all_inner_texts())
        text = table.inner_text()
        assert all(f["message"].replace("`", "") in text for f in expected)
    ops = page.locator("table.diff", has=page.locator("caption", has_text="Ops that changed")).inner_text()
    assert re.search(r"relu\s+1\s+0", ops) and re.search(r"relu6\s+0\s+1", ops)
    assert "not quantized" in page.locator(".compare-page").inner_text()
    # each side has its own inspector
    side_b = page.locator(".compare-col").nth(1)
    side_b.locator('.graph-svg [data-node="conv/Relu6"]').click()
    expect(side_b.locator(".inspector h2 .op")).to_have_text("Relu6")


@pytest.mark.tf
def test_compare_float_and_int8_tflite_names_the_ops_that_stay_float(page, server, tf_models):
    rf = server.upload("float.tflite", (tf_models / "float.tflite").read_bytes())
    rq = server.upload("dynamic_range.tflite", (tf_models / "dynamic_range.tflite").read_bytes())
    page.goto(f"{server.url}#/compare/{rf['id']}/{rq['id']}")
    page.wait_for_selector(".compare-page")
    graph = server.get(f"v1/reports/{rq['id']}/graph")
    tensors = graph["tensors"]
    float_ops = [n for n in graph["nodes"] if n["kind"] == "op" and any(
        tensors[t]["class"] == "float" and not tensors[t]["const"] for t in n["inputs"] + n["outputs"])]
    total = sum(1 for n in graph["nodes"] if n["kind"] == "op")
    text = page.locator(".stayed-float").inner_text()
    assert f"{len(float_ops)} of {total} ops still compute in float" in text


@pytest.mark.converter
def test_fix_and_convert_runs_from_the_page_with_progress_and_downloads(page, server):
    if tensorflow_version() is None:
        pytest.skip("the conversion worker needs TensorFlow")
    b = convertible_graphdef()
    report = server.upload("convertible.pb", b.to_bytes(), targets=["float"], outputs=b.outputs)
    open_report(page, server, report)
    page.locator("#jobs-panel summary").click()
    page.select_option("#job-target", "float")
    page.get_by_role("button", name="Fix and convert").click()
    status = page.locator("#jobs-panel .status")
    expect(status).to_have_text(re.compile(r"^(Done|Failed)"), timeout=240_000)
    jobs = server.get("v1/jobs")["items"]
    job = next(j for j in jobs if j["request"]["report_id"] == report["id"])
    assert job["status"] in ("done", "failed")
    assert page.locator("#jobs-panel progress").get_attribute("value") == "1"
    links = page.locator("#jobs-panel .job-files a")
    assert links.all_inner_texts() == [f"Download {name}" for name in job["result"]["files"]]
    assert status.inner_text().startswith("Done") == (job["status"] == "done" and not job["result"].get("error"))
    assert "model.tflite" in job["result"]["files"], job["result"]
    with page.expect_download() as info:
        page.get_by_role("link", name="Download model.tflite").click()
    assert Path(info.value.path()).read_bytes()[4:8] == b"TFL3"


def test_unreadable_file_shows_what_went_wrong(page, server):
    upload_form(page, "junk.pb", b"\x00\x01 this is not a model " * 10)
    current_report_id(page)
    alert = page.locator(".side .error[role=alert]")
    alert.wait_for()
    assert "could not be read" in alert.inner_text()
    assert page.locator(".sev-section.sev-error .code", has_text="GL001").count() == 1


def test_oversized_file_is_refused_with_a_message(page, server):
    from tests.web.conftest import MAX_UPLOAD_MB

    upload_form(page, "huge.pb", b"\x08" * int((MAX_UPLOAD_MB + 0.5) * 1024 * 1024))
    alert = page.locator(".upload .error[role=alert]")
    alert.wait_for()
    assert "too large" in alert.inner_text()
    assert "#/report/" not in page.url


def test_a_service_with_tokens_asks_for_one_and_then_works(browser, viewer_built, tmp_path):
    from tests.web.conftest import Server

    token = "viewer-test-token-0123456789"
    (tmp_path / "tokens").write_text(f"alice:{token}\n")
    srv = Server(tmp_path, extra_args=("--token-file", str(tmp_path / "tokens")))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(srv.url + "#/history")
        page.get_by_label("Access token").fill("wrong-token-but-long-enough")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator(".page .error[role=alert]")).to_contain_text("refused")
        page.get_by_label("Access token").fill(token)
        page.get_by_role("button", name="Continue").click()
        expect(page.locator(".history .status")).to_have_text("No reports stored yet: check a model first.")
        page.goto(srv.url + "#/")
        b = small_graphdef()
        upload_form(page, "token.pb", b.to_bytes(), outputs="probs")
        current_report_id(page)
        wait_drawn(page)
        assert page.locator(".findings .finding").count() > 0
    finally:
        context.close()
        srv.stop()
