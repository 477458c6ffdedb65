"""The demo: the eight country programmes as they stood in 2019, and what app seeders share.

Factory counts for Vietnam (363), Jordan (94) and Haiti (34) and their workforces are the
published 2019 figures; the other programmes' counts are estimates chosen so that all eight add
up to the published global total of 1,588 factories. Women are 73.5% of workers globally.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils.functional import Promise

from betterwork.models import Programme, RoleGrant, User

DEMO_PASSWORD = "betterwork-demo"  # noqa: S105 - printed for the demo's sign-in, never used in production
DEMO_DOMAIN = "demo.betterwork.org"


@dataclass(frozen=True)
class ProgrammeFacts:
    code: str
    name: str
    country: str
    languages: tuple[str, ...]
    time_zone: str
    currency: str
    started: int
    factories_2019: int
    workers_per_factory: int
    share_women: float
    share_migrant: float
    regions: tuple[str, ...]


PROGRAMMES: tuple[ProgrammeFacts, ...] = (
    ProgrammeFacts(
        "KH",
        "Better Factories Cambodia",
        "Cambodia",
        ("km", "en"),
        "Asia/Phnom_Penh",
        "USD",
        2001,
        546,
        1300,
        0.80,
        0.0,
        ("Phnom Penh", "Kandal", "Kampong Speu", "Svay Rieng", "Kampong Chhnang"),
    ),
    ProgrammeFacts(
        "BD",
        "Better Work Bangladesh",
        "Bangladesh",
        ("bn", "en"),
        "Asia/Dhaka",
        "BDT",
        2014,
        314,
        2600,
        0.58,
        0.0,
        ("Dhaka", "Gazipur", "Narayanganj", "Chattogram", "Savar"),
    ),
    ProgrammeFacts(
        "ET",
        "Better Work Ethiopia",
        "Ethiopia",
        ("am", "en"),
        "Africa/Addis_Ababa",
        "ETB",
        2019,
        12,
        1400,
        0.85,
        0.0,
        ("Hawassa Industrial Park", "Bole Lemi", "Mekelle", "Kombolcha"),
    ),
    ProgrammeFacts(
        "HT",
        "Better Work Haiti",
        "Haiti",
        ("fr", "ht", "en"),
        "America/Port-au-Prince",
        "HTG",
        2009,
        34,
        1516,
        0.64,
        0.0,
        ("Port-au-Prince", "Caracol", "Ouanaminthe", "Carrefour"),
    ),
    ProgrammeFacts(
        "ID",
        "Better Work Indonesia",
        "Indonesia",
        ("id", "en"),
        "Asia/Jakarta",
        "IDR",
        2011,
        200,
        1900,
        0.80,
        0.0,
        ("West Java", "Central Java", "Jakarta", "Banten", "Bogor"),
    ),
    ProgrammeFacts(
        "JO",
        "Better Work Jordan",
        "Jordan",
        ("ar", "en"),
        "Asia/Amman",
        "JOD",
        2008,
        94,
        789,
        0.74,
        0.79,
        ("Al Hassan Industrial Estate", "Al Dulayl", "Sahab", "Aqaba", "Karak"),
    ),
    ProgrammeFacts(
        "NI",
        "Better Work Nicaragua",
        "Nicaragua",
        ("es", "en"),
        "America/Managua",
        "NIO",
        2011,
        25,
        1600,
        0.55,
        0.0,
        ("Managua", "Masaya", "Tipitapa", "Sébaco"),
    ),
    ProgrammeFacts(
        "VN",
        "Better Work Vietnam",
        "Vietnam",
        ("vi", "en"),
        "Asia/Ho_Chi_Minh",
        "VND",
        2009,
        363,
        1671,
        0.78,
        0.0,
        ("Binh Duong", "Dong Nai", "Ho Chi Minh City", "Hai Phong", "Nam Dinh", "Long An"),
    ),
)

# Share of the 2019 size created by default: a few hundred factories in all.
DEFAULT_SCALE = 0.19


@dataclass
class DemoContext:
    """What seed_demo hands each app's ``demo.seed``: the programmes, the scale and the logins."""

    programmes: dict[str, tuple[ProgrammeFacts, Programme]]
    scale: float
    seed: int
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    _password_hash: str = field(default_factory=lambda: make_password(DEMO_PASSWORD), repr=False)

    def rng(self, *parts: object) -> random.Random:
        return random.Random("-".join(str(p) for p in (self.seed, *parts)))

    def user(self, email: str, full_name: str, language: str = "en") -> User:
        user, created = User.objects.get_or_create(
            email=email, defaults={"full_name": full_name, "language": language}
        )
        if created:
            # One hash for all demo users: each hash costs a deliberate half second.
            user.password = self._password_hash
            user.save(update_fields=["password"])
        return user

    def grant(self, user: User, role: str, **where: Any) -> None:
        RoleGrant.objects.get_or_create(user=user, role=role, **where)

    def login(self, user: User, role_label: str | Promise, where: str) -> None:
        self.logins.append((user.email, str(role_label), where))
