"""factory_boy builders for test data. Tenant rows are written inside their programme's scope."""

from __future__ import annotations

from typing import Any

import factory
from django.db import transaction
from factory.django import DjangoModelFactory

from betterwork import tenancy
from betterwork.models import Programme, Role, RoleGrant, User
from buyers.models import Buyer
from factories.models import Factory


class ProgrammeFactory(DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n}")
    name = factory.LazyAttribute(lambda o: f"Programme {o.code}")
    country = factory.LazyAttribute(lambda o: f"Country {o.code}")
    languages = factory.LazyFunction(lambda: ["en"])


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def saved(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            obj.save()


class BuyerFactory(DjangoModelFactory):
    class Meta:
        model = Buyer

    name = factory.Sequence(lambda n: f"Brand {n}")


class TenantFactory(DjangoModelFactory):
    """Writes the row inside its own programme's scope, as a service would."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        programme = kwargs["programme"]
        with tenancy.scope({programme.pk}), transaction.atomic():
            obj = model_class(*args, **kwargs)
            obj.save()
            return obj


class FactoryFactory(TenantFactory):
    class Meta:
        model = Factory

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Garment Factory {n}")
    public_id = factory.Sequence(lambda n: f"TST{n:06d}")
    region = "Zone A"
    workers_female = 700
    workers_male = 300


def grant(user: User, role: str, programme: Programme | None = None, **extra: Any) -> RoleGrant:
    return RoleGrant.objects.create(user=user, role=role, programme=programme, **extra)


def user_with_role(role: str, programme: Programme | None = None, **extra: Any) -> User:
    user = UserFactory()
    if role == Role.FACTORY and "factory" in extra and programme is None:
        programme = extra["factory"].programme
    grant(user, role, programme, **extra)
    return user
