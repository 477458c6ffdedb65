from __future__ import annotations

import pytest

from betterwork.models import Programme, Role
from tests.model_factories import FactoryFactory, ProgrammeFactory, user_with_role


@pytest.fixture
def kh(db) -> Programme:
    return ProgrammeFactory(
        code="KH", name="Better Factories Cambodia", country="Cambodia", languages=["km", "en"]
    )


@pytest.fixture
def vn(db) -> Programme:
    return ProgrammeFactory(code="VN", name="Better Work Vietnam", country="Vietnam", languages=["vi", "en"])


@pytest.fixture
def kh_factory(kh):
    return FactoryFactory(programme=kh, name="Angkor Garments", public_id="KH000018")


@pytest.fixture
def vn_factory(vn):
    return FactoryFactory(programme=vn, name="Saigon Apparel", public_id="VN000018")


@pytest.fixture
def kh_manager(kh):
    return user_with_role(Role.PROGRAMME_MANAGER, kh)


@pytest.fixture
def vn_manager(vn):
    return user_with_role(Role.PROGRAMME_MANAGER, vn)


@pytest.fixture
def kh_advisor(kh):
    return user_with_role(Role.ADVISOR, kh)
