"""docker/nginx/betterwork.conf.template, run by Debian's nginx in front of the platform (the live
test server) and a gunicorn that is gone: pages come through from whichever answers, static files
from disk, and a download the platform authorised is sent by nginx from the media folder, which
nobody reaches directly. Everything runs on loopback ports in a temporary folder."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from assessments.models import Attachment
from betterwork import tenancy
from tests.assessments.test_lifecycle import move
from tests.seaweedfs import free_ports

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = Path(settings.BASE_DIR) / "docker" / "nginx" / "betterwork.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def placeholders(text: str) -> set[str]:
    """The ${NAME}s of a template that envsubst fills (outside its comments)."""
    settings_lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return set(re.findall(r"\$\{([A-Z_]+)\}", "\n".join(settings_lines)))


def rendered(values: dict[str, str]) -> str:
    """What envsubst makes of the template with these names (and only these: $host stays)."""
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${%s}" % name, value)  # noqa: UP031 (the template's own syntax)
    assert not placeholders(text), "every placeholder is filled"
    return text


@pytest.fixture
def proxy(live_server, tmp_path, settings):
    """nginx on a free port: a dead gunicorn first, then the live server; its own folders."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: scripts/setup.sh installs it with SETUP_DEV=1.")
    port, dead = free_ports(2)
    static_root, media_root = tmp_path / "static", tmp_path / "media"
    (static_root / "css").mkdir(parents=True)
    shutil.copy(Path(settings.BASE_DIR) / "static" / "css" / "app.css", static_root / "css" / "app.css")
    media_root.mkdir()
    settings.MEDIA_ROOT = media_root
    settings.FILE_INTERNAL_REDIRECT_PREFIX = "/_protected/"
    upstream = live_server.url.removeprefix("http://").replace("localhost", "127.0.0.1")
    server = rendered(
        {
            "BETTERWORK_UPSTREAMS": f"server 127.0.0.1:{dead} max_fails=1 fail_timeout=30s; server {upstream};",
            "BETTERWORK_LISTEN": f"127.0.0.1:{port}",
            "BETTERWORK_STATIC_ROOT": str(static_root),
            "BETTERWORK_MEDIA_ROOT": str(media_root),
        }
    )
    temp = tmp_path / "nginx"
    temp.mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {temp}/nginx.pid;\nerror_log {temp}/error.log;\nevents {{}}\n"
        + "http {\n  include /etc/nginx/mime.types;\n  access_log off;\n"
        + "".join(
            f"  {kind}_temp_path {temp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + server
        + "\n}\n"
    )
    command = [NGINX, "-e", str(temp / "error.log"), "-p", str(temp), "-c", str(conf)]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)  # noqa: S603
    assert check.returncode == 0, check.stderr
    subprocess.run([*command], check=True)  # noqa: S603 (daemonises; stopped below)
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{base}/static/css/app.css", timeout=2)  # noqa: S310
            break
        time.sleep(0.1)
    yield base
    subprocess.run([*command, "-s", "stop"], check=False)  # noqa: S603
    for _ in range(50):
        if not (temp / "nginx.pid").exists():
            break
        time.sleep(0.1)


def get(url: str, cookie: str = "") -> tuple[int, bytes, dict[str, str]]:
    # Addresses of the proxy this test started, on loopback.
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_pages_come_through_from_a_gunicorn_that_answers(proxy):
    for _ in range(4):  # a dead upstream is skipped, every time
        status, body, headers = get(f"{proxy}/accounts/login/")
        assert status == 200 and b"Sign in" in body
        assert "script-src 'self'" in headers["Content-Security-Policy"], "the platform's own answer"
        assert headers["Server"] == "nginx"


def test_static_files_are_sent_by_nginx_from_disk(proxy):
    status, body, headers = get(f"{proxy}/static/css/app.css")
    assert status == 200 and body == (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_bytes()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Security-Policy" not in headers


def test_an_authorised_download_is_sent_by_nginx_and_nothing_else_reaches_the_files(
    proxy, kh, vn, team, planned, vn_manager
):
    move(team["lead"], kh, planned, "in_progress")
    lead = Client()
    lead.force_login(team["lead"])
    with tenancy.scope({kh.pk}), transaction.atomic():
        question = planned.tool_version.questions.get(key="OSH-01").pk
    lead.post(
        f"/p/KH/assessments/{planned.pk}/attachments/",
        {
            "question": question,
            "file": SimpleUploadedFile("fire plan.pdf", b"%PDF-1.4 fire plan", "application/pdf"),
        },
    )
    with tenancy.scope({kh.pk}), transaction.atomic():
        attachment = Attachment.objects.get(assessment=planned)
    address = f"{proxy}/p/KH/assessments/{planned.pk}/attachments/{attachment.pk}/"

    status, body, headers = get(address, session_cookie(team["lead"]))
    assert status == 200 and body == b"%PDF-1.4 fire plan"
    assert headers["Content-Disposition"] == 'attachment; filename="fire_plan.pdf"'
    assert headers["Content-Type"] == "application/pdf" and "X-Accel-Redirect" not in headers

    assert get(address, session_cookie(vn_manager))[0] == 404, "another programme's manager"
    status, body, _ = get(address)
    assert status == 200 and b"Sign in" in body and b"fire plan" not in body, "signed out: the sign-in page"
    assert get(f"{proxy}/_protected/{attachment.file.name}")[0] == 404, "the files' folder is internal"
