"""One settings module. Every value comes from the environment; the defaults run on a laptop with no services.

Names read here are a contract with deployers (DESIGN.md §7): DATABASE_URL, CELERY_BROKER_URL, REDIS_URL,
SECRET_KEY, DEBUG, ALLOWED_HOSTS, SITE_URL, ALLOW_PRIVATE_ENDPOINTS and Django's EMAIL_* variables.
"""

import base64
import hashlib
import hmac
import importlib.util
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


DEBUG = env_bool("DEBUG", False)
SECRET_KEY_FILE = VAR_DIR / "secret_key"  # written by `manage.py prepare_var` (make run does it), never committed


def _secret_key() -> str:
    """SECRET_KEY from the environment, else the one `prepare_var` keeps under var/. Importing settings writes
    nothing: without either, a DEBUG process gets a key of its own for its lifetime, and production is refused."""
    if value := os.environ.get("SECRET_KEY"):
        return value
    if SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text().strip()
    if DEBUG:
        return secrets.token_urlsafe(50)
    raise ImproperlyConfigured("SECRET_KEY is not set: set it in the environment, or run `python manage.py "
                               "prepare_var` once to keep a generated one under VAR_DIR.")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", SITE_URL)

# Contact points may only resolve to public addresses unless this is set (demo and tests set it).
ALLOW_PRIVATE_ENDPOINTS = env_bool("ALLOW_PRIVATE_ENDPOINTS", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_otp",  # two-factor sign-in (accounts/two_factor.py): an authenticator app, recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The desk's apps, lowest layer first (docs/architecture.md; the layers are checked by lint-imports).
    "core",
    "audit",
    "platforms",
    "accounts",
    "alerts",
    "notifications",
    "cases",
    "intake",
    "evidence",
    "referral",
    "liveness",
    "reports",
    "search",
]
# The sandbox platform, SMTP sink and demo data (`make run`, the tests); not in the production image.
if importlib.util.find_spec("devtools") is not None:
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    "core.request_log.RequestLogMiddleware",  # first: every line logged for a request carries its id and user
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/ from STATIC_ROOT, also under gunicorn with DEBUG off
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.api_errors.NotFoundAsJSONMiddleware",  # before CommonMiddleware: its slash redirect comes first
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.DeskOTPMiddleware",  # django-otp's: request.user.is_verified(), the second factor passed
    "accounts.middleware.SecondFactorMiddleware",  # until then, who must use one can only give it (or enrol)
    "core.idempotency.IdempotencyMiddleware",  # an API POST's Idempotency-Key: the stored answer replayed
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "referral.context_processors.desk_status",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# The embedded default is a file under VAR_DIR (`manage.py prepare_var` makes the folder; make run does it).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode runs web, worker and beat against one file: WAL lets readers and one writer overlap,
    # IMMEDIATE transactions take the write lock up front instead of failing half-way with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# API keys and their users are cached in Redis for this long (0: never), invalidated at once when a key or its user
# changes (accounts/key_cache.py). Without REDIS_URL nothing is cached.
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 300)

# --- Auth -----------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login lockout (django-axes; accounts/lockout.py): wrong passwords and wrong second-factor codes both count. After
# AXES_FAILURE_LIMIT for one user name from one address, that pair is locked; after AXES_USERNAME_FAILURE_LIMIT for
# one user name from any addresses (rotating them), the name is. Each lock lasts AXES_COOLOFF_TIME after the last
# failure, and failures during a lock do not extend it: a neighbour behind a shared proxy can hold a supervisor's
# name for one cool-off per burst, not for good. Django's auth has no throttling of its own; API keys are not
# passwords and are not affected.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "accounts.lockout.DeskLockoutHandler"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_USERNAME_FAILURE_LIMIT = max(AXES_FAILURE_LIMIT, env_int("AXES_USERNAME_FAILURE_LIMIT", 20))
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]  # this order: accounts/lockout.py
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]  # masked in the failures axes keeps
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHER", False):  # tests only: PBKDF2 costs ~0.5 s a login on these machines
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Two-factor sign-in (django-otp): supervisors and admins always; everyone (analysts, liaisons) when this is set.
OTP_REQUIRED_FOR_ALL = env_bool("OTP_REQUIRED_FOR_ALL", False)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Referral desk")  # the name authenticator apps show

