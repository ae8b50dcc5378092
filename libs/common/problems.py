"""RFC 9457 problem details: every error a service returns has this shape."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """A domain or request error that carries its HTTP status and a human title."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = type_
        self.errors = list(errors) if errors else None
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_: str = "about:blank",
    instance: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    """Turn pydantic error dicts into `{"field", "message", "type"}` entries a lender can act on."""
    out = []
    for err in raw:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        out.append(
            {
                "field": ".".join(loc) or "body",
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "value_error"),
            }
        )
    return out


def install_problem_handlers(app: FastAPI) -> None:
    """Make validation errors, HTTP errors and ProblemErrors answer as problem+json."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            title=exc.title,
            type_=exc.type,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            422,
            "the request did not validate",
            title="Validation failed",
            instance=request.url.path,
            errors=field_errors(exc.errors()),
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # A pooled connection the database dropped (a restart): the next try gets a fresh one.
        if exc.connection_invalidated or isinstance(exc.orig, OSError):
            return problem_response(
                503,
                "the database is not reachable right now; try again",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        log.exception("database error", path=request.url.path)
        return problem_response(500, "internal error", instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", path=request.url.path, error=type(exc).__name__)
        return problem_response(500, "internal error", instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            exc.status_code,
            str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )


# The problems any operation may answer (besides what it documents itself): bad input, no or a bad
# token, a role or tenant that may not, a conflict, too large, too many. Documented on every
# operation so a client (and schemathesis) knows the shape of each.
COMMON_PROBLEMS = {
    "400": "Bad request (e.g. a cursor this API did not give out)",
    "401": "No token, or one that is not valid for this service",
    "403": "The caller's role may not do this",
    "404": "Not found (another tenant's resource answers the same)",
    "409": "Conflict with the resource's state",
    "413": "The body is larger than this service takes",
    "422": "Validation failed; `errors` names each field",
    "429": "The tenant is over its rate; see Retry-After",
}
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the common problem responses (application/problem+json) to every operation of an
    OpenAPI document; FastAPI's own 422 (application/json) is replaced, since we answer problems."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in COMMON_PROBLEMS.items():
                existing = operation["responses"].get(code, {})
                operation["responses"][code] = {
                    "description": existing.get("description") or description,
                    "content": content,
                }
    return schema
