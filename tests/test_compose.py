"""No Docker engine runs here, so the production-like stack is checked against the project by reading it."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

from tests.test_reverse_proxy import placeholders

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat")


def settings_variables() -> set[str]:
    source = (ROOT / "betterwork" / "settings.py").read_text()
    return set(
        re.findall(
            r'(?:os\.environ\.get|env_bool|env_list|os\.environ\.setdefault)\(\s*"([A-Z0-9_]+)"', source
        )
    )


def command_of(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_the_six_services_exist_with_health_checks():
    assert set(SERVICES) == {"postgres", "redis", "proxy", "web", "worker", "beat"}
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_data_lives_in_named_volumes():
    declared = set(COMPOSE["volumes"])
    used = {v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", []) if not v.startswith(".")}
    assert used <= declared and {"postgres-data", "redis-data", "media"} <= used


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_healthy_database_and_redis(service):
    depends = SERVICES[service]["depends_on"]
    assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_environment_names_are_ones_the_settings_read(service):
    env = SERVICES[service]["environment"]
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= set(env)
    unknown = set(env) - settings_variables()
    assert not unknown, f"{service} sets variables the settings never read: {sorted(unknown)}"


def test_commands_name_things_that_exist():
    web = " ".join(command_of("web"))
    module, attribute = re.search(r"([\w.]+):(\w+)", web).groups()
    assert callable(getattr(importlib.import_module(module), attribute))
    for management_command in re.findall(r"manage\.py (\w+)", web):
        assert management_command in get_commands()
    for config in re.findall(r"--config (\S+)", web):
        assert (ROOT / config).is_file()
    for service in ("worker", "beat"):
        command = command_of(service)
        assert command[:3] == ["celery", "-A", "betterwork"]
        assert importlib.import_module("betterwork").celery_app.main == "betterwork"
    assert "pdf" in command_of("worker")[command_of("worker").index("-Q") + 1].split(",")


def test_the_image_installs_fonts_weasyprint_libraries_and_the_lock_and_drops_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in (
        "fonts-noto-core",
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "gettext",
    ):
        assert package in dockerfile
    assert "requirements.lock" in dockerfile and "collectstatic" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"FROM python:3\.1[2-9]", dockerfile)


def test_the_database_role_is_subject_to_row_level_security():
    sql = (ROOT / "docker" / "initdb.sql").read_text()
    assert "NOSUPERUSER" in sql and "NOBYPASSRLS" in sql
    assert "betterwork" in SERVICES["web"]["environment"]["DATABASE_URL"].split("@")[0]


def test_nginx_fills_every_placeholder_of_its_template_and_reads_what_the_web_writes():
    proxy = SERVICES["proxy"]
    [template] = [v.split(":")[0] for v in proxy["volumes"] if v.startswith("./")]
    text = (ROOT / template).read_text()
    assert placeholders(text) == set(proxy["environment"])
    mounts = dict(v.split(":")[:2] for v in proxy["volumes"] if not v.startswith("./"))
    web = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["web"]["volumes"]}
    env = proxy["environment"]
    assert (
        mounts["static"] == env["BETTERWORK_STATIC_ROOT"]
        and web[SERVICES["web"]["environment"]["STATIC_ROOT"]] == "static"
    )
    assert (
        mounts["media"] == env["BETTERWORK_MEDIA_ROOT"]
        and web[SERVICES["web"]["environment"]["MEDIA_ROOT"]] == "media"
    )
    internal = re.search(r"location (\S+) \{\s*internal;", text).group(1)
    assert SERVICES["web"]["environment"]["FILE_INTERNAL_REDIRECT_PREFIX"] == internal
    assert "web:8000" in env["BETTERWORK_UPSTREAMS"] and "ports" not in SERVICES["web"]
