"""A SavedModel in the viewer, in Debian's chromium against a real ``graphlint serve``: a folder dropped on the page
or chosen with the folder picker is packed into a .zip in the browser and checked; a .tar.gz archive is checked as
it is; the upload text names every format."""

from __future__ import annotations

import base64
import io
import tarfile
from pathlib import Path

import pytest

from tests.loaders.sm_fixtures import build
from tests.web.conftest import Server
from tests.web.test_viewer_browser import _file, current_report_id

# Files of the folder as a drop hands them to the page: a directory entry tree (the FileSystemEntry API that
# DataTransferItem.webkitGetAsEntry returns) over real File objects. Playwright cannot drag a folder from the
# desktop, so the entries are made here; the page's own code walks them, zips and uploads.
DROP_FOLDER = """([folder, files]) => {
  const dir = (name) => ({ name, isDirectory: true, isFile: false, children: new Map() });
  const root = dir(folder);
  for (const [path, b64] of files) {
    const parts = path.split('/');
    let at = root;
    for (const part of parts.slice(0, -1)) {
      if (!at.children.has(part)) at.children.set(part, dir(part));
      at = at.children.get(part);
    }
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const file = new File([bytes], parts.at(-1));
    at.children.set(file.name, { name: file.name, isDirectory: false, isFile: true, file: (ok) => ok(file) });
  }
  const withReaders = (entry) => {
    if (!entry.isDirectory) return entry;
    const kids = [...entry.children.values()].map(withReaders);
    // readEntries hands out one batch, then an empty one, as the browser's reader does
    entry.createReader = () => { let done = false; return { readEntries: (ok) => {
      const batch = done ? [] : kids; done = true; setTimeout(() => ok(batch)); } }; };
    return entry;
  };
  const top = withReaders(root);
  const event = new DragEvent('drop', { bubbles: true, cancelable: true });
  Object.defineProperty(event, 'dataTransfer', { value: {
    items: [{ kind: 'file', webkitGetAsEntry: () => top }], files: [] } });
  document.querySelector('.dropzone').dispatchEvent(event);
}"""


@pytest.fixture(scope="module")
def saved_model() -> Path:
    """A small tf.Module SavedModel (input ``x``), built by TensorFlow in a child process and cached."""
    return build() / "module"


def _files(folder: Path) -> list[tuple[str, str]]:
    return [(p.relative_to(folder).as_posix(), base64.b64encode(p.read_bytes()).decode())
            for p in sorted(folder.rglob("*")) if p.is_file()]


def _tar_gz(folder: Path) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return out.getvalue()


def _check_and_read_report(page, server) -> dict:
    page.get_by_role("button", name="Check the model").click()
    report = server.get(f"v1/reports/{current_report_id(page)}")
    assert report["model"]["format"] == "savedmodel"
    assert [i["name"] for i in report["model"]["inputs"]] == ["x"]
    return report


def test_the_upload_text_names_every_format(page, server):
    text = page.locator("#drop-help").inner_text()
    for name in (".pb", ".pbtxt", ".tflite", ".keras", ".h5", "SavedModel", "folder", ".zip", ".tar", ".tar.gz"):
        assert name in text, name
    assert page.locator("#model-folder").get_attribute("webkitdirectory") is not None


def test_a_savedmodel_folder_dropped_on_the_page_is_zipped_and_checked(page, server, saved_model):
    page.evaluate(DROP_FOLDER, [saved_model.name, _files(saved_model)])
    chosen = page.locator(".dropzone .chosen")
    chosen.filter(has_text="packed from the folder").wait_for()
    assert chosen.inner_text().startswith(f"{saved_model.name}.zip (")
    count = sum(1 for p in saved_model.rglob("*") if p.is_file())
    assert f"{count} files packed" in chosen.inner_text()
    report = _check_and_read_report(page, server)
    assert report["model"]["path"].endswith(f"{saved_model.name}.zip")


@pytest.fixture(scope="module")
def roomy_server(server, tmp_path_factory):
    """A service that takes uploads of 4 MB (the shared one takes 1 MB, for the oversized-file test)."""
    srv = Server(tmp_path_factory.mktemp("roomy"), max_upload_mb=4)
    yield srv
    srv.stop()


def test_a_file_that_deflates_past_the_services_ratio_is_stored(browser, roomy_server, saved_model):
    """1.5 MB of zeros deflate about 1000-fold, past what the service takes from one entry (200-fold, plus 1 MB):
    packed as stored instead, the folder is accepted."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(roomy_server.url)
        files = [*_files(saved_model), ("assets/zeros.bin", base64.b64encode(bytes(1_500_000)).decode())]
        page.evaluate(DROP_FOLDER, [saved_model.name, files])
        page.locator(".dropzone .chosen").filter(has_text="packed from the folder").wait_for()
        _check_and_read_report(page, roomy_server)
    finally:
        context.close()
    assert not errors, errors


def test_a_savedmodel_folder_chosen_with_the_folder_picker_is_checked(page, server, saved_model):
    page.set_input_files("#model-folder", saved_model)
    page.locator(".dropzone .chosen").filter(has_text="packed from the folder").wait_for()
    _check_and_read_report(page, server)


def test_a_savedmodel_archive_is_checked(page, server, saved_model):
    page.set_input_files("#model-file", _file("module.tar.gz", _tar_gz(saved_model)))
    _check_and_read_report(page, server)


def test_a_folder_without_a_savedmodel_is_refused_with_the_services_message(page, server):
    page.evaluate(DROP_FOLDER, ["notes", [["readme.txt", base64.b64encode(b"no model here").decode()]]])
    page.locator(".dropzone .chosen").filter(has_text="packed from the folder").wait_for()
    page.get_by_role("button", name="Check the model").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "no saved_model.pb" in alert.inner_text()
