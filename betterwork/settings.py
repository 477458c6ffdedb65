"""Settings for the Betterwork platform, read from environment variables.

Development defaults apply when DEBUG is on; with DEBUG off the settings are
production-safe (`manage.py check --deploy` is clean) and SECRET_KEY is required.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django.conf.locale
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-not-for-production-use-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "betterwork",
    "factories",
    "assessments",
    "training",
    "advisory",
    "buyers",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "betterwork.middleware.RequestSizeMiddleware",  # before anything reads the body
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "betterwork.replica.ReadYourWritesMiddleware",  # after a write, the writer reads the primary
    "django_otp.middleware.OTPMiddleware",
    "betterwork.middleware.TwoFactorMiddleware",
    "betterwork.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "betterwork.middleware.RefusalAuditMiddleware",  # sees the scope's "no such programme" too
    "betterwork.middleware.ScopeMiddleware",
    "betterwork.middleware.DatabaseUnavailableMiddleware",  # a dropped connection: 503, try again
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out sign-in
]

ROOT_URLCONF = "betterwork.urls"
WSGI_APPLICATION = "betterwork.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "betterwork.context_processors.navigation",
            ],
        },
    },
]

# Database: DATABASE_URL, else the libpq variables (PGHOST, PGUSER, ...), else local defaults.
# The web and worker processes must connect as a role that is neither superuser nor BYPASSRLS.
_default_db = "postgres://{user}@{host}:{port}/{name}".format(
    user=os.environ.get("PGUSER", "betterwork"),
    host=os.environ.get("PGHOST", "127.0.0.1"),
    port=os.environ.get("PGPORT", "5432"),
    name=os.environ.get("PGDATABASE", "betterwork"),
)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Our backend puts the request's programme scope into every transaction it opens.
DATABASES["default"]["ENGINE"] = "betterwork.db.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("TEST_DATABASE_NAME") or None
# A streaming replica of the primary for the dashboards, the public pages and the exports
# (betterwork.replica); the same role, so row-level security holds there too.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["ENGINE"] = "betterwork.db.postgresql"
    # A replica out of reach must not hold a page: the primary answers instead (betterwork.replica).
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["betterwork.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "betterwork.User"
# The model backend, finding a session's user through the cache (betterwork.auth_cache).
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "betterwork.auth_cache.CachedModelBackend",
]
# Five failed sign-ins from one address for one account lock that pair out for 30 minutes
# (by pair, so nobody can lock another person out from elsewhere); a success starts the count anew.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "betterwork.views.locked_out"
# Two-step sign-in (a TOTP code from an authenticator app): staff of the programmes and the
# global team must use it where this is on (production's default); anyone may set it up, and
# whoever did is always asked for a code. The demo offers it without requiring it.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", not DEBUG)
OTP_TOTP_ISSUER = "Betterwork"
AXES_VERBOSE = False
AXES_USERNAME_FORM_FIELD = "username"
# The client's address: the connection's, unless TRUSTED_PROXIES (the number of reverse proxies
# in front, each adding to X-Forwarded-For) says whose word to take; trusting the header
# without a proxy would let anyone name a new address with each guess.
TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXIES or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXIES else ["REMOTE_ADDR"]
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The interface's languages: every catalogue in locale/ is complete (tests/test_translations.py).
LANGUAGES = [
    ("en", _("English")),
    ("km", _("Khmer")),
    ("vi", _("Vietnamese")),
    ("ar", _("Arabic")),
    ("bn", _("Bengali")),
    ("am", _("Amharic")),
    ("id", _("Indonesian")),
    ("fr", _("French")),
    ("es", _("Spanish")),
]
# Django knows every one of them but Amharic: its name for the language switcher, and its date
# and number formats (betterwork/formats/am; the other folders there group thousands where
# Django does not). Khmer is named in Khmer in the switcher, as the others are in their own.
django.conf.locale.LANG_INFO.setdefault(
    "am", {"bidi": False, "code": "am", "name": "Amharic", "name_local": "አማርኛ"}
)
django.conf.locale.LANG_INFO["km"] = {**django.conf.locale.LANG_INFO["km"], "name_local": "ភាសាខ្មែរ"}
FORMAT_MODULE_PATH = ["betterwork.formats"]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_django"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
STORAGES = {
    # Report files and attachments: local media by default, any django-storages backend
    # (S3-compatible object storage) by naming it in FILE_STORAGE_BACKEND.
    "default": {
        "BACKEND": os.environ.get("FILE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
    },
    # With storages.backends.s3.S3Storage, the bucket and credentials come from AWS_* below.
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# E-mail: console in development and the demo, SMTP from the environment in production.
_mail_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": (
            {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
            }
            if _mail_backend.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
# Where people reach the platform: links in e-mails sent outside a request start with it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Betterwork <no-reply@localhost>")

# Sessions and cookies.
# Sessions are read from Redis (written through to the database): no SQL to find who is asking.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: no inline scripts or styles anywhere, assets only from this site.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Redis and Celery.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TIMEZONE = "UTC"
# PDF rendering gets its own queue so long renders never hold up short tasks.
CELERY_TASK_ROUTES = {"reporting.render_report": {"queue": "pdf"}}
# A PDF worker process is replaced after this many reports: WeasyPrint's memory grows with use.
CELERY_WORKER_MAX_TASKS_PER_CHILD = int(os.environ.get("CELERY_WORKER_MAX_TASKS_PER_CHILD", "50"))
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Report jobs whose worker died or whose message was lost are sent again.
    "sweep-stuck-reports": {"task": "reporting.sweep_stuck_reports", "schedule": 60.0},
    # Draft reports whose factory review window closed (and whose comments are answered) become final.
    "finalise-closed-reviews": {"task": "assessments.finalise_closed_reviews", "schedule": 3600.0},
    # The public transparency lists are computed before visitors ask (a new day changes them).
    "keep-transparency-lists": {"task": "reporting.keep_transparency_lists", "schedule": 600.0},
    # Personal data past its kept period leaves: interview notes, names of committee members and
    # candidates who left long ago, participants' names of long-past training sessions.
    "purge-personal-data": {"task": "reporting.purge_personal_data", "schedule": 86400.0},
    # Buyers' subscriptions whose period ended expire, and their access to those factories stops.
    "expire-buyer-subscriptions": {"task": "buyers.expire_subscriptions", "schedule": 86400.0},
    # Uploads checked but never confirmed leave the storage.
    "expire-unconfirmed-imports": {"task": "betterwork.expire_unconfirmed_imports", "schedule": 86400.0},
}
# The clusters a factory's self-diagnosis asks (None: the core labour standards and OSH).
SELF_DIAGNOSIS_CLUSTERS: list[str] | None = None
# Apps that grant scope beyond role grants: a buyer reads the programmes of its live, consented
# subscriptions (betterwork.middleware asks these; betterwork imports no app).
SCOPE_PROVIDERS = ["buyers.access.scope_for"]
# The report jobs of given reports, for the buyer pages (reporting sits above buyers).
REPORT_JOBS_SELECTOR = "reporting.selectors.report_jobs"
# A spreadsheet import of more rows than this is applied by a worker while the page waits.
IMPORT_BACKGROUND_ROWS = int(os.environ.get("IMPORT_BACKGROUND_ROWS", "20000"))
# A checked upload waits this long for its confirmation, then is rejected and its file removed.
IMPORT_FILES_KEPT_DAYS = int(os.environ.get("IMPORT_FILES_KEPT_DAYS", "7"))
# Progress reports fall due this many days after the assessment report became final.
PROGRESS_REPORT_1_DAYS = 30
PROGRESS_REPORT_2_DAYS = int(os.environ.get("PROGRESS_REPORT_2_DAYS", "180"))
# Training participants' names are erased this long after their session ended; figures stay.
TRAINING_NAMES_KEPT_DAYS = int(os.environ.get("TRAINING_NAMES_KEPT_DAYS", str(3 * 365)))
# Interview notes are removed this long after their report became final (a cancelled assessment:
# after its visit); notes of an assessment whose zero-tolerance case is still open stay. Three
# years: the findings stand on their own once final, and this covers the next cycles' follow-up
# of persisting issues and the usual time limits of labour claims (docs/personal-data.md).
INTERVIEW_NOTES_KEPT_DAYS = int(os.environ.get("INTERVIEW_NOTES_KEPT_DAYS", str(3 * 365)))
# Committee members' names are erased this long after their term ended, candidates' names this
# long after their election once no member elected in it still serves; side, sex, role stay.
COMMITTEE_NAMES_KEPT_DAYS = int(os.environ.get("COMMITTEE_NAMES_KEPT_DAYS", str(3 * 365)))
# A report queued or rendering for longer than this is taken as stalled (a render takes seconds).
REPORT_STUCK_AFTER_SECONDS = int(os.environ.get("REPORT_STUCK_AFTER_SECONDS", "120"))
# A request body larger than this is refused before it is read (413): above every upload's own
# limit (evidence 10 MB, spreadsheets 5 MB, assessment history 20 MB), far below a disk's worth.
UPLOAD_MAX_REQUEST_BYTES = int(os.environ.get("UPLOAD_MAX_REQUEST_MB", "25")) * 1024 * 1024

# S3-compatible object storage for reports and attachments (used when FILE_STORAGE_BACKEND names
# it, storages.backends.s3.S3Storage): AWS S3, SeaweedFS, MinIO, Ceph... Objects stay private;
# a download is authorised by the platform, then served from a presigned URL (betterwork.files).
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
AWS_S3_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID") or None
AWS_S3_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY") or None
# "path" for servers without a domain per bucket (SeaweedFS, MinIO); "virtual" for AWS.
AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or None
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None  # no public-read: the bucket's private default holds
AWS_QUERYSTRING_AUTH = True
AWS_S3_FILE_OVERWRITE = False  # two reports never share a name; a clash gets a suffix, not the other's bytes
# How long a download's presigned URL works: enough to start the download, too short to pass around.
FILE_URL_SECONDS = int(os.environ.get("FILE_URL_SECONDS", "60"))
AWS_QUERYSTRING_EXPIRE = FILE_URL_SECONDS
# Local files behind nginx: downloads authorised here are sent by nginx from this internal
# location (X-Accel-Redirect), e.g. "/_protected/" (docker/nginx.conf); empty, the app sends them.
FILE_INTERNAL_REDIRECT_PREFIX = os.environ.get("FILE_INTERNAL_REDIRECT_PREFIX", "")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "betterwork",
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "betterwork.api_auth.ScopeTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "betterwork.api_schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "betterwork.api.exception_handler",
    # Only views that name a throttle scope are throttled (the buyers' API: "buyer").
    "DEFAULT_THROTTLE_RATES": {"buyer": os.environ.get("API_BUYER_RATE", "600/hour")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Betterwork API",
    "DESCRIPTION": "Factory labour-compliance management for country programmes.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "DEFAULT_GENERATOR_CLASS": "betterwork.api.ScopeFreeSchemaGenerator",
    "ENUM_NAME_OVERRIDES": {
        "AssessmentStatusEnum": "assessments.models.AssessmentStatus",
        "ToolStatusEnum": "assessments.models.ToolStatus",
        "EnrolmentStatusEnum": "factories.models.EnrolmentStatus",
        "ParticipantRoleEnum": "training.models.ParticipantRole",
        "SessionModeEnum": "training.models.SessionMode",
        "PlanItemStatusEnum": "advisory.models.ItemStatus",
        "VisitModeEnum": "advisory.models.VisitMode",
        "DiagnosisStatusEnum": "advisory.models.DiagnosisStatus",
        "SynthesisKindEnum": "reporting.models.SynthesisKind",
        "SynthesisScopeEnum": "reporting.models.SynthesisScope",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint narrates every render step at INFO; its warnings and errors still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
