"""Figures behind the demo data: the eight country programmes as they stood in 2019.

Factory counts for Vietnam (363), Jordan (94) and Haiti (34) and their workforces are the
published 2019 figures; the other programmes' counts are estimates chosen so that all eight add
up to the published global total of 1,588 factories. Women are 73.5% of workers globally.
"""

from dataclasses import dataclass


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

NAME_PARTS = (
    (
        "Golden",
        "Silver",
        "Lotus",
        "Pacific",
        "Sunrise",
        "Evergreen",
        "Harbour",
        "Royal",
        "Star",
        "Jade",
        "Crystal",
        "Horizon",
        "Unity",
        "Prosper",
        "Orchid",
        "Delta",
        "Summit",
        "Bright",
        "Oasis",
        "Phoenix",
    ),
    (
        "Garment",
        "Apparel",
        "Textile",
        "Fashion",
        "Knitwear",
        "Footwear",
        "Sportswear",
        "Denim",
        "Bags",
        "Clothing",
    ),
    ("Co., Ltd.", "Manufacturing", "Industries", "Factory", "Enterprise", "International", "Group"),
)

GROUPS = ("Pacific Textile Holdings", "Evergreen Group", "Lotus Apparel Group", "Summit Garments", "")

BUYERS = (
    "Northwind Apparel",
    "Blue Harbour Outfitters",
    "Meridian Sports",
    "Fjord & Pine",
    "Atlas Denim Co.",
)
