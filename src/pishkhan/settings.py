"""The one settings module: every knob is an environment variable, listed with its default in
`.env.example`. The defaults run the embedded demo (SQLite in ./var, debug off, console SMS)."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env(name, default=""):
    return os.environ.get(f"PISHKHAN_{name}", default)


def env_bool(name, default=False):
    value = env(name, "1" if default else "0").strip().lower()
    return value in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# "development" runs the demo on loopback; "production" refuses to start without a real secret
# and turns on every transport-security setting `manage.py check --deploy` asks for.
ENVIRONMENT = env("ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", False)

DATA_DIR = Path(env("DATA_DIR", str(Path.cwd() / "var"))).resolve()
MEDIA_ROOT = DATA_DIR / "media"
# Production serves collected files; development serves straight from the apps (WHITENOISE_USE_FINDERS).
STATIC_ROOT = DATA_DIR / "static" if PRODUCTION else None

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("PISHKHAN_SECRET_KEY must be set in production.")
    # Development only: a key that is stable across restarts of one data folder and never committed.
    SECRET_KEY = "insecure-development-key-" + str(DATA_DIR)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pishkhan.core",
    "pishkhan.accounts",
    "pishkhan.offices",
    "pishkhan.catalog",
    "pishkhan.cases",
    "pishkhan.notifications",
    "pishkhan.payments",
    "pishkhan.api",
    "pishkhan.portal",
    "pishkhan.desk",
    "pishkhan.demo",
    "pishkhan.simulator",
    "pishkhan.bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Persian unless the person chose English with the switch; Accept-Language is ignored because many
    # phones here run an English system language while their owners read Persian.
    "pishkhan.core.middleware.PersianFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pishkhan.urls"
WSGI_APPLICATION = "pishkhan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pishkhan.core.context_processors.city",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default. WAL lets readers run beside the writer; synchronous=FULL makes a
# committed case survive a power cut; IMMEDIATE transactions take the write lock up front, so two
# writers queue on busy_timeout instead of failing mid-transaction with "database is locked".
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'pishkhan.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# PostgreSQL plans every statement the ORM sends anew (client-side binding). The case engine's own
# statements (cases.store) go through a server-binding cursor and are prepared once per connection
# instead: planning cost more than running them. Only those cursors prepare; the ORM's never do.
# Turn off behind a connection pooler in transaction mode that cannot keep prepared statements
# (PgBouncer before 1.21, or with max_prepared_statements = 0).
DB_PREPARE = env_bool("DB_PREPARE", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_PREPARE:
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:citizen_signin"
LOGIN_REDIRECT_URL = "core:home"

# --- Language, time -------------------------------------------------------------------------
LANGUAGE_CODE = "fa"
LANGUAGES = [("fa", _("Persian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Tehran"  # shown to people; the database stores UTC

# Friday is the legal weekend; the law is debated and provinces close offices at a day's notice,
# so the weekend is configuration and closures are rows (core.Closure), not code.
WORKING_WEEKEND = env_list("WEEKEND", "fri")

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Files ------------------------------------------------------------------------------------
# Uploads and issued documents are stored by content (SHA-256). "filesystem" keeps them under
# PISHKHAN_DATA_DIR/media; "s3" uses any S3-compatible store through django-storages (needs boto3).
STORAGE_BACKEND = env("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL") or None,
            "access_key": env("S3_ACCESS_KEY"),
            "secret_key": env("S3_SECRET_KEY"),
            "region_name": env("S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
UPLOAD_MAX_MB = int(env("UPLOAD_MAX_MB", "20"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Background work ------------------------------------------------------------------------------
# The embedded default keeps the task queue in the database (django-tasks' DatabaseBackend): no
# extra server, and `pishkhan worker` runs it. At scale, name another django-tasks backend here,
# e.g. one on Redis (docs/operations.md).
TASKS = {"default": {"BACKEND": env("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}
if TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend":
    # Redis through RQ (pip install django-tasks-rq); its workers run `rqworker --job-class
    # django_tasks_rq.Job`, and `pishkhan worker` keeps only the periodic jobs.
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS["default"]["QUEUES"] = ["default"]
    RQ_QUEUES = {"default": {"URL": env("REDIS_URL", "redis://localhost:6379/0")}}
# A step is "due soon" this many working days before its deadline.
SOON_DUE_WORKING_DAYS = int(env("SOON_DUE_WORKING_DAYS", "1"))
# An automatic step whose task has not run after this many minutes (it failed, or a broker lost it)
# is queued again by the deadline sweep, less often after each failure; after AUTOMATIC_RETRY_HOURS
# it is left to the escalation, for a person to look at.
AUTOMATIC_RETRY_AFTER_MINUTES = int(env("AUTOMATIC_RETRY_AFTER_MINUTES", "10"))
AUTOMATIC_RETRY_HOURS = int(env("AUTOMATIC_RETRY_HOURS", "24"))
# The outbox worker gives a message up (status failed) after this many attempts; with the backoff
# (30 s doubling, at most an hour apart) eight attempts span about an hour.
OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "8"))

# --- Email ------------------------------------------------------------------------------------
# Notifications to people who gave an address. The provider is an extension point like SMS
# (notifications/email/): "django_mail" sends through Django's email backend, "file" writes JSON
# lines (tests). The backend is "console" (prints; the demo) or "smtp", or a dotted path.
EMAIL_PROVIDER = env("EMAIL_PROVIDER", "django_mail")
EMAIL_FILE_PROVIDER_PATH = Path(env("EMAIL_FILE_PROVIDER_PATH", str(DATA_DIR / "email.log")))
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
EMAIL_BACKEND = _EMAIL_BACKENDS.get(env("EMAIL_BACKEND", "console"), env("EMAIL_BACKEND", "console"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "587"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# Django's SMTP backend waits forever by default; a hung mail server must not hold the worker.
EMAIL_TIMEOUT = float(env("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@localhost")

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
# The anonymous status look-up (tracking code + national ID or mobile) is rate limited: guesses
# per tracking code and per client address, per hour.
API_STATUS_PER_CODE_PER_HOUR = int(env("API_STATUS_PER_CODE_PER_HOUR", "10"))
API_STATUS_PER_ADDRESS_PER_HOUR = int(env("API_STATUS_PER_ADDRESS_PER_HOUR", "60"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Pishkhan API",
    "DESCRIPTION": "Services, cases, queues and documents of a Pishkhan city.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two choice sets are both called `outcome`: every outcome a step may have, and the two that sign.
    "ENUM_NAME_OVERRIDES": {
        "OutcomeEnum": "pishkhan.catalog.definition.OUTCOMES",
        "SigningOutcomeEnum": "pishkhan.cases.signatures.SIGNING_OUTCOMES",
    },
}

# --- The city --------------------------------------------------------------------------------
CITY_NAME_FA = env("CITY_NAME_FA", "شهر نمونه")
CITY_NAME_EN = env("CITY_NAME_EN", "Demo City")
# The address people reach the site at: the QR code on an issued permit opens
# PUBLIC_BASE_URL/verify/<code>/, so it must be the public name, not an internal one.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# Base tiles under the staff map: a URL template with {z}, {x} and {y} (and optionally {s}), e.g.
# the city's own tile server. Empty (the default): no tiles, the districts on a plain background,
# so no page ever asks an outside server for anything unless the city says so.
MAP_TILES = env("MAP_TILES", "").strip()
if MAP_TILES and not (
    MAP_TILES.startswith(("https://", "http://", "/"))
    and all(part in MAP_TILES for part in ("{z}", "{x}", "{y}"))
):
    raise ImproperlyConfigured(
        "PISHKHAN_MAP_TILES must be an http(s) or /-relative URL template with {z}, {x} and {y}, "
        "e.g. https://tiles.example.org/{z}/{x}/{y}.png"
    )
# The credit the tile provider asks for, shown as plain text in the map's corner.
MAP_ATTRIBUTION = env("MAP_ATTRIBUTION", "").strip()

# --- The process bank ------------------------------------------------------------------------
# The folder of process definitions `pishkhan catalog load` (and the demo) reads: *.yaml, and
# district variants under variants/. Unset or empty: the bank shipped in the repository.
PROCESS_BANK_DIR = Path(env("PROCESS_BANK_DIR") or str(PACKAGE_DIR.parent.parent / "processes"))

# --- Payments --------------------------------------------------------------------------------
# The Shaparak gateway fees are paid through: sandbox (local pages, no money moves; development).
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", "sandbox")

# --- Sign-in ---------------------------------------------------------------------------------
SMS_PROVIDER = env("SMS_PROVIDER", "console")  # console | file | kavenegar
SMS_FILE_PATH = Path(env("SMS_FILE_PATH", str(DATA_DIR / "sms.log")))
SMS_SENDER = env("SMS_SENDER", "")
KAVENEGAR_API_KEY = env("KAVENEGAR_API_KEY", "")
KAVENEGAR_BASE_URL = env("KAVENEGAR_BASE_URL", "https://api.kavenegar.com/v1")
# A verify/lookup template, when the account has one.
KAVENEGAR_OTP_TEMPLATE = env("KAVENEGAR_OTP_TEMPLATE", "")
KAVENEGAR_TIMEOUT_SECONDS = float(env("KAVENEGAR_TIMEOUT_SECONDS", "10"))
SIGNIN_CODE_TTL_SECONDS = int(env("SIGNIN_CODE_TTL_SECONDS", "300"))
SIGNIN_CODE_MAX_GUESSES = int(env("SIGNIN_CODE_MAX_GUESSES", "5"))
SIGNIN_CODES_PER_MOBILE_PER_HOUR = int(env("SIGNIN_CODES_PER_MOBILE_PER_HOUR", "5"))
SIGNIN_CODES_PER_ADDRESS_PER_HOUR = int(env("SIGNIN_CODES_PER_ADDRESS_PER_HOUR", "20"))
STAFF_LOCKOUT_FAILURES = int(env("STAFF_LOCKOUT_FAILURES", "5"))
STAFF_LOCKOUT_MINUTES = int(env("STAFF_LOCKOUT_MINUTES", "15"))
TOTP_ISSUER = env("TOTP_ISSUER", "Pishkhan")
# The e-service office's share of the fees paid on the cases it filed, in percent (the rest is the
# city's); offices.selectors.office_statement rounds it down to whole Rials per payment.
OFFICE_FEE_SHARE_PERCENT = int(env("OFFICE_FEE_SHARE_PERCENT", "20"))
# Behind a reverse proxy, the client address comes from this header (e.g. HTTP_X_FORWARDED_FOR).
CLIENT_ADDRESS_HEADER = env("CLIENT_ADDRESS_HEADER", "REMOTE_ADDR")

# --- Security --------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(8 * 3600)))
# A citizen's application draft untouched this many days is deleted, with the files it kept that
# nothing else uses (portal.uploads.uploads_purge, run by `pishkhan worker`).
DRAFT_KEEP_DAYS = int(env("DRAFT_KEEP_DAYS", "90"))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # PDF rendering (cases/issuing.py) logs every step and font subset at INFO.
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
