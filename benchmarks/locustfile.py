"""The users of ``benchmarks.load``: each signs in once, then reads a mix of a programme's pages.

Locust runs this file (``benchmarks.load`` starts it); what to read comes from the environment:
LOAD_PROGRAMME (a code), LOAD_EMAIL and LOAD_PASSWORD (a programme manager), LOAD_FACTORIES and
LOAD_ASSESSMENTS (ids to pick pages from, comma-separated), LOAD_THINK (seconds between pages),
LOAD_SKIP (names of pages not to read, comma-separated).
"""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

CODE = os.environ.get("LOAD_PROGRAMME", "KH")
FACTORIES = [int(i) for i in os.environ.get("LOAD_FACTORIES", "").split(",") if i]
ASSESSMENTS = [int(i) for i in os.environ.get("LOAD_ASSESSMENTS", "").split(",") if i]
THINK = float(os.environ.get("LOAD_THINK", "1.0"))
SKIP = set(filter(None, os.environ.get("LOAD_SKIP", "").split(",")))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class ProgrammeStaff(HttpUser):
    # People read a page, then the next: on average THINK seconds between two pages.
    wait_time = between(THINK * 0.5, THINK * 1.5)

    def on_start(self) -> None:
        page = self.client.get("/accounts/login/", name="sign in (form)")
        token = CSRF.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": os.environ["LOAD_EMAIL"],
                "password": os.environ["LOAD_PASSWORD"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="sign in",
            catch_response=True,
        ) as response:
            # A good sign-in redirects to the home page; a refused one shows the form again.
            if "/accounts/login/" in response.url:
                response.failure("sign-in refused")

    def read(self, path: str, name: str) -> None:
        if name not in SKIP:
            self.client.get(path, name=name)

    @task(3)
    def factory_list(self) -> None:
        self.read(f"/p/{CODE}/factories/", "factory list")

    @task(3)
    def factory_page(self) -> None:
        if FACTORIES:
            self.read(f"/p/{CODE}/factories/{random.choice(FACTORIES)}/", "a factory")

    @task(3)
    def assessment_list(self) -> None:
        self.read(f"/p/{CODE}/assessments/", "assessment list")

    @task(3)
    def assessment_page(self) -> None:
        if ASSESSMENTS:
            self.read(f"/p/{CODE}/assessments/{random.choice(ASSESSMENTS)}/", "an assessment")

    @task(1)
    def dashboard(self) -> None:
        self.read(f"/p/{CODE}/dashboard/", "dashboard")

    @task(2)
    def factory_api(self) -> None:
        self.read(f"/api/v1/p/{CODE}/factories/", "factory list API")

    @task(1)
    def transparency(self) -> None:
        self.read(f"/public/{CODE}/transparency/", "public transparency list")
