"""``/v1/reports``: upload a model and get its report; fetch, list, graph and SARIF of stored reports."""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from graphlint.api.deps import OwnerDep, app_state
from graphlint.api.schemas import ReportList, StoredReport
from graphlint.api.service import MAX_LIST, accepts_encoding, clean_name, inflate, lint_options, stored_report
from graphlint.api.uploads import receive_upload, refuse_bad_keras
from graphlint.loaders import ACCEPTED

from . import problems

router = APIRouter(prefix="/v1/reports", tags=["reports"])
_LIST = Annotated[list[str] | None, Query()]
_OPTION_FIELDS = ("target", "input", "output", "select", "ignore", "extend_select", "severity", "per_node_ignore",
                  "preview")


def _array(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


_UPLOAD_BODY = {
    "required": True,
    "description": "the model: multipart field `file` (other fields as the query parameters), or the raw bytes",
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary", "description": ACCEPTED},
                "target": _array("targets, repeatable or comma-separated"),
                "input": _array("NAME[:SHAPE]"), "output": _array("output tensor names"),
                "select": _array("codes, prefixes or names"), "ignore": _array("codes, prefixes or names")}},
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post("", name="create", status_code=201, response_model=None, openapi_extra={"requestBody": _UPLOAD_BODY},
             summary="Lint a model and store its report",
             responses={201: {"model": StoredReport, "description": "linted and stored"},
                        200: {"model": StoredReport, "description": "the same model and options were already "
                                                                    "stored: the stored report"},
                        **problems(400, 401, 413, 415, 422, 503)})
async def create_report(request: Request, owner: OwnerDep,
                        name: Annotated[str | None, Query(max_length=1024, description="the model's name")] = None,
                        target: Annotated[list[str] | None, Query(description="targets (default float,int8)")] = None,
                        input: Annotated[list[str] | None, Query(description="NAME[:SHAPE]")] = None,
                        output: _LIST = None, select: _LIST = None, ignore: _LIST = None,
                        extend_select: _LIST = None, preview: bool = False,
                        severity: Annotated[list[str] | None, Query(description="CODE=error|warning|info")] = None,
                        per_node_ignore: Annotated[list[str] | None, Query(description="GLOB=CODES")] = None,
                        verify: Annotated[bool, Query(description="also run the real converter, LiteRT and TFLite "
                                                                  "Micro per target, as a job: the report's "
                                                                  "`verification` names it, and `GET "
                                                                  "/v1/reports/{id}` shows `targets[T].verified` "
                                                                  "once it is done")] = False,
                        ) -> Response:
    """Upload a model (multipart `file`, or the raw body with `?name=`) and get the CLI's JSON report plus its
    `id`. The model is a `.pb`, `.pbtxt`, `.tflite`, `.keras` or `.h5` file, or a SavedModel directory as a
    `.zip`, `.tar` or `.tar.gz` archive; a Keras file is traced into a SavedModel by TensorFlow on the server
    (422 `bad-keras` when it is not a complete `.keras` zip or HDF5 file, 422 `bad-archive` for an archive that
    would unpack outside its folder or too large). A model that cannot be read gets a stored report with one fatal
    finding (GL001/GL002). A model over a lint budget (time, memory, nodes) gets 422 `lint-timeout` or
    `too-large`, whose `budget` member names the budget, this server's limit and the setting that raises it;
    nothing is stored.

    With `verify=true` the report also carries `verification: {job, status, message}` (queued | running | done |
    failed); poll `GET /v1/reports/{id}` until its status is done or failed: then every `targets[T].verified`
    is `{status: confirmed | contradicted | not-run, actual, message, reproduce}`. The predicted verdicts never
    change. Asking again for a stored report starts a new verification only when none is queued, running or
    done."""
    state = app_state(request)
    values: dict[str, list[str] | None] = {
        "target": target, "input": input, "output": output, "select": select, "ignore": ignore,
        "extend_select": extend_select, "severity": severity, "per_node_ignore": per_node_ignore,
        "preview": ["true"] if preview else None}
    options = lint_options(values)  # fail fast, before the body is read
    upload = await receive_upload(request, state.blobs.tmp, state.settings.max_upload_bytes)
    try:
        if upload.fields:
            for key in _OPTION_FIELDS:
                values[key] = [*(values[key] or ()), *upload.fields.get(key, ())]
            verify = verify or any(v.lower() in ("1", "true", "yes") for v in upload.fields.get("verify", ()))
            options = lint_options(values)
        model_name = clean_name(name or upload.first("name") or upload.filename)
        await refuse_bad_keras(upload, model_name)
    except BaseException:
        upload.discard()
        raise
    row, created = await state.reports.create(owner, upload, model_name, options)
    if verify:  # slow (seconds per target): a job in the job threads, never on the event loop or a lint worker
        row = await to_thread.run_sync(state.jobs.verify, row, list(options.inputs), list(options.outputs))
    return Response(stored_report(row), status_code=201 if created else 200, media_type="application/json",
                    headers={"Location": f"/v1/reports/{row.id}"})


