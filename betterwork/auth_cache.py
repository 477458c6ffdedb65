"""Who is asking, read from the cache instead of the database on every request.

Before anything else a request needs its user (from the session or an API token) and that user's
role grants: two or three lookups, which would be most of a list API's statements. They are kept in
the cache (Redis) for ``AUTH_CACHE_SECONDS``, keyed by database and id, and forgotten whenever the
user, one of their grants or their token is saved or deleted (receivers in ``BetterworkConfig``):
at once, and again when that transaction commits, so that a request which read the old rows in
between cannot keep them. A change that sends no model signal (``QuerySet.update`` on these
tables, raw SQL) must call ``forget_user`` itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import connection, transaction

from betterwork.models import RoleGrant, User
from betterwork.permissions import Grant, Principal

# Bounds how long a change that slipped past the receivers (a race with a reading request) lasts.
AUTH_CACHE_SECONDS = 60
GRANT_FIELDS = ("role", "programme_id", "factory_id", "buyer_id", "is_admin", "manages_training")


def _key(kind: str, ident: object) -> str:
    # Several databases (the demo, the scale data set, test databases) share one Redis.
    return f"auth:{connection.settings_dict['NAME']}:{kind}:{ident}"


def _token_key(token: str) -> str:
    return _key("token", hashlib.sha256(token.encode()).hexdigest())  # never the token itself


def user_by_id(user_id: Any) -> User | None:
    try:
        pk = User._meta.pk.to_python(user_id)  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - a malformed id in a session finds nobody
        return None
    key = _key("user", pk)
    user: User | None = cache.get(key)
    if user is None:
        user = User._default_manager.filter(pk=pk).first()
        if user is not None:
            cache.set(key, user, AUTH_CACHE_SECONDS)
    return user


def grants_of(user: User) -> tuple[Grant, ...]:
    key = _key("grants", user.pk)
    rows: list[tuple[Any, ...]] | None = cache.get(key)
    if rows is None:
        rows = list(RoleGrant.objects.filter(user=user).values_list(*GRANT_FIELDS))
        cache.set(key, rows, AUTH_CACHE_SECONDS)
    return tuple(Grant(*row) for row in rows)


def principal_for(user: User) -> Principal:
    """``Principal.for_user`` with the grants from the cache."""
    if not user.is_authenticated or not user.is_active:
        return Principal.anonymous()
    return Principal(user=user, grants=grants_of(user))


def token_user(token: str) -> User | None:
    """The active user of an API token, or None (an unknown token is looked up every time)."""
    from rest_framework.authtoken.models import Token

    key = _token_key(token)
    user_id = cache.get(key)
    if user_id is None:
        found = Token.objects.select_related("user").filter(key=token).first()
        if found is None:
            return None
        cache.set(key, found.user_id, AUTH_CACHE_SECONDS)
        cache.set(_key("user", found.user_id), found.user, AUTH_CACHE_SECONDS)
        user: User | None = found.user
    else:
        user = user_by_id(user_id)
    return user if user is not None and user.is_active else None


def _forget(keys: list[str]) -> None:
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def forget_user(user_id: Any) -> None:
    _forget([_key("user", user_id), _key("grants", user_id)])


def forget_grants(user_id: Any) -> None:
    _forget([_key("grants", user_id)])


def forget_token(token: str) -> None:
    _forget([_token_key(token)])


class CachedModelBackend(ModelBackend):
    """Django's model backend, finding the user of a session through the cache."""

    def get_user(self, user_id: Any) -> User | None:  # type: ignore[override]
        user = user_by_id(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
