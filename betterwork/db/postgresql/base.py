"""PostgreSQL backend that writes the programme scope into every transaction it opens.

Django opens a transaction by switching autocommit off (``atomic()``, ATOMIC_REQUESTS, test
cases); right then we run ``set_config('app.programme_ids', ..., true)`` so the row-level
security policies see the scope of the request or task, and nothing leaks to the next user
of a pooled connection: a transaction-local setting ends with its transaction.
"""

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)  # type: ignore[misc]
        if not autocommit:
            # Imported here: the tenancy module defines models, which need this backend loaded.
            from betterwork import tenancy

            if tenancy.current_scope():
                tenancy.apply_scope_to_transaction(self)
