"""/healthz: can this instance serve? Database and Redis must answer; workers are reported.

A missing worker degrades the platform (reports wait) but the web can still serve, so the
answer stays 200; a database or Redis that does not answer makes it 503. The worker ping is
cached for a few seconds so a load balancer polling often does not flood the broker.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from betterwork.celery import app as celery_app

WORKER_PING_CACHE_SECONDS = 10
_worker_cache: dict[str, Any] = {"at": 0.0, "value": None}


def _timed(check: Any) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail = check()
    except Exception as error:  # noqa: BLE001 - any failure is the answer
        return {"ok": False, "error": error.__class__.__name__}
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1), **(detail or {})}


def check_database() -> dict[str, Any]:
    def probe() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    return _timed(probe)


def check_redis() -> dict[str, Any]:
    def probe() -> None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()

    return _timed(probe)


def check_workers() -> dict[str, Any]:
    now = time.monotonic()
    if _worker_cache["value"] is None or now - _worker_cache["at"] > WORKER_PING_CACHE_SECONDS:

        def probe() -> dict[str, Any]:
            replies = celery_app.control.ping(timeout=0.5) or []
            names = sorted(name for reply in replies for name in reply)
            return {"workers": names, "count": len(names)}

        _worker_cache.update(at=now, value=_timed(probe))
    return dict(_worker_cache["value"])


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database, cache = check_database(), check_redis()
    workers = check_workers() if cache["ok"] else {"ok": False, "error": "broker unreachable"}
    if not (database["ok"] and cache["ok"]):
        status, code = "down", 503
    elif not workers.get("count"):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse(
        {"status": status, "database": database, "redis": cache, "worker": workers}, status=code
    )