# A session lasts a working day from sign-in (not renewed by activity), or until the browser closes if set.
SESSION_HOURS = env_float("SESSION_HOURS", 10)
SESSION_COOKIE_AGE = int(SESSION_HOURS * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
SESSION_COOKIE_HTTPONLY = True
# Sessions kept in the database, read from Redis (no query a page); without REDIS_URL a per-process cache would not do.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SITE_URL.startswith("https://"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS (docs/operations.md, "Sessions and HTTPS"): HSTS for this long (0: none; a year in production), subdomains
# included unless told; preload only when asked. SSL redirect on by default for an https SITE_URL. Behind a proxy
# that ends TLS, SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto trusts its header (the proxy must set it, always).
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a promise browsers keep for months: off unless asked, and then `check --deploy` need not say so.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SITE_URL.startswith("https://"))
if _proxy_header := env_str("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content Security Policy (django-csp 4): only our own scripts, styles and images; no inline code, no plugins,
# never framed. The Swagger UI (drf-spectacular's page boots with an inline script) is the one exception.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- I18N / static --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Filled by `collectstatic` (the Dockerfile runs it at build time, into a folder outside the var/ volume).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# DEBUG off: the collected files under content-hashed names with gzip copies (WhiteNoise serves them with
# far-future caching). That needs `collectstatic` to have run; STATIC_MANIFEST=0 keeps the files' own names
# instead. The test suite does that (tests/conftest.py): its live server finds static files in the source folders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
_static_backend = (
    "whitenoise.storage.CompressedManifestStaticFilesStorage" if STATIC_MANIFEST
    else "django.contrib.staticfiles.storage.StaticFilesStorage"
)
# static_build/ holds the front-end packages `make assets` copies out of node_modules (never committed).
STATICFILES_DIRS = [path for path in (BASE_DIR / "static", BASE_DIR / "static_build") if path.is_dir()]

# --- Files: evidence and imports -------------------------------------------------------------------------
# Stored through Django's storage API: local files under var/media by default; S3-compatible object storage
# (django-storages, `pip install .[s3]`) when EVIDENCE_S3_BUCKET is set. Never served as public media: files
# go out only through views that check the role.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}
if env_str("EVIDENCE_S3_BUCKET"):
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env_str("EVIDENCE_S3_BUCKET"), "endpoint_url": env_str("EVIDENCE_S3_ENDPOINT") or None,
        "default_acl": "private", "querystring_auth": True, "file_overwrite": False}}
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 100 * 1024 * 1024)
EVIDENCE_MAX_PIXELS = env_int("EVIDENCE_MAX_PIXELS", 50_000_000)  # decompression-bomb guard for images
EVIDENCE_ALLOWED_TYPES = env_list(
    "EVIDENCE_ALLOWED_TYPES",
    "image/png,image/jpeg,image/gif,image/webp,video/mp4,video/webm,video/quicktime,application/pdf,text/html",
)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 2_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# --- REST API -------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.DepthLimitedJSONParser"],  # JSON, nested at most 32 deep
    "DEFAULT_PAGINATION_CLASS": "core.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.ErrorResponsesAutoSchema",  # every error answer too
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ClientRateThrottle"],
    "UNAUTHENTICATED_USER": None,
}
# Limits per API key and per signed-in user (core/throttling.py; docs/operations.md, "Limits of the API"):
# "N/second|minute|hour|day" or "off"; 429 with Retry-After beyond. The liaisons' bulk status update is counted
# apart, with its own higher limit. Without Redis the counts are each process's own.
API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", "1200/minute")
API_THROTTLE_BULK_RATE = env_rate("API_THROTTLE_BULK_RATE", "2400/minute")
# A POST's answer kept under its Idempotency-Key this long (core/idempotency.py; beat: idempotency-keys-expire).
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)
# The OpenAPI schema (/api/schema/) and Swagger UI (/api/docs/) need a signed-in user or an API key, unless set.
API_SCHEMA_PUBLIC = env_bool("API_SCHEMA_PUBLIC", False)
SPECTACULAR_SETTINGS = {
    "TITLE": "Referral desk API",
    "DESCRIPTION": "Cases, items and referrals of an Internet Referral Unit; platform liaisons report outcomes.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny" if API_SCHEMA_PUBLIC
                          else "rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ItemStatusEnum": "cases.models.ItemStatus",
        "ReferralStatusEnum": "referral.models.ReferralStatus",
        "DeliveryStatusEnum": "referral.models.DeliveryStatus",
        "CaseStatusEnum": "cases.models.CaseStatus",
        "ImportStatusEnum": "intake.models.ImportStatus",
        "LiaisonStatusEnum": ["acknowledged", "cannot_execute", "declined", "needs_info", "removed", "restricted"],
        "CannotExecuteReasonEnum": "referral.actions.orders.CANNOT_EXECUTE_REASONS",
        "ScrutinyDecisionEnum": ["no_infringement", "infringement"],
        "ItemKindEnum": "cases.models.ItemKind",
        "OrderReportKindEnum": "referral.actions.order_reports.KINDS",
        "ComplaintOutcomeEnum": "referral.actions.order_reports.COMPLAINT_OUTCOMES",
    },
}

