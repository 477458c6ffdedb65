"""The whole programme's archive from the Export data page: a manager asks, a worker writes it,
the page follows it and offers the file; the download is on record; nobody else reaches any of it."""

from __future__ import annotations

import gzip
import io

import pytest
from django.db import transaction

from betterwork import tenancy
from betterwork.models import AuditEvent, Role
from betterwork.tasks import SCOPE_KWARG
from reporting.archive import ArchiveReader
from reporting.archive_services import CachedArchiveProgress
from reporting.models import ProgrammeArchive
from reporting.tasks import write_programme_archive
from tests.model_factories import FactoryFactory, user_with_role

pytestmark = pytest.mark.django_db
PAGE = "/p/KH/export/"


@pytest.fixture
def sent(monkeypatch):
    """Archives sent to a worker; nothing reaches the broker."""
    calls = []
    monkeypatch.setattr(
        write_programme_archive, "apply_async", lambda args, kwargs, task_id: calls.append((args, kwargs))
    )
    return calls


@pytest.fixture
def manager(client, kh):
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    return client


def archives(kh):
    with tenancy.scope({kh.pk}), transaction.atomic():
        return list(ProgrammeArchive.objects.order_by("pk"))


def test_a_manager_asks_a_worker_writes_and_the_page_offers_the_archive(
    manager, kh, sent, django_capture_on_commit_callbacks
):
    FactoryFactory(programme=kh, name="Angkor Garment")
    with django_capture_on_commit_callbacks(execute=True):
        page = manager.post("/p/KH/archive/", follow=True).content.decode()
    assert "A worker is writing the archive" in page and 'hx-trigger="every 3s"' in page
    # Asking again while it is under way asks for nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        manager.post("/p/KH/archive/")
    [(args, kwargs)] = sent
    [archive] = archives(kh)
    assert kwargs[SCOPE_KWARG] == [kh.pk] and args == (archive.pk,)

    # The worker, as Celery runs it.
    assert write_programme_archive(*args, **kwargs) == "ready"
    assert write_programme_archive(*args, **kwargs) == "gone"  # a message delivered twice
    page = manager.get(PAGE).content.decode()
    assert "every 3s" not in page and "Write a new archive" in page
    link = f"/p/KH/archive/{archive.pk}/download/"
    assert f'href="{link}"' in page

    response = manager.get(link)
    assert response["Content-Type"] == "application/gzip"
    assert f"programme-KH-{archive.created_at:%Y-%m-%d}.json.gz" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    reader = ArchiveReader(gzip.GzipFile(fileobj=io.BytesIO(content)))
    assert reader.header.programme == "KH"
    names = {meta["model"]: sum(1 for _row in rows) for meta, rows in reader.tables()}
    assert names["factories.factory"] == 1 and "reporting.programmearchive" not in names
    with tenancy.scope({kh.pk}), transaction.atomic():
        assert AuditEvent.objects.filter(action="archive.download", object_id=str(archive.pk)).count() == 1


def test_a_newer_archive_replaces_the_older_file(manager, kh, sent, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            manager.post("/p/KH/archive/")
        args, kwargs = sent[-1]
        write_programme_archive(*args, **kwargs)
    older, newer = archives(kh)
    assert not older.file and newer.file
    page = manager.get(PAGE).content.decode()
    assert "replaced by a newer archive" in page
    assert manager.get(f"/p/KH/archive/{older.pk}/download/").status_code == 404


def test_the_page_shows_how_far_the_worker_has_come(manager, kh, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        manager.post("/p/KH/archive/")
    [archive] = archives(kh)
    told = CachedArchiveProgress(archive.pk)
    told.start(80_000)
    told.advance(20_000)
    page = manager.get(PAGE).content.decode()
    assert "Rows written: 20,000 of 80,000" in page
    assert '<progress id="archive-progress" max="80000" value="20000">' in page
    told.clear()


@pytest.mark.parametrize("who", ["advisor", "team leader", "other programme's manager"])
def test_nobody_else_asks_for_or_downloads_an_archive(
    who, client, kh, vn, manager, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        manager.post("/p/KH/archive/")
    args, kwargs = sent[-1]
    write_programme_archive(*args, **kwargs)
    [archive] = archives(kh)
    other = {
        "advisor": lambda: user_with_role(Role.ADVISOR, kh),
        "team leader": lambda: user_with_role(Role.TEAM_LEADER, kh),
        "other programme's manager": lambda: user_with_role(Role.PROGRAMME_MANAGER, vn),
    }[who]()
    client.force_login(other)
    assert client.post("/p/KH/archive/").status_code == 404
    assert client.get(f"/p/KH/archive/{archive.pk}/download/").status_code == 404
    assert len(archives(kh)) == 1
    if who == "other programme's manager":
        # Its own programme's address with KH's archive id: not found either.
        assert client.get(f"/p/VN/archive/{archive.pk}/download/").status_code == 404
