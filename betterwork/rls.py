"""Row-level security for tenant tables, created by migrations in one reusable way.

Every tenant model's migration adds ``EnableRowLevelSecurity("model")``: it enables and
forces RLS on the table (forced, because the application role owns the tables) and adds the
one policy: a row is visible and writable only when its programme is in the transaction's
``app.programme_ids`` setting. An empty or missing setting means no rows, never all rows.
"""

from typing import Any

from django.db import migrations

POLICY_NAME = "programme_isolation"

CREATE_SCOPE_FUNCTION = """
CREATE OR REPLACE FUNCTION app_programme_ids() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT string_to_array(NULLIF(current_setting('app.programme_ids', true), ''), ',')::bigint[]
$$;
"""
DROP_SCOPE_FUNCTION = "DROP FUNCTION IF EXISTS app_programme_ids();"


class CreateScopeFunction(migrations.RunSQL):
    def __init__(self) -> None:
        super().__init__(CREATE_SCOPE_FUNCTION, DROP_SCOPE_FUNCTION)


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Enable, force and add the programme policy on a tenant model's table."""

    reduces_to_sql = True
    reversible = True

    def __init__(
        self,
        model_name: str,
        column: str = "programme_id",
        *,
        write_unscoped_rows: bool = False,
        append_only: bool = False,
    ) -> None:
        self.model_name = model_name
        self.column = column
        # Rows with no programme may be inserted (never read) by the application: audit events
        # of actions that belong to no programme.
        self.write_unscoped_rows = write_unscoped_rows
        # Append-only tables (the audit trail) get policies for SELECT and INSERT only: with RLS
        # forced, an UPDATE or DELETE then matches no row, whoever asks.
        self.append_only = append_only

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _table(self, app_label: str, state: Any) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = schema_editor.quote_name(self._table(app_label, to_state))
        column = schema_editor.quote_name(self.column)
        condition = f"{column} = ANY (app_programme_ids())"
        check = f"{column} IS NULL OR {condition}" if self.write_unscoped_rows else condition
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        if self.append_only:
            schema_editor.execute(f"CREATE POLICY {POLICY_NAME} ON {table} FOR SELECT USING ({condition})")
            schema_editor.execute(
                f"CREATE POLICY {POLICY_NAME}_insert ON {table} FOR INSERT WITH CHECK ({check})"
            )
        else:
            schema_editor.execute(
                f"CREATE POLICY {POLICY_NAME} ON {table} USING ({condition}) WITH CHECK ({check})"
            )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME}_insert ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rls_{self.model_name.lower()}"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"column": self.column}
        if self.write_unscoped_rows:
            kwargs["write_unscoped_rows"] = True
        if self.append_only:
            kwargs["append_only"] = True
        return (self.__class__.__qualname__, [self.model_name], kwargs)