# --- Email ----------------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "referrals@iru.invalid")

# --- Celery ---------------------------------------------------------------------------------------------
# Redis is a hint, PostgreSQL is the record (DESIGN.md §5): tasks only nudge the outbox dispatcher, so a lost
# message costs at most one sweep interval. The settings below follow reference/reliability.md R3.
# The embedded broker's URL names a host, which the filesystem transport ignores: without one, kombu warns
# "No hostname was supplied" on every connection.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost//")
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"  # its folders are made by `manage.py prepare_var`
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "referral-desk")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = CELERY_VISIBILITY_TIMEOUT // 2
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10.0
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Celery's Django fix-up closes the DB connection after every task unless told to reuse it
# (celery/celery#9824): ~5x the task throughput with a persistent connection.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

DELIVERY_SWEEP_SECONDS = env_int("DELIVERY_SWEEP_SECONDS", 10)
# A process sends at most one argument-less nudge of a task (the dispatcher's) per window (core/enqueue.py).
TASK_NUDGE_WINDOW_SECONDS = env_float("TASK_NUDGE_WINDOW_SECONDS", 0.25)
if not 0 <= TASK_NUDGE_WINDOW_SECONDS <= 5:  # a nudge's countdown must stay far below the broker's visibility timeout
    raise ImproperlyConfigured(f"TASK_NUDGE_WINDOW_SECONDS={TASK_NUDGE_WINDOW_SECONDS} is not between 0 and 5.")
# Audit events are chained after they commit, by one sealer (audit/chain.py): how often it runs.
AUDIT_SEAL_SECONDS = env_float("AUDIT_SEAL_SECONDS", 2.0)
# Signed checkpoints of the chain's head (audit/checkpoints.py): the key lives here, never in the database. Unset, a
# key derived from SECRET_KEY is used and `check --deploy` warns. Earlier keys (comma-separated) still verify.
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY") or hmac.new(SECRET_KEY.encode(), b"audit-checkpoints",
                                                             hashlib.sha256).hexdigest()
