"""A read replica, for real: a streaming standby of the test server (tests/replica.py). The
dashboards, public pages and exports read from it; everything else, and every write, goes to the
primary; row-level security holds there too; and a replica behind never hides from a user what
they have just written (read-your-writes), though others may read it a moment late."""

from __future__ import annotations

import contextlib

import pytest
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from betterwork import replica as replica_reads
from betterwork import tenancy
from betterwork.models import Role
from factories.models import Factory
from tests.model_factories import FactoryFactory, user_with_role
from tests.replica import streaming_replica
from tests.seaweedfs import free_ports

REPLICA = replica_reads.REPLICA
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture(scope="module")
def standby(django_db_setup, django_db_blocker):
    """The platform with DATABASE_REPLICA_URL naming a standby of the test database (the same
    role), for this module's tests. A mirror to the test framework: it is never flushed."""
    with django_db_blocker.unblock(), streaming_replica() as made:
        default = connections["default"].settings_dict
        connections.settings[REPLICA] = {
            **default,
            "HOST": made.host,
            "PORT": made.port,
            "ATOMIC_REQUESTS": False,
            "TEST": {**default["TEST"], "MIRROR": "default"},
        }
        try:
            yield made
        finally:
            connections[REPLICA].close()
            del connections[REPLICA]
            del connections.settings[REPLICA]


@pytest.fixture
def replica(standby):
    yield standby
    standby.resume_replay()


def primary_lsn() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


def exported_names(client: Client) -> str:
    response = client.get("/p/KH/factories/export/?format=csv")
    assert response.status_code == 200
    return response.content.decode("utf-8-sig")


def manager_client(kh) -> Client:
    client = Client()
    client.force_login(user_with_role(Role.PROGRAMME_MANAGER, kh))
    return client


def test_the_standby_streams_from_the_primary(replica, kh):
    with tenancy.scope({kh.pk}), transaction.atomic():
        FactoryFactory(programme=kh, name="Mekong Knitwear")
    replica.wait_for(primary_lsn())
    with transaction.atomic(using=REPLICA), tenancy.scope({kh.pk}):
        assert Factory.objects.using(REPLICA).filter(name="Mekong Knitwear").exists()
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            assert cursor.fetchone() == (True,)


def test_marked_pages_read_the_replica_and_the_rest_the_primary(replica, kh):
    reader = manager_client(kh)
    reader.get("/")  # signing in wrote: nothing later is needed
    replica.wait_for(primary_lsn())
    replica.pause_replay()  # from now on the replica lags behind
    with tenancy.scope({kh.pk}), transaction.atomic():
        FactoryFactory(programme=kh, name="Tonle Sap Garments")
    assert "Tonle Sap Garments" in reader.get("/p/KH/factories/").content.decode(), "the list: primary"
    assert "Tonle Sap Garments" not in exported_names(reader), "the export: the replica, behind"
    replica.resume_replay()
    replica.wait_for(primary_lsn())
    assert "Tonle Sap Garments" in exported_names(reader)


def test_a_user_reads_their_own_write_while_the_replica_lags(replica, kh):
    writer, other = manager_client(kh), manager_client(kh)
    replica.wait_for(primary_lsn())
    replica.pause_replay()
    created = writer.post(
        "/p/KH/factories/new/",
        {
            "name": "Bassac Denim",
            "sector": "garment",
            "factory_type": "direct_exporter",
            "ownership": "foreign",
            "workers_female": "400",
            "workers_male": "100",
            "workers_migrant": "0",
        },
    )
    assert created.status_code == 302
    assert writer.session[replica_reads.WRITTEN_AT]
    assert "Bassac Denim" in exported_names(writer), (
        "the writer reads the primary until the replica caught up"
    )
    assert "Bassac Denim" not in exported_names(other), "another user reads the replica, a moment behind"
    replica.resume_replay()
    replica.wait_for(primary_lsn())
    assert "Bassac Denim" in exported_names(other)
    assert "Bassac Denim" in exported_names(writer)
    assert replica_reads.WRITTEN_AT not in writer.session, "caught up: no need to ask again"


