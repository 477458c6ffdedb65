"""Settings of the load test's server (``benchmarks.load``): the production settings, DEBUG off,
served over plain HTTP on 127.0.0.1, with static files found where they lie (no collected
manifest to build first) and a cache prefix of its own."""

import os

os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from betterwork.settings import *  # noqa: E402,F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
# Programmes are cached by code: a throwaway database's "BM" must not meet another's.
CACHES["default"]["KEY_PREFIX"] = "betterwork-load-" + DATABASES["default"]["NAME"]  # noqa: F405
