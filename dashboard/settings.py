"""The one settings module. Everything that differs between machines comes from the environment;
with nothing set, the project runs on the embedded defaults (SQLite under var/, the local Redis,
DEBUG on). Grouped by concern; `os.environ` is read here and nowhere else in the project.
"""

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)

# Only ever used with DEBUG on: production (DEBUG off) refuses to start with it, below.
DEV_SECRET_KEY = "django-insecure-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or DEV_SECRET_KEY
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: the development key is public."
    )
if not DEBUG and len(SECRET_KEY) < 50:
    # Django's own deploy check asks for 50: a short key can be guessed, and with it every
    # session cookie and page token forged.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be at least 50 characters long when DJANGO_DEBUG is off; make "
        "one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Runtime state (SQLite database, Celery's server-less transport, beat's schedule) lives here.
VAR_DIR = Path(env_str("DASHBOARD_VAR_DIR") or BASE_DIR / "var")
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Trigram indexes for name and model search on PostgreSQL (jobs/migrations/0008_trigram.py).
    "django.contrib.postgres",
    "django_htmx",
    # Sign-in throttling: failed attempts per user and per address (see AXES_* below).
    "axes",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before everything that could refuse the request, so static files never need a login.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Our 404 page under DEBUG too (make run), not Django's technical one (jobs/middleware.py).
    "jobs.middleware.NotFoundPageMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# --- Sign-in throttling (django-axes) ---
# Every sign-in is counted; after LOGIN_FAILURE_LIMIT failures for one username, or from one
# address, further tries are refused (429, with a page saying when to try again) until the
# cool-off ends; a success resets the count. Addresses are REMOTE_ADDR (behind a proxy, the
# proxy's: set the limit with that in mind).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the session's user and its permissions cached for a few seconds.
    "jobs.page_cache.CachedModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The posted username bounded before axes stores it (jobs/accounts.py).
AXES_USERNAME_CALLABLE = "jobs.accounts.axes_username"

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jobs.context_processors.bedrock",
            ],
        },
    },
]

# A full evaluation form (200 tags, 10 custom metrics with their rating scales) posts ~900
# fields; Django's default cap of 1000 leaves too little room.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 3000