AUDIT_SIGNING_KEY_FROM_ENV = bool(env_str("AUDIT_SIGNING_KEY"))
AUDIT_SIGNING_OLD_KEYS = env_list("AUDIT_SIGNING_OLD_KEYS")
AUDIT_CHECKPOINT_SECONDS = env_float("AUDIT_CHECKPOINT_SECONDS", 300.0)
# The whole beat schedule, in one place.
CELERY_BEAT_SCHEDULE = {
    # Picks up every due delivery a nudge missed (lost broker message, crashed worker, retry time reached).
    "deliveries-sweep": {"task": "referral.dispatch_due", "schedule": float(DELIVERY_SWEEP_SECONDS)},
    # Emails the urgent notifications a nudge missed (lost broker message, dead worker, retry time reached).
    "notifications-email-sweep": {"task": "notifications.send_emails", "schedule": float(DELIVERY_SWEEP_SECONDS)},
    # Tells supervisors when a referral passes its due time without an outcome (a removal order: its hour).
    "referrals-overdue": {"task": "referral.flag_overdue", "schedule": 60.0},
    # Chains the audit events committed since the last run (writers insert them unsealed, without a lock).
    "audit-seal": {"task": "audit.seal", "schedule": AUDIT_SEAL_SECONDS},
    # Signs the chain's head, in the database and in the log (audit/checkpoints.py).
    "audit-checkpoint": {"task": "audit.checkpoint", "schedule": AUDIT_CHECKPOINT_SECONDS},
    # Marks platforms with two or more final removal orders in twelve months as exposed (TCO Art 5(4)).
    "referrals-exposure": {"task": "referral.refresh_exposure", "schedule": 3600.0},
    # Recomputes the dashboard's daily counts of the days whose referrals changed since the last run.
    "reports-refresh": {"task": "reports.refresh", "schedule": 60.0},
    "liveness-sweep": {"task": "liveness.schedule", "schedule": float(DELIVERY_SWEEP_SECONDS)},  # docs/verification.md
    # Forgets the Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS (a request also ignores an expired one).
    "idempotency-keys-expire": {"task": "core.expire_idempotency_keys", "schedule": 3600.0},
    # Verifies the chain and its checkpoints every night; an alert when they do not hold.
    "audit-verify": {"task": "audit.verify", "schedule": crontab(hour=2, minute=30)},
}

# --- Delivery -------------------------------------------------------------------------------------------
# Seconds to wait before attempt 2, 3, ...; with jitter. The default spans about 27 hours.
DELIVERY_RETRY_SCHEDULE = [
    int(s) for s in env_list("DELIVERY_RETRY_SCHEDULE", "5,30,120,600,1800,3600,7200,14400,28800,43200")
]
DELIVERY_BATCH_SIZE = env_int("DELIVERY_BATCH_SIZE", 100)  # deliveries claimed at once by a dispatcher
DELIVERY_CONCURRENCY = env_int("DELIVERY_CONCURRENCY", 16)  # sends in flight in one dispatcher
# In flight to one contact point from one dispatcher: a slow platform cannot take every sending thread.
DELIVERY_PER_CONTACT_POINT_CONCURRENCY = env_int("DELIVERY_PER_CONTACT_POINT_CONCURRENCY", 4)
DELIVERY_TIMEOUT_SECONDS = env_int("DELIVERY_TIMEOUT_SECONDS", 15)  # default timeout of a new contact point
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 0)  # 0: 3 × (longest timeout claimed + 5 s) + 15 s
# Referrals approved within this many seconds of each other for one contact point travel in one message.
DELIVERY_BATCH_WINDOW_SECONDS = env_float("DELIVERY_BATCH_WINDOW_SECONDS", 0.5)
# Circuit breaker: after this many consecutive failures a contact point rests, then gets one probe.
CIRCUIT_FAILURE_THRESHOLD = env_int("CIRCUIT_FAILURE_THRESHOLD", 5)
CIRCUIT_COOLDOWN_SECONDS = env_int("CIRCUIT_COOLDOWN_SECONDS", 30)  # doubles per further failure
CIRCUIT_MAX_COOLDOWN_SECONDS = env_int("CIRCUIT_MAX_COOLDOWN_SECONDS", 1800)
WEBHOOK_SECRET_ROTATION_DAYS = env_int("WEBHOOK_SECRET_ROTATION_DAYS", 7)  # old secret still signs this long
# Outbound webhooks (and liveness checks) connect to the address the SSRF guard checked (platforms/egress.py); with
# an egress proxy here (http://host:port) deliveries go through it instead and this machine resolves nothing.
DELIVERY_PROXY = env_str("DELIVERY_PROXY", "")
# Contact points' signing secrets are encrypted in the database (core/encrypted.py) with Fernet keys from here:
# comma-separated, the first encrypts, all decrypt; `manage.py reencrypt_secrets` moves every value to the first.
# Unset, a key derived from SECRET_KEY (not in the database either) is used and `check --deploy` warns.
FIELD_ENCRYPTION_DERIVED_KEY = base64.urlsafe_b64encode(
    hmac.new(SECRET_KEY.encode(), b"field-encryption", hashlib.sha256).digest()).decode()
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY") or [FIELD_ENCRYPTION_DERIVED_KEY]
FIELD_ENCRYPTION_KEY_FROM_ENV = bool(env_list("FIELD_ENCRYPTION_KEY"))
UNIT_REFERENCE_PREFIX = env_str("UNIT_REFERENCE_PREFIX", "IRU")  # e.g. "EU IRU": shown in subjects, references
REFERRAL_SLA_HOURS = env_int("REFERRAL_SLA_HOURS", 72)  # voluntary referral: expected answer time
# The authority that issues removal orders (TCO Regulation Annex I, section E). All four are needed before a removal
# order can be approved (409 naming the missing ones otherwise); none has a default in production.
UNIT_AUTHORITY_NAME = env_str("UNIT_AUTHORITY_NAME", "")
UNIT_AUTHORITY_TYPE = env_str("UNIT_AUTHORITY_TYPE", "")  # e.g. "Law enforcement authority"
UNIT_MEMBER_STATE = env_str("UNIT_MEMBER_STATE", "").upper()  # ISO 3166-1 alpha-2, e.g. "NL"
UNIT_CONTACT_EMAIL = env_str("UNIT_CONTACT_EMAIL", "")
# Art 3(2): a platform's first removal order waits this long after the procedure information was sent to it.
ORDER_PRE_INFORMATION_HOURS = env_int("ORDER_PRE_INFORMATION_HOURS", 12)
# One order names the URLs of one platform approved together, up to this many (and one message's worth).
ORDER_MAX_URLS = env_int("ORDER_MAX_URLS", 100)

