"""Spreadsheet imports over the API: check, read, apply with choices; the same rules as the pages."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from betterwork import tenancy
from betterwork.models import Role
from factories.models import Factory
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def upload(rows, name="file.csv"):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    data = io.BytesIO(out.getvalue().encode())
    data.name = name
    return data


FACTORY_HEADER = ["Programme", "Factory id", "Name", "Address"]


def test_a_factory_list_through_the_api_with_a_choice(kh):
    FactoryFactory(programme=kh, name="Mekong Apparel", address="Kandal road 1")
    other = FactoryFactory(programme=kh, name="Mekong Apparel", address="Takeo road 9")
    client = api(user_with_role(Role.PROGRAMME_MANAGER, kh))
    rows = [
        FACTORY_HEADER,
        ["KH", "", "Mekong Apparel", "Svay Rieng"],
        ["KH", "", "Tonle Sap Textiles", "Siem Reap"],
    ]
    created = client.post("/api/v1/p/KH/factories/imports/", {"file": upload(rows)}, format="multipart")
    assert created.status_code == 201, created.content
    run = created.json()
    assert run["status"] == "previewed" and [p["action"] for p in run["plan"]] == ["choose", "create"]
    assert client.get(f"/api/v1/p/KH/factories/imports/{run['id']}/").json()["plan"] == run["plan"]
    apply = f"/api/v1/p/KH/factories/imports/{run['id']}/apply/"
    waiting = client.post(apply, {}, format="json")
    assert waiting.status_code == 400 and "Choose what row 2 is" in str(waiting.json())
    bad = client.post(apply, {"decisions": {"two": "new"}}, format="json")
    assert bad.status_code == 400
    done = client.post(apply, {"decisions": {"2": str(other.pk)}}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["summary"] == {"created": 1, "updated": 1, "unchanged": 0}
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Factory.objects.get(pk=other.pk).address == "Svay Rieng"
    again = client.post(apply, {"decisions": {"2": str(other.pk)}}, format="json")
    assert again.status_code == 400 and "already applied" in str(again.json())


def test_a_changed_registry_answers_409_with_the_new_plan(kh):
    factory = FactoryFactory(programme=kh, name="Angkor Garment", address="Street 5", workers_female=10)
    client = api(user_with_role(Role.PROGRAMME_MANAGER, kh))
    rows = [FACTORY_HEADER + ["Female workers"], ["KH", factory.public_id, "Angkor Garment", "", "20"]]
    run = client.post("/api/v1/p/KH/factories/imports/", {"file": upload(rows)}, format="multipart").json()
    with tenancy.scope({kh.pk}), transaction.atomic():
        Factory.objects.filter(pk=factory.pk).update(workers_female=20)
    conflict = client.post(f"/api/v1/p/KH/factories/imports/{run['id']}/apply/", {}, format="json")
    assert conflict.status_code == 409 and conflict.json()["plan"][0]["action"] == "unchanged"
    assert (
        client.post(f"/api/v1/p/KH/factories/imports/{run['id']}/apply/", {}, format="json").status_code
        == 200
    )


def test_history_through_the_api_and_a_bad_file(kh, tool):
    FactoryFactory(programme=kh, public_id="KH000018")
    client = api(user_with_role(Role.PROGRAMME_MANAGER, kh))
    header = ["Factory id", "Cycle", "Visit date", "Question key", "Answer", "Finding"]
    bad = client.post(
        "/api/v1/p/KH/assessments/imports/",
        {"file": upload([header, ["KH000018", "1", "2023-03-02", "NOPE", "C", ""]])},
        format="multipart",
    )
    assert bad.status_code == 201 and bad.json()["status"] == "rejected"
    assert "has no question “NOPE”" in bad.json()["errors"][0]["message"]
    refused = client.post(f"/api/v1/p/KH/assessments/imports/{bad.json()['id']}/apply/", {}, format="json")
    assert refused.status_code == 400
    good = client.post(
        "/api/v1/p/KH/assessments/imports/",
        {"file": upload([header, ["KH000018", "1", "2023-03-02", "OSH-01", "NC", "Exit locked."]])},
        format="multipart",
    ).json()
    done = client.post(f"/api/v1/p/KH/assessments/imports/{good['id']}/apply/", {}, format="json")
    assert done.status_code == 200 and done.json()["summary"]["created"] == 1
    assert client.post("/api/v1/p/KH/assessments/imports/", {}, format="multipart").status_code == 400


def test_only_the_programmes_manager_and_only_its_own_runs(kh, vn):
    manager = api(user_with_role(Role.PROGRAMME_MANAGER, kh))
    rows = [FACTORY_HEADER, ["KH", "", "Tonle Sap Textiles", "Siem Reap"]]
    run = manager.post("/api/v1/p/KH/factories/imports/", {"file": upload(rows)}, format="multipart").json()
    advisor = api(user_with_role(Role.ADVISOR, kh))
    assert (
        advisor.post(
            "/api/v1/p/KH/factories/imports/", {"file": upload(rows)}, format="multipart"
        ).status_code
        == 404
    )
    assert advisor.get(f"/api/v1/p/KH/factories/imports/{run['id']}/").status_code == 404
    outsider = api(user_with_role(Role.PROGRAMME_MANAGER, vn))
    assert outsider.get(f"/api/v1/p/KH/factories/imports/{run['id']}/").status_code == 404
    assert outsider.get(f"/api/v1/p/VN/factories/imports/{run['id']}/").status_code == 404
    assert (
        outsider.post(f"/api/v1/p/VN/factories/imports/{run['id']}/apply/", {}, format="json").status_code
        == 404
    )
    # A run of one kind is not reachable as another kind.
    assert manager.get(f"/api/v1/p/KH/assessments/imports/{run['id']}/").status_code == 404
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    assert "/api/v1/p/{programme_code}/factories/imports/{run_id}/apply/" in schema
