"""The two walls between programmes, each proven with the other switched off."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, models, transaction

from betterwork import tenancy
from betterwork.models import AuditEvent, Programme, RoleGrant
from betterwork.rls import POLICY_NAME
from betterwork.tasks import scope_probe, scoped_kwargs
from buyers.models import BuyerAccess
from factories.models import Factory

pytestmark = pytest.mark.django_db

# Tables that carry a programme column yet are read before any scope exists.
EXEMPT_FROM_RLS = {
    RoleGrant: "role grants are what the scope is computed from",
    BuyerAccess: "a buyer's access (derived from subscriptions and consent) is what its scope is computed from",
}


def sql_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - table names from models
        return cursor.fetchone()[0]


def test_application_connects_as_a_role_that_rls_applies_to():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        is_superuser, bypasses_rls = cursor.fetchone()
    assert not is_superuser, "the application must not connect as a superuser: it would skip RLS"
    assert not bypasses_rls


def test_every_model_with_a_programme_column_has_forced_rls_and_the_policy():
    from django.apps import apps

    checked = []
    for model in apps.get_models():
        try:
            field = model._meta.get_field("programme")
        except Exception:  # noqa: S112 - models without the column are not tenant tables
            continue
        if not (isinstance(field, models.ForeignKey) and field.related_model is Programme):
            continue
        if model in EXEMPT_FROM_RLS:
            continue
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", [table]
            )
            enabled, forced = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM pg_policies WHERE tablename = %s AND policyname = %s",
                [table, POLICY_NAME],
            )
            policies = cursor.fetchone()[0]
        assert enabled and forced, f"{table} must have row-level security enabled and forced"
        assert policies == 1, f"{table} lacks the {POLICY_NAME} policy"
        assert issubclass(model, tenancy.TenantModel), f"{model.__name__} must derive from TenantModel"
        assert isinstance(model._default_manager, tenancy.TenantManager)
        assert isinstance(model._base_manager, tenancy.TenantManager), (
            f"{model.__name__}.Meta must inherit TenantModel.Meta so related lookups stay scoped"
        )
        checked.append(model)
    assert Factory in checked and AuditEvent in checked


def test_without_a_scope_the_manager_raises(kh_factory):
    with pytest.raises(tenancy.ScopeMissing):
        list(Factory.objects.all())
    with pytest.raises(tenancy.ScopeMissing):
        Factory.objects.get(pk=kh_factory.pk)


def test_without_a_scope_the_database_returns_no_rows(kh_factory, vn_factory):
    assert tenancy.current_scope() is None
    assert sql_count("factories_factory") == 0


def test_an_empty_scope_means_nothing_not_everything(kh_factory, vn_factory):
    with tenancy.scope([]):
        assert list(Factory.objects.all()) == []
        assert sql_count("factories_factory") == 0


def test_rls_alone_hides_other_programmes_when_the_app_filter_is_off(kh, kh_factory, vn_factory):
    with tenancy.scope({kh.pk}):
        unfiltered = Factory.objects.unscoped(reason="test: app wall off")
        assert list(unfiltered.values_list("public_id", flat=True)) == [kh_factory.public_id]
        assert sql_count("factories_factory") == 1
        assert not unfiltered.filter(pk=vn_factory.pk).exists()


def test_rls_refuses_writes_into_another_programme(kh, vn, kh_factory):
    with tenancy.scope({kh.pk}):
        with (
            pytest.raises(DatabaseError, match="row-level security"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO factories_factory (programme_id, public_id, legacy_id, name, address, region,"
                " sector, factory_type, ownership, ownership_country, manufacturing_group, workers_female,"
                " workers_male, workers_migrant, union_present, enrolment_status, status_changed_on,"
                " buyers_supplied, created_at, updated_at) VALUES (%s, 'VN999990', '', 'Intruder', '', '',"
                " 'garment', 'direct_exporter', 'domestic', '', '', 1, 1, 0, false, 'registered', now(), '',"
                " now(), now())",
                [vn.pk],
            )
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Factory.objects.unscoped(reason="test: app wall off").filter(pk=kh_factory.pk).update(
                programme=vn
            )


def test_the_app_alone_refuses_when_rls_is_off(kh, kh_factory, vn_factory):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE factories_factory DISABLE ROW LEVEL SECURITY")
    with tenancy.scope({kh.pk}):
        assert sql_count("factories_factory") == 2, "RLS really is off for this test"
        assert list(Factory.objects.values_list("pk", flat=True)) == [kh_factory.pk]
        with pytest.raises(Factory.DoesNotExist):
            Factory.objects.get(pk=vn_factory.pk)
        vn_factory.name = "Renamed from the wrong programme"
        with pytest.raises(tenancy.ScopeMissing):
            vn_factory.save()


def test_scope_is_reset_after_the_block_and_restored_when_nested(kh, vn):
    with tenancy.scope({kh.pk}):
        with tenancy.scope({vn.pk}):
            assert tenancy.current_scope() == {vn.pk}
        assert tenancy.current_scope() == {kh.pk}
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.programme_ids', true)")
            assert cursor.fetchone()[0] == str(kh.pk)
    assert tenancy.current_scope() is None


@pytest.mark.django_db(transaction=True)
def test_a_transaction_opened_inside_a_scope_carries_it_to_the_database(kh, vn, kh_factory, vn_factory):
    # Autocommit mode, as a request or task starts: the backend writes the scope as the
    # transaction opens; a transaction opened outside any scope sees nothing, and nothing
    # of the earlier scope stays on the connection.
    with tenancy.scope({vn.pk}), transaction.atomic():
        assert sql_count("factories_factory") == 1
    with transaction.atomic():
        assert sql_count("factories_factory") == 0
    assert sql_count("factories_factory") == 0


@pytest.fixture
def audit_in_both(kh, vn, kh_factory, vn_factory):
    for programme, obj in ((kh, kh_factory), (vn, vn_factory)):
        with tenancy.scope({programme.pk}):
            AuditEvent(
                programme=programme, action="test", object_type="factories.factory", object_id=str(obj.pk)
            ).save()


def test_a_celery_task_sees_only_the_scope_it_was_sent_with(kh, vn, audit_in_both):
    with tenancy.scope({kh.pk}):
        kwargs = scoped_kwargs()
    result = scope_probe.apply(kwargs=kwargs).get()
    assert result == {"scope": [kh.pk], "visible_audit_programmes": [kh.pk]}
    assert tenancy.current_scope() is None


def test_a_celery_task_sent_without_a_scope_refuses_to_run(audit_in_both):
    with pytest.raises(tenancy.ScopeMissing):
        scope_probe.apply(throw=True).get()


def test_the_audit_trail_is_append_only_in_the_database(kh, audit_in_both):
    with tenancy.scope({kh.pk}):
        events = AuditEvent.objects.unscoped(reason="test: try to rewrite history")
        assert events.count() == 1
        assert events.update(action="rewritten") == 0
        assert events.delete()[0] == 0
        assert AuditEvent.objects.get().action == "test"
