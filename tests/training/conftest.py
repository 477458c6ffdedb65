"""What the training tests share: services run as a user would call them, and a training officer."""

from __future__ import annotations

import pytest
from django.db import transaction

from betterwork import tenancy
from betterwork.models import Role
from betterwork.permissions import Principal
from tests.model_factories import user_with_role
from training import services


def run(user, where, fn, /, **kwargs):
    """A service called as this user inside the programme's scope and a transaction, like a request."""
    with tenancy.scope({where.pk}), transaction.atomic():
        return fn(actor=Principal.for_user(user), **kwargs)


def schedule(user, programme, data, dates, trainers=()):
    return run(
        user,
        programme,
        services.session_create,
        programme=programme,
        data=data,
        dates=dates,
        trainers=list(trainers),
    )


@pytest.fixture
def officer(kh):
    """An advisor holding the training permission."""
    return user_with_role(Role.ADVISOR, kh, manages_training=True)
