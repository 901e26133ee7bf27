"""Check runs.

Mirrors https://docs.github.com/en/rest/checks/runs :
* ``POST /repos/{o}/{r}/check-runs`` (201), ``PATCH`` and ``GET .../check-runs/{id}``,
  ``GET .../check-runs/{id}/annotations``, ``GET .../commits/{ref}/check-runs``
  (``{total_count, check_runs}``, latest run per name unless ``filter=all``);
* "The Checks API limits the number of annotations to a maximum of 50 per API request
  [...] Each time you update the check run, annotations are appended to the list of
  annotations that already exist": more than 50 answers 422
  "Invalid request.\\n\\nNo more than 50 items are allowed; N were supplied."
  (the text GitHub sends, see qiniu/reviewbot#258, stoplightio/spectral-action#334);
* ``output`` needs ``title`` and ``summary``; ``summary``/``text`` at most 65,535
  characters; an annotation needs ``path``, ``start_line``, ``end_line``,
  ``annotation_level`` (notice, warning, failure) and ``message``;
* a ``conclusion`` makes the run ``completed``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .errors import APIError, invalid_request, not_found
from .http import content_created, fake, json_body, json_response, paginate, repo_access, urls
from .serializers import annotation_json, check_run_json
from .state import Annotation, CheckRun, Repository

bp = Blueprint("checks", __name__)
CHECKS_READ = ("checks", "read")
CHECKS_WRITE = ("checks", "write")
DOCS_CREATE = "https://docs.github.com/rest/checks/runs#create-a-check-run"
DOCS_UPDATE = "https://docs.github.com/rest/checks/runs#update-a-check-run"
STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
LEVELS = ("notice", "warning", "failure")
TEXT_MAX = 65535


def _one_of(field: str, value: Any, allowed: tuple[str, ...], docs: str) -> None:
    if value not in allowed:
        options = ", ".join(f'"{a}"' for a in allowed)
        raise invalid_request(f"For 'properties/{field}', \"{value}\" is not one of [{options}].", docs)


def _parse_output(output: Any, docs: str, limit: int) -> tuple[dict[str, Any], list[Annotation]]:
    if not isinstance(output, dict):
        raise invalid_request("For 'properties/output', it is not an object.", docs)
    for key in ("title", "summary"):
        if key not in output:
            raise invalid_request(f'"{key}" wasn\'t supplied.', docs)
    for key in ("summary", "text"):
        value = output.get(key)
        if isinstance(value, str) and len(value) > TEXT_MAX:
            raise invalid_request(f"Only {TEXT_MAX} characters are allowed; {len(value)} were supplied.", docs)
    raw = output.get("annotations") or []
    if not isinstance(raw, list):
        raise invalid_request("For 'properties/annotations', it is not an array.", docs)
    if len(raw) > limit:
        raise invalid_request(f"No more than {limit} items are allowed; {len(raw)} were supplied.", docs)
    annotations = []
    for a in raw:
        if not isinstance(a, dict):
            raise invalid_request("For 'items', it is not an object.", docs)
        for key in ("path", "start_line", "end_line", "annotation_level", "message"):
            if key not in a:
                raise invalid_request(f'"{key}" wasn\'t supplied.', docs)
        _one_of("annotation_level", a["annotation_level"], LEVELS, docs)
        annotations.append(
            Annotation(
                a["path"],
                int(a["start_line"]),
                int(a["end_line"]),
                a["annotation_level"],
                a["message"],
                a.get("title"),
                a.get("raw_details"),
                a.get("start_column"),
                a.get("end_column"),
            )
        )
    fields = {k: output[k] for k in ("title", "summary", "text") if k in output}
    return fields, annotations


def _apply(run: CheckRun, body: dict[str, Any], docs: str) -> None:
    f = fake()
    status = body.get("status")
    conclusion = body.get("conclusion")
    if status is not None:
        _one_of("status", status, STATUSES, docs)
    if conclusion is not None:
        _one_of("conclusion", conclusion, CONCLUSIONS, docs)
    if status == "completed" and conclusion is None and run.conclusion is None:
        raise invalid_request('"conclusion" wasn\'t supplied.', docs)
    fields: dict[str, Any] = {}
    annotations: list[Annotation] = []
    if "output" in body and body["output"] is not None:
        fields, annotations = _parse_output(body["output"], docs, f.limits.annotations_per_request)
    # Everything validated: apply.
    if "name" in body and body["name"]:
        run.name = body["name"]
    for key in ("details_url", "external_id"):
        if key in body:
            setattr(run, key, body[key])
    if "actions" in body and isinstance(body["actions"], list):
        run.actions = body["actions"]
    if status is not None:
        run.status = status
    if conclusion is not None:
        run.conclusion = conclusion
        run.status = "completed"
    if run.status == "in_progress" and run.started_at is None:
        run.started_at = f.now()
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = f.now()
    run.output.update(fields)
    run.annotations.extend(annotations)
    run.updates += 1


def _run(repo: Repository, run_id: int) -> CheckRun:
    run = fake().check_runs_by_id.get(run_id)
    if run is None or run.repo is not repo:
        raise not_found("https://docs.github.com/rest/checks/runs#get-a-check-run")
    return run


@bp.post("/repos/<owner>/<name>/check-runs")
def create(owner: str, name: str) -> Response:
    caller, repo = repo_access(owner, name, CHECKS_WRITE)
    f = fake()
    body = json_body()
    content_created(caller)
    for key in ("name", "head_sha"):
        if not body.get(key):
            raise invalid_request(f'"{key}" wasn\'t supplied.', DOCS_CREATE)
    head_sha = body["head_sha"]
    if head_sha not in repo.store.commits:
        raise APIError(422, f"No commit found for SHA: {head_sha}", documentation_url=DOCS_CREATE)
    run = CheckRun(f.next_id(), repo, body["name"], head_sha, "queued", None, f.now(), None, None, None)
    _apply(run, body, DOCS_CREATE)
    f.check_runs_by_id[run.id] = run
    return json_response(check_run_json(urls(), f, run), status=201)


@bp.get("/repos/<owner>/<name>/check-runs/<int:run_id>")
def get(owner: str, name: str, run_id: int) -> Response:
    _, repo = repo_access(owner, name, CHECKS_READ)
    return json_response(check_run_json(urls(), fake(), _run(repo, run_id)))


@bp.patch("/repos/<owner>/<name>/check-runs/<int:run_id>")
def update(owner: str, name: str, run_id: int) -> Response:
    _, repo = repo_access(owner, name, CHECKS_WRITE)
    run = _run(repo, run_id)
    _apply(run, json_body(), DOCS_UPDATE)
    return json_response(check_run_json(urls(), fake(), run))


@bp.get("/repos/<owner>/<name>/check-runs/<int:run_id>/annotations")
def annotations(owner: str, name: str, run_id: int) -> Response:
    _, repo = repo_access(owner, name, CHECKS_READ)
    run = _run(repo, run_id)
    page, headers = paginate(run.annotations)
    return json_response([annotation_json(run, a, urls()) for a in page], headers=headers)


def list_for_ref(owner: str, name: str, ref: str) -> Response:
    """``GET /repos/{o}/{r}/commits/{ref}/check-runs`` (routed through the commits route)."""
    _, repo = repo_access(owner, name, CHECKS_READ)
    f = fake()
    sha = f.resolve_ref(repo, ref)
    if sha is None:
        raise APIError(
            422,
            f"No commit found for SHA: {ref}",
            documentation_url="https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference",
        )
    runs = [r for r in f.check_runs_by_id.values() if r.repo is repo and r.head_sha == sha]
    if request.args.get("check_name"):
        runs = [r for r in runs if r.name == request.args["check_name"]]
    if request.args.get("status"):
        runs = [r for r in runs if r.status == request.args["status"]]
    if request.args.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for r in runs:
            if r.name not in latest or r.id > latest[r.name].id:
                latest[r.name] = r
        runs = list(latest.values())
    runs.sort(key=lambda r: -r.id)
    page, headers = paginate(runs)
    return json_response(
        {"total_count": len(runs), "check_runs": [check_run_json(urls(), f, r) for r in page]}, headers=headers
    )