@router.get("", name="list", response_model=ReportList, responses=problems(401, 422))
async def list_reports(request: Request, owner: OwnerDep,
                       limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
                       cursor: Annotated[str | None, Query(max_length=32, description="`next` of the previous page")]
                       = None,
                       sha256: Annotated[str | None, Query(max_length=64)] = None,
                       name: Annotated[str | None, Query(max_length=1024)] = None) -> Response:
    """Stored reports of the caller, newest first, optionally only those of one model (`sha256`) or `name`."""
    page = await app_state(request).reports.list(owner, limit=limit, cursor=cursor, sha256=sha256, name=name)
    return JSONResponse(page)


@router.get("/{report_id}", name="get", response_model=StoredReport, responses=problems(401, 404))
async def get_report(request: Request, owner: OwnerDep, report_id: str) -> Response:
    """A stored report."""
    row = await app_state(request).reports.get(owner, report_id)
    return Response(stored_report(row), media_type="application/json")


@router.get("/{report_id}/graph", name="graph", response_model=dict,
            responses={200: {"description": "nodes, edges, tensors and name scopes for the viewer"},
                       **problems(401, 404)})
async def get_graph(request: Request, owner: OwnerDep, report_id: str) -> Response:
    """The model graph with the report's findings on its nodes, as the web viewer draws it."""
    packed = await app_state(request).reports.graph(owner, report_id)
    # A packed graph is its JSON in HTTP's `deflate` coding: sent as stored when the client accepts that.
    return _packed_response(request, packed, "application/json")


_VARY = {"Vary": "Accept-Encoding"}
_DEFLATE = {"Content-Encoding": "deflate", **_VARY}


def _packed_response(request: Request, packed: bytes, media_type: str) -> Response:
    """A packed JSON blob as it is when the client accepts deflate, else inflated piece by piece in a thread."""
    if accepts_encoding(request.headers.get("accept-encoding"), "deflate"):
        return Response(packed, media_type=media_type, headers=_DEFLATE)
    return StreamingResponse(inflate(packed), media_type=media_type, headers=_VARY)


@router.get("/{report_id}/sarif", name="sarif", response_model=None, response_class=Response,
            responses={200: {"description": "SARIF 2.1.0 (GitHub code scanning)",
                             "content": {"application/sarif+json": {"schema": {"type": "object"}}}},
                       **problems(401, 404, 422, 503)})
async def get_sarif(request: Request, owner: OwnerDep, report_id: str) -> Response:
    """The report as SARIF 2.1.0, as `graphlint check --format sarif` writes it, listing at most
    `GRAPHLINT_MAX_FINDINGS_PER_RULE` findings of a rule (then one finding that counts the rest)."""
    row = await app_state(request).reports.get(owner, report_id)
    # Decoding and rendering a report of 10^5 findings takes seconds and hundreds of MB: a lint worker does it.
    packed = await app_state(request).pool.sarif(row.report)
    return _packed_response(request, packed, "application/sarif+json")
