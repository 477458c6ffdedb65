from __future__ import annotations

import pytest

from betterwork import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_worker_cache():
    health._worker_cache.update(at=0.0, value=None)
    yield
    health._worker_cache.update(at=0.0, value=None)


def test_database_and_redis_are_checked_with_latency(client):
    body = client.get("/healthz").json()
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["database"]["ms"] >= 0 and body["redis"]["ms"] >= 0


def test_redis_down_is_503(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "down"
    assert response.json()["redis"] == {"ok": False, "error": "ConnectionError"}


def test_needs_no_sign_in_and_is_not_cached(client):
    response = client.get("/healthz")
    assert response.status_code in (200, 503) and "no-cache" in response["Cache-Control"]


def test_no_worker_means_degraded_but_serving(client):
    # The test broker has no worker listening (tests/test_celery_worker.py stops its own).
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded" and body["worker"]["count"] == 0