# --- Liveness: the desk checks referred URLs itself (docs/verification.md; beat: liveness-sweep; liveness/conf.py)
LIVENESS_SCHEDULE = [int(s) for s in env_list("LIVENESS_SCHEDULE", "900,3600,21600,86400,259200")]  # s after receipt
LIVENESS_PROXY, LIVENESS_CA_BUNDLE = env_str("LIVENESS_PROXY"), env_str("LIVENESS_CA_BUNDLE")  # egress; its CAs
LIVENESS_HOST_CONCURRENCY = env_int("LIVENESS_HOST_CONCURRENCY", 4)  # checks of one host in flight, all workers
LIVENESS_HOST_INTERVAL_MS = env_int("LIVENESS_HOST_INTERVAL_MS", 50)  # between two starts of checks of one host
# A new referral's message waits at most this long for the check just before sending (liveness.presend_check); content
# found offline is not sent. An unknown or late check never holds it. 0: no check before sending.
PRESEND_CHECK_SECONDS = env_float("PRESEND_CHECK_SECONDS", 3.0)

# --- Logging --------------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# json: one object per line with request_id, user and role (config/log.py), for a log shipper; plain: for a terminal.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or plain.")
LOGGING_CONFIG = "config.log.configure"  # dictConfig, and warnings as log lines
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_error_without_traceback": {"()": "config.log.ClientErrorWithoutTraceback"},
                "context": {"()": "config.log.LogContext"}, "redact": {"()": "config.log.RedactSecrets"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s%(context)s %(message)s"},
                   "json": {"()": "config.log.JsonLines"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["context", "redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Through the root's handler only: Django's own console handler (DEBUG) printed every line twice.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": {"filters": ["client_error_without_traceback"]},
        # runserver's access log, a line per request and static file (`make run` keeps only its 5xx lines).
        "django.server": {"handlers": ["console"], "level": env_str("ACCESS_LOG_LEVEL", LOG_LEVEL).upper(),
                          "propagate": False},
        **{name: {"level": "WARNING"} for name in ("django.db.backends", "mail.log", "axes", "httpx")},
    },
}
