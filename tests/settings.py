"""Settings for the test suite: production settings with test-only conveniences."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-never-used-in-production-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from betterwork.settings import *  # noqa: E402,F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# A test may give its files (and its worker's) a folder of their own.
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT") or BASE_DIR / "var" / "test-media")  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Celery messages of the test suite go to their own Redis database, away from any running worker.
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL.rsplit("/", 1)[0] + "/15"  # noqa: F405
# The test suite's cache entries stay apart from a running platform's.
CACHES["default"]["KEY_PREFIX"] = "betterwork-test"  # noqa: F405
# Production settings require two-step sign-in of staff; the tests that are about it turn it on
# (tests/test_two_factor.py), the others sign in with a password as the demo does.
TWO_FACTOR_REQUIRED = False
