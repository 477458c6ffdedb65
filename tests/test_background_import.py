"""A large import is applied by a worker: the page says so and shows the result when it is done;
a run whose data changed meanwhile comes back for another look."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from betterwork import tenancy
from betterwork.models import ImportRun, Role
from betterwork.tasks import SCOPE_KWARG, apply_import
from factories.models import Factory
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db
URL = "/p/KH/factories/import/"
IMPORTER = "factories.imports.FactoryImporter"


def sheet(rows):
    out = io.StringIO()
    csv.writer(out).writerows([["Programme", "Factory id", "Name", "Address", "Female workers"], *rows])
    data = io.BytesIO(out.getvalue().encode())
    data.name = "factories.csv"
    return data


def latest_run(kh):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return ImportRun.objects.latest("pk")


@pytest.fixture
def sent(monkeypatch, settings):
    """Runs sent to a worker, as (run id, importer path); nothing reaches the broker."""
    settings.IMPORT_BACKGROUND_ROWS = 0
    calls = []
    monkeypatch.setattr(
        apply_import, "apply_async", lambda args, kwargs, task_id: calls.append((args, kwargs))
    )
    return calls


def test_a_large_factory_list_is_applied_by_a_worker(client, kh, sent, django_capture_on_commit_callbacks):
    FactoryFactory(programme=kh, name="Mekong Apparel", address="Kandal road 1")
    other = FactoryFactory(programme=kh, name="Mekong Apparel", address="Takeo road 9")
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    rows = [
        ["KH", "", "Mekong Apparel", "Svay Rieng", ""],
        ["KH", "", "Tonle Sap Textiles", "Siem Reap", "40"],
    ]
    client.post(URL, {"spreadsheet": sheet(rows)})
    run = latest_run(kh)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(URL, {"run": run.pk, "decide-2": str(other.pk)}).content.decode()
    assert "A worker is importing 2 rows" in page and 'hx-trigger="every 2s"' in page
    assert latest_run(kh).status == "applying" and latest_run(kh).decisions == {"2": str(other.pk)}
    [(args, kwargs)] = sent
    assert args == (run.pk, IMPORTER) and kwargs[SCOPE_KWARG] == [kh.pk]
    # Confirming again while the worker has it changes nothing.
    again = client.post(URL, {"run": run.pk, "decide-2": "new"}).content.decode()
    assert "already applied, or is being applied" in again and len(sent) == 1
    # The worker: the task as Celery would run it, in the scope it was sent with.
    assert apply_import(*args, **kwargs) == "applied"
    response = client.get(f"{URL}?run={run.pk}")
    done = response.content.decode()
    assert "2 rows imported." in done and "every 2s" not in done
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert Factory.objects.get(pk=other.pk).address == "Svay Rieng"
        assert Factory.objects.filter(name="Tonle Sap Textiles").exists()
    assert apply_import(*args, **kwargs) == "gone"  # a message delivered twice does nothing


def test_a_run_whose_data_changed_comes_back_for_another_look(
    client, kh, sent, django_capture_on_commit_callbacks
):
    factory = FactoryFactory(programme=kh, name="Angkor Garment", address="Street 5", workers_female=10)
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    client.post(URL, {"spreadsheet": sheet([["KH", factory.public_id, "Angkor Garment", "", "20"]])})
    run = latest_run(kh)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {"run": run.pk})
    with tenancy.scope({kh.pk}), transaction.atomic():
        Factory.objects.filter(pk=factory.pk).update(workers_female=20)
    [(args, kwargs)] = sent
    assert apply_import(*args, **kwargs) == "previewed"
    back = latest_run(kh)
    assert back.status == "previewed" and back.plan[0]["action"] == "unchanged"
    page = client.get(f"{URL}?run={run.pk}").content.decode()
    assert "The data changed since the file was checked" in page and "Import 1 row" in page


def test_the_api_answers_202_for_a_large_run(kh, sent, django_capture_on_commit_callbacks):
    manager = user_with_role(Role.PROGRAMME_MANAGER, kh)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    run = client.post(
        "/api/v1/p/KH/factories/imports/",
        {"file": sheet([["KH", "", "New Mill", "Road 1", ""]])},
        format="multipart",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(f"/api/v1/p/KH/factories/imports/{run['id']}/apply/", {}, format="json")
    assert accepted.status_code == 202 and accepted.json()["status"] == "applying"
    [(args, kwargs)] = sent
    apply_import(*args, **kwargs)
    assert client.get(f"/api/v1/p/KH/factories/imports/{run['id']}/").json()["status"] == "applied"


def test_another_programmes_run_is_not_shown(client, kh, vn):
    FactoryFactory(programme=kh, name="Mill")
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    client.post(URL, {"spreadsheet": sheet([["KH", "", "Tonle Sap Textiles", "Siem Reap", ""]])})
    run = latest_run(kh)
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))
    page = client.get(f"/p/VN/factories/import/?run={run.pk}").content.decode()
    assert "Tonle" not in page and "factories.csv" not in page