def test_row_level_security_holds_on_the_replica(replica, kh, vn):
    with tenancy.scope({kh.pk}), transaction.atomic():
        FactoryFactory(programme=kh, name="Kampot Shoes")
    replica.wait_for(primary_lsn())
    vn_manager = Client()
    vn_manager.force_login(user_with_role(Role.PROGRAMME_MANAGER, vn))
    response = vn_manager.get("/p/VN/factories/export/?format=csv")
    assert response.status_code == 200 and "Kampot Shoes" not in response.content.decode("utf-8-sig")
    # The wall is the database's: with no scope, the platform's role sees no tenant row there.
    with transaction.atomic(using=REPLICA), connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM factories_factory")
        assert cursor.fetchone() == (0,)
    with transaction.atomic(using=REPLICA), tenancy.scope({kh.pk}), connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM factories_factory WHERE name = 'Kampot Shoes'")
        assert cursor.fetchone() == (1,)


def test_the_scope_is_set_on_every_database_a_request_touches(replica, kh, vn):
    def setting(alias: str) -> str:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT current_setting('app.programme_ids', true)")
            return cursor.fetchone()[0] or ""

    with contextlib.ExitStack() as stack:
        stack.enter_context(transaction.atomic())
        stack.enter_context(transaction.atomic(using=REPLICA))
        with tenancy.scope({kh.pk}):
            assert setting("default") == setting(REPLICA) == str(kh.pk)
            with tenancy.scope({vn.pk}):
                assert setting("default") == setting(REPLICA) == str(vn.pk)
            assert setting("default") == setting(REPLICA) == str(kh.pk)


def test_a_streamed_export_reads_the_replica_within_the_scope(replica, kh, final):
    replica.wait_for(primary_lsn())
    manager = manager_client(kh)
    response = manager.get("/p/KH/assessments/export/?format=csv")
    assert response.status_code == 200 and response.streaming
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) > 1 and all("KH000018" in row for row in rows[1:]), rows[:3]


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/p/KH/dashboard/", "manager"),
        ("/p/KH/dashboard/questions/", "manager"),
        ("/p/KH/factories/export/?format=csv", "manager"),
        ("/public/KH/", None),
        ("/public/KH/transparency/", None),
        ("/p/KH/factories/", "manager"),  # not marked: the primary
    ],
)
def test_which_pages_read_the_replica(replica, kh, final, path, who):
    client = manager_client(kh) if who else Client()
    replica.wait_for(primary_lsn())
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client.get(path)
    assert response.status_code == 200, path
    marked = path != "/p/KH/factories/"
    assert (len(on_replica) > 0) == marked, [q["sql"][:80] for q in on_replica]


def test_a_replica_out_of_reach_leaves_the_pages_to_the_primary(replica, kh):
    settings_dict = connections[REPLICA].settings_dict
    port = settings_dict["PORT"]
    connections[REPLICA].close()
    settings_dict["PORT"] = free_ports(1)[0]  # nothing listens there
    try:
        manager = manager_client(kh)
        with tenancy.scope({kh.pk}), transaction.atomic():
            FactoryFactory(programme=kh, name="Prey Veng Textiles")
        assert manager.get("/p/KH/dashboard/").status_code == 200
        assert "Prey Veng Textiles" in exported_names(manager)
        assert replica_reads._out_of_reach_until > 0, "and it is left alone for a while"
    finally:
        connections[REPLICA].close()
        settings_dict["PORT"] = port
        replica_reads._out_of_reach_until = 0.0


def test_an_api_client_writing_with_a_token_gets_no_session(replica, kh, team, planned):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=team["leader"])
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(f"/api/v1/p/KH/assessments/{planned.pk}/transition/", {}, format="json")
    assert response.status_code < 500
    assert "sessionid" not in response.cookies, "no session made for a token's request"
