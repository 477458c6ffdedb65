"""The Celery app. Tasks run inside the programme scope of whoever enqueued them."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betterwork.settings")

app = Celery("betterwork")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
