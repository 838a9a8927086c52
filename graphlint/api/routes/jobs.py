"""``/v1/jobs``: start a fix-and-convert job, follow it, cancel it, download what it wrote."""

from __future__ import annotations

from typing import Annotated, TypedDict

from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from graphlint.api.deps import OwnerDep, app_state
from graphlint.api.jobs import job_request
from graphlint.api.problems import ProblemError
from graphlint.api.schemas import Job, JobList
from graphlint.api.service import clean_name
from graphlint.api.uploads import receive_upload, refuse_bad_keras
from graphlint.loaders import ACCEPTED

from . import problems

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
_LIST = Annotated[list[str] | None, Query()]

_JOB_BODY = {
    "required": False,
    "description": f"the model (multipart field `file` or the raw body: a {ACCEPTED}), or a `report_id` of a "
                   "stored report; the other fields as the query parameters. A SavedModel or Keras file converts "
                   "with TFLiteConverter.from_saved_model and its serving_default signature, without fixes (the "
                   "result's `fix.status` says `not-applied` and why)",
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}, "report_id": {"type": "string"},
            "target": {"type": "string"}, "fix": {"type": "boolean"}, "unsafe_fixes": {"type": "boolean"},
            "input": {"type": "array", "items": {"type": "string"}},
            "output": {"type": "array", "items": {"type": "string"}}}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


class _JobOptions(TypedDict):
    """The parameters of a job besides its model, from the query and the form (as :func:`job_request` takes them)."""

    target: str | None
    fix: bool
    unsafe_fixes: bool
    inputs: list[str]
    outputs: list[str]
    calibration: str | None
    input_ranges: list[str]


def _truthy(values: list[str]) -> bool:
    return any(v.strip().lower() in ("1", "true", "yes", "on") for v in values)


@router.post("", name="create", status_code=202, response_model=Job, openapi_extra={"requestBody": _JOB_BODY},
             responses={202: {"model": Job, "description": "queued"},
                        **problems(400, 401, 404, 413, 415, 422, 429, 503)})
async def create_job(request: Request, owner: OwnerDep,
                     report_id: Annotated[str | None, Query(max_length=64)] = None,
                     name: Annotated[str | None, Query(max_length=1024)] = None,
                     target: Annotated[str | None, Query(description="conversion target (default int8)")] = None,
                     fix: bool = False, unsafe_fixes: bool = False,
                     input: _LIST = None, output: _LIST = None,
                     calibration: Annotated[str | None, Query(max_length=64, description="random or random:N")] = None,
                     input_range: Annotated[list[str] | None, Query(description="NAME:MIN:MAX")] = None) -> Response:
    """Queue a fix-and-convert job for an uploaded model or a stored report's model. With a token file, a token
    has at most `GRAPHLINT_MAX_QUEUED_PER_TOKEN` jobs queued or running: beyond that, 429 with `Retry-After`
    and a `quota` member (`limit`, `active`, `setting`)."""
    state = app_state(request)
    await to_thread.run_sync(state.jobs.check_quota, owner)  # before a large upload is read; submit checks again
    upload = await receive_upload(request, state.blobs.tmp, state.settings.max_upload_bytes, require_file=False)
    try:
        f = upload.fields
        report_id = report_id or upload.first("report_id")
        if upload.has_file and report_id:
            raise ProblemError(422, "give either a model file or a report_id, not both")
        values: _JobOptions = {
            "target": target or upload.first("target"), "fix": fix or _truthy(f.get("fix", [])),
            "unsafe_fixes": unsafe_fixes or _truthy(f.get("unsafe_fixes", [])),
            "inputs": [*(input or ()), *f.get("input", ())], "outputs": [*(output or ()), *f.get("output", ())],
            "calibration": calibration or upload.first("calibration"),
            "input_ranges": [*(input_range or ()), *f.get("input_range", ())]}
        if report_id:
            row = await state.reports.get(owner, report_id)
            if state.blobs.get(row.sha256) is None:
                raise ProblemError(404, f"the model of report `{report_id}` is not stored on this server")
            request_json = job_request(sha256=row.sha256, name=row.name, report_id=row.id, **values)
        elif upload.has_file:
            model_name = clean_name(name or upload.filename)
            await refuse_bad_keras(upload, model_name)
            request_json = job_request(sha256=upload.sha256, name=model_name, report_id=None, **values)
            state.blobs.put(upload.sha256, upload.path)
        else:
            raise ProblemError(422, "send a model (multipart `file` or the raw body) or a `report_id`")
    finally:
        upload.discard()
    job = await to_thread.run_sync(state.jobs.submit, owner, request_json)
    return JSONResponse(job.public(), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("", name="list", response_model=JobList, responses=problems(401, 422))
async def list_jobs(request: Request, owner: OwnerDep, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    """The caller's most recent jobs, newest first."""
    jobs = await to_thread.run_sync(app_state(request).store.list_jobs, owner, limit)
    return JSONResponse({"items": [j.public() for j in jobs]})


@router.get("/{job_id}", name="get", response_model=Job, responses=problems(401, 404))
async def get_job(request: Request, owner: OwnerDep, job_id: str) -> Response:
    """A job's status, progress and (once finished) result."""
    job = await to_thread.run_sync(app_state(request).jobs.get, owner, job_id)
    return JSONResponse(job.public())


@router.delete("/{job_id}", name="cancel", response_model=Job, responses=problems(401, 404, 409))
async def cancel_job(request: Request, owner: OwnerDep, job_id: str) -> Response:
    """Cancel a queued or running job: a queued job never runs, a running one is stopped (its conversion
    process is killed) within about a second. The job's status becomes `cancelled` on every replica. 409 when
    the job has already ended."""
    job = await to_thread.run_sync(app_state(request).jobs.cancel, owner, job_id)
    return JSONResponse(job.public())


@router.get("/{job_id}/files/{name}", name="file", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"},
                       **problems(401, 404)})
async def get_job_file(request: Request, owner: OwnerDep, job_id: str, name: str) -> Response:
    """Download a file the job wrote; `name` must be one its result lists."""
    path = await to_thread.run_sync(app_state(request).jobs.file, owner, job_id, name)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")
