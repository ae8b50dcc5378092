"""Liveness, readiness (database and Kafka reachable) and Prometheus metrics for every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

Check = Callable[[], Awaitable[None]]


def health_router(checks: dict[str, Check], *, timeout_s: float = 2.0) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Database and Kafka are reachable", responses={503: {}})
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=timeout_s)
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - readiness reports any failure as not ready
                results[name] = f"failed: {type(exc).__name__}"
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": results},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_health(app: FastAPI, checks: dict[str, Check]) -> None:
    app.include_router(health_router(checks))