# --- Cache ----------------------------------------------------------------------------------
# Redis (a database of its own beside the broker's); `locmem://` for a per-process cache. A
# Redis that is down is a miss, not an error (dashboard/cache.py).
CACHE_URL = env_str("DASHBOARD_CACHE_URL") or "redis://127.0.0.1:6379/1"
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        if CACHE_URL.startswith("locmem://")
        else {
            "BACKEND": "dashboard.cache.ResilientRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    )
}

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL (postgres://user@host:port/name) switches to PostgreSQL; the default is SQLite.
DATABASE_URL = env_str("DATABASE_URL")
# Web, worker and beat write at once: WAL lets readers go on during a write, IMMEDIATE takes the
# write lock up front instead of failing mid-transaction, and writers wait up to 20 s.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS | DATABASES["default"].get("OPTIONS", {})
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            "TEST": {"NAME": VAR_DIR / "test-db.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# One Redis may serve several dashboards (or checkouts): keys are prefixed by the database
# they belong to, so a cached session or permission set never crosses over.
_db = DATABASES["default"]
CACHES["default"]["KEY_PREFIX"] = hashlib.sha256(
    f"{_db.get('HOST', '')}:{_db.get('PORT', '')}/{_db['NAME']}".encode()
).hexdigest()[:10]

# --- Authentication -------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Security -------------------------------------------------------------------------------
# Secure cookies need HTTPS; default on in production, off for plain-HTTP local use.
# Sessions are read from the cache and written through to the database: a page costs no
# session query, and with Redis down they come from the database (dashboard/cache.py).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only, in production: plain HTTP is redirected (with DJANGO_BEHIND_TLS_PROXY, as the
# proxy's X-Forwarded-Proto says) and browsers are told to remember it (HSTS). Both default on
# when DEBUG is off; turn them off for plain HTTP on localhost (compose.yaml does). /healthz is
# exempt so a load balancer can probe over HTTP.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

# Django's own CSP: no inline script or style runs without the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# `make run` creates a demo superuser with this password, or generates one and prints it once.
DASHBOARD_ADMIN_PASSWORD = env_str("DASHBOARD_ADMIN_PASSWORD")

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# Serve straight from static/ too, so no collectstatic is needed in development and tests.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names for far-future caching in production; plain names under DEBUG and tests.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Bedrock --------------------------------------------------------------------------------
AWS_REGION = env_str("AWS_REGION") or "us-east-1"
# Empty means real AWS (credentials from boto3's usual chain); a URL means that endpoint,
# e.g. the local Bedrock that `make run` starts.
BEDROCK_ENDPOINT_URL = env_str("BEDROCK_ENDPOINT_URL") or None
# botocore's retry modes handle throttling before our own task retries do.
BEDROCK_RETRY_MODE = env_str("BEDROCK_RETRY_MODE") or "standard"
BEDROCK_MAX_ATTEMPTS = env_int("BEDROCK_MAX_ATTEMPTS", 5)
BEDROCK_CONNECT_TIMEOUT = env_int("BEDROCK_CONNECT_TIMEOUT", 5)
BEDROCK_READ_TIMEOUT = env_int("BEDROCK_READ_TIMEOUT", 30)
if BEDROCK_RETRY_MODE not in {"legacy", "standard", "adaptive"}:
    raise ImproperlyConfigured("BEDROCK_RETRY_MODE must be legacy, standard or adaptive")
# Where evaluation outputs are read from (jobs/bedrock/s3.py): empty means real S3; `make run`
# and the tests point it at the local S3 (moto's server). Same retries and timeouts as Bedrock.
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL") or None
# STS, for the identity check of a connection and for assuming roles: empty means AWS's;
# `make run` points it at the local S3, whose moto server answers STS too.
STS_ENDPOINT_URL = env_str("STS_ENDPOINT_URL") or None
# The connections file (accounts x regions, jobs/connections/): empty means one connection,
# "default", from AWS_REGION and the endpoint settings above. Validated at start.
DASHBOARD_CONNECTIONS = env_str("DASHBOARD_CONNECTIONS") or None

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The server-less transport `make run` falls back to when no Redis answers.
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # Broadcast (pidbox) messages; kombu would otherwise write them to the working directory.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis re-delivers an unacknowledged task after this long: it must outlast any task,
    # or a slow task would run twice at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# Acknowledge after the task ran, and give the task back if its worker dies: no lost work.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Outcomes are recorded in our own tables, so Celery keeps no results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# How often beat asks a worker to record a heartbeat (tests shorten it).
HEARTBEAT_SECONDS = env_int("DASHBOARD_HEARTBEAT_SECONDS", 15)
# /healthz keeps its probe this long per process: a monitor hammering it costs at most one
# Bedrock call and one broker round trip per interval.
HEALTH_PROBE_SECONDS = env_int("HEALTH_PROBE_SECONDS", 5)

# --- Sync (the mirror; see jobs/sync.py) ---
# How often beat sweeps each kind (list everything, Get what changed): the mirror's staleness.
SYNC_INTERVAL_SECONDS = env_int("SYNC_INTERVAL_SECONDS", 30)
# How often a live page asks what changed (one request per page, whatever it shows).
LIVE_POLL_SECONDS = env_int("DASHBOARD_LIVE_POLL_SECONDS", 5)
# Get calls a second for filling missing descriptions, per kind: a first sweep of 100k jobs
# must not spend the account's GetEvaluationJob quota that the detail pages also need.
SYNC_DESCRIBE_RATE = env_int("SYNC_DESCRIBE_RATE", 5)
# How often beat starts the fill, and how long one fill task runs before yielding the worker.
SYNC_DESCRIBE_INTERVAL_SECONDS = env_int("SYNC_DESCRIBE_INTERVAL_SECONDS", 30)
SYNC_DESCRIBE_BUDGET_SECONDS = env_int("SYNC_DESCRIBE_BUDGET_SECONDS", 25)
# A fill stops early after this many Get failures in a row (Bedrock is down or refusing).
SYNC_DESCRIBE_MAX_FAILURES = env_int("SYNC_DESCRIBE_MAX_FAILURES", 5)
# Gets a sweep makes itself for new/changed rows; past this (after a long outage) the
# rate-limited fill takes the rest, so one sweep never holds its lock for hours.
SYNC_SWEEP_DESCRIBE_MAX = env_int("SYNC_SWEEP_DESCRIBE_MAX", 1000)
# A lock whose holder crashed frees itself after this; live holders renew it as they go.
SYNC_LOCK_TTL_SECONDS = env_int("SYNC_LOCK_TTL_SECONDS", 300)
# Listing attempts per sweep when throttling or 5xx outlast botocore's own retries, and the
# first backoff between them (doubling, jittered).
SYNC_LIST_ATTEMPTS = env_int("SYNC_LIST_ATTEMPTS", 3)
SYNC_RETRY_BASE_SECONDS = env_int("SYNC_RETRY_BASE_SECONDS", 2)
# SyncRun rows are kept this long (a sweep every 30 s is ~8,600 rows a day per kind).
SYNC_RUN_RETENTION_DAYS = env_int("SYNC_RUN_RETENTION_DAYS", 7)

CELERY_BEAT_SCHEDULE = {
    # Lets /healthz tell that beat schedules and a worker runs.
    "heartbeat": {"task": "jobs.tasks.heartbeat", "schedule": timedelta(seconds=HEARTBEAT_SECONDS)},
}
for _kind in ("evaluation_jobs", "import_jobs", "imported_models"):
    # `expires`: a sweep still queued when the next is due is dropped, so a stopped worker
    # does not come back to a backlog of identical sweeps.
    CELERY_BEAT_SCHEDULE[f"{_kind}_sync"] = {
        "task": f"jobs.tasks.{_kind}_sync",
        "schedule": timedelta(seconds=SYNC_INTERVAL_SECONDS),
        "options": {"expires": SYNC_INTERVAL_SECONDS},
    }
    CELERY_BEAT_SCHEDULE[f"{_kind}_describe_missing"] = {
        "task": f"jobs.tasks.{_kind}_describe_missing",
        "schedule": timedelta(seconds=SYNC_DESCRIBE_INTERVAL_SECONDS),
        "options": {"expires": SYNC_DESCRIBE_INTERVAL_SECONDS},
    }

# --- Submissions (jobs/submissions.py) ---
# A CreateEvaluationJob that met throttling, a 5xx or a timeout is retried by a task with the
# same client token, this many attempts in all, waiting base * 2^n seconds (capped) between.
SUBMISSION_MAX_ATTEMPTS = env_int("SUBMISSION_MAX_ATTEMPTS", 8)
SUBMISSION_RETRY_BASE_SECONDS = env_int("SUBMISSION_RETRY_BASE_SECONDS", 5)
SUBMISSION_RETRY_MAX_SECONDS = env_int("SUBMISSION_RETRY_MAX_SECONDS", 300)
# A retry this late (its task was lost: the broker or worker was down) is started again by the
# periodic resume task, which beat runs this often.
SUBMISSION_RESUME_GRACE_SECONDS = env_int("SUBMISSION_RESUME_GRACE_SECONDS", 120)
SUBMISSION_RESUME_INTERVAL_SECONDS = env_int("SUBMISSION_RESUME_INTERVAL_SECONDS", 60)
CELERY_BEAT_SCHEDULE["submissions_resume"] = {
    "task": "jobs.tasks.submissions_resume",
    "schedule": timedelta(seconds=SUBMISSION_RESUME_INTERVAL_SECONDS),
    "options": {"expires": SUBMISSION_RESUME_INTERVAL_SECONDS},
}

# --- Deletions (jobs/deletions/) ---
# BatchDeleteEvaluationJob calls a second, per running batch: paced under Bedrock's
# control-plane rate so a big batch spends its time deleting, not being throttled (0: no pacing).
DELETION_CALLS_PER_SECOND = env_int("DELETION_CALLS_PER_SECOND", 5)
# Throttling or a 5xx: the same call is tried this many times in the task, waiting base * 2^n
# seconds (capped, jittered) between; then the task hands the rest to a Celery retry.
DELETION_CALL_ATTEMPTS = env_int("DELETION_CALL_ATTEMPTS", 6)
DELETION_RETRY_BASE_SECONDS = env_int("DELETION_RETRY_BASE_SECONDS", 1)
DELETION_RETRY_MAX_SECONDS = env_int("DELETION_RETRY_MAX_SECONDS", 30)
# An item sent this many times without an answer from Bedrock is marked failed.
DELETION_MAX_ATTEMPTS = env_int("DELETION_MAX_ATTEMPTS", 12)
# How long a runner holds a batch and its claimed items without renewing: a heartbeat thread
# renews them every quarter of it, also during a Bedrock call, so a worker killed mid-batch
# blocks the batch for at most this long (then the resume below hands it on).
DELETION_LEASE_SECONDS = env_int("DELETION_LEASE_SECONDS", 20)
# One task works a batch this long, then queues its own continuation (frees the worker slot
# and stays well inside CELERY_TASK_SOFT_TIME_LIMIT).
DELETION_RUN_BUDGET_SECONDS = env_int("DELETION_RUN_BUDGET_SECONDS", 600)
# A batch waiting for a Celery retry (or just re-enqueued) is re-enqueued by the periodic
# resume task if untouched this long; one whose runner stopped renewing, after its lease.
DELETION_RESUME_GRACE_SECONDS = env_int("DELETION_RESUME_GRACE_SECONDS", 60)
# Lease plus this interval: a killed worker's batch carries on within 30 s of a worker.
DELETION_RESUME_INTERVAL_SECONDS = env_int("DELETION_RESUME_INTERVAL_SECONDS", 10)
CELERY_BEAT_SCHEDULE["deletion_batches_resume"] = {
    "task": "jobs.tasks.deletion_batches_resume",
    "schedule": timedelta(seconds=DELETION_RESUME_INTERVAL_SECONDS),
    "options": {"expires": DELETION_RESUME_INTERVAL_SECONDS},
}

# --- Evaluation results (jobs/results/) ---
# Per-prompt records kept per job for browsing (the aggregates always cover every line).
RESULTS_MAX_RECORDS = env_int("RESULTS_MAX_RECORDS", 25_000)
# How often beat enqueues fetches for Completed jobs without results (the sync's own trigger
# covers most; this catches jobs first seen Completed, lost tasks and a broker that was down),
# how many per run, and how long a set may stay pending before it is enqueued again.
RESULTS_PENDING_INTERVAL_SECONDS = env_int("RESULTS_PENDING_INTERVAL_SECONDS", 10)
RESULTS_PENDING_BATCH = env_int("RESULTS_PENDING_BATCH", 100)
RESULTS_PENDING_GRACE_SECONDS = env_int("RESULTS_PENDING_GRACE_SECONDS", 120)
# Transient failures (throttling, 5xx, broken reads) in a row before a set is marked failed.
RESULTS_MAX_ATTEMPTS = env_int("RESULTS_MAX_ATTEMPTS", 8)
# One fetch per job at a time; a crashed fetch stops blocking after this (live ones renew).
RESULTS_LOCK_TTL_SECONDS = env_int("RESULTS_LOCK_TTL_SECONDS", 300)
CELERY_BEAT_SCHEDULE["evaluation_results_pending"] = {
    "task": "jobs.tasks.evaluation_results_pending",
    "schedule": timedelta(seconds=RESULTS_PENDING_INTERVAL_SECONDS),
    "options": {"expires": RESULTS_PENDING_INTERVAL_SECONDS},
}

# Connection pool for boto3 sized to the worker's concurrency (plus the web process's threads).
BEDROCK_MAX_POOL_CONNECTIONS = env_int(
    "BEDROCK_MAX_POOL_CONNECTIONS", max(10, CELERY_WORKER_CONCURRENCY * 2)
)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "no_403_traceback": {"()": "jobs.permissions.DropPermissionDeniedTraceback"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL") or "INFO"},
    # botocore logs request signing details at DEBUG: keep it quiet whatever the root level.
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # Failed sign-ins and lockouts are warnings; its start-up banner is not worth a line.
        "axes": {"level": "WARNING"},
        # One line per 403 (jobs.permissions.requires), not a traceback.
        "django.request": {"filters": ["no_403_traceback"]},
    },
}
