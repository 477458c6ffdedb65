"""The platform's one notification service: an in-app inbox and e-mail, in each recipient's language.

Every app tells people things through ``notify``; messages are rendered per recipient with
their language active, written to the inbox in the caller's transaction, and e-mailed only
once that transaction commits (a rolled-back change tells nobody anything).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from betterwork.models import Notification, Programme, User


def notify(
    *,
    recipients: Iterable[User],
    programme: Programme | int,
    template: str,
    context: dict[str, Any],
    link: str = "",
    email: bool = True,
) -> list[Notification]:
    """Send ``template`` (``<template>_subject.txt`` and ``<template>.txt``) to each recipient."""
    programme_id = programme.pk if isinstance(programme, Programme) else programme
    sent: list[Notification] = []
    for user in {u.pk: u for u in recipients if u.is_active}.values():
        with translation.override(user.language):
            subject = render_to_string(f"{template}_subject.txt", {**context, "recipient": user}).strip()
            body = render_to_string(
                f"{template}.txt",
                {**context, "recipient": user, "link": settings.SITE_URL.rstrip("/") + link},
            )
        notification = Notification(
            programme_id=programme_id, recipient=user, subject=subject, body=body, link=link
        )
        notification.save()
        sent.append(notification)
        if email:
            transaction.on_commit(_mailer(subject, body, user.email))
    return sent


def _mailer(subject: str, body: str, to: str) -> Callable[[], None]:
    def send() -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])

    return send
