"""One settings module for every environment, read from environment variables.

With nothing set the app runs on its embedded default: a SQLite file in the
project folder and Celery tasks executed in-process, so `make demo` needs no
server. Set DATABASE_URL and REDIS_URL to run on PostgreSQL with real workers.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from quest.env import EnvError, envbool, envfloat, envint, envlist, envrate, envstr, envurl
from quest.outbound import parse_host_entries

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and envbool("REQUIRE_SECRET_KEY", False):
        raise EnvError("SECRET_KEY must be set in production")
    # Only good for a laptop: anything deployed sets SECRET_KEY. The prefix
    # makes `check --deploy` refuse it (security.W009).
    SECRET_KEY = "django-insecure-dev-key-set-SECRET_KEY-in-production-" + "x" * 20
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")
# The public quest the home page offers to look around in (`manage.py load_demo`
# loads it); the link is left out while no such public quest exists.
DEMO_QUEST_SLUG = envstr("DEMO_QUEST_SLUG", "red-alert-1953")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "quest",
    "chapters",
    "votes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "quest.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # An unchanged tally poll is answered here, before the session is loaded (votes/poll.py).
    "votes.poll.TallyPollMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "quest.middleware.FormEncodingMiddleware",
    "quest.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "quest.middleware.TimezoneMiddleware",
    "quest.middleware.PrivateQuestCacheMiddleware",
]

ROOT_URLCONF = "quest.urls"
WSGI_APPLICATION = "quest.wsgi.application"
ASGI_APPLICATION = "quest.asgi.application"

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
            ],
            "builtins": ["django_htmx.templatetags.django_htmx"],
        },
    },
]

DATABASE_URL = envurl("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    # Connections are kept for a minute; the health check replaces one that a
    # database restart broke, so the app recovers with no restart of its own.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and envbool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Posts are read by a pure function with bounded time; these bound what a
# request may carry so nothing oversized reaches it.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
POST_MAX_CHARS = envint("POST_MAX_CHARS", 100_000)
# Chapters run longer than replies; the cap stops a whole file pasted by mistake.
CHAPTER_MAX_CHARS = envint("CHAPTER_MAX_CHARS", 200_000)
# A file given to a thread import (one JSON thread, one pasted or saved page).
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", 25_000_000)

# Hosts the app may send requests to (fetching a forum thread by URL), each a
# name or IP address, with :port for other than 80/443. Private, loopback and
# reserved addresses are refused unless listed too (quest/outbound.py).
FORUM_HOSTS = envlist("FORUM_HOSTS", [])
try:
    parse_host_entries(FORUM_HOSTS)
except ValueError as e:
    raise EnvError(f"FORUM_HOSTS: {e}") from None

# Following a forum thread live (votes/importers/follow.py, fetch.py). Every
# request names the app and where to reach whoever runs it; one request at a
# time goes to a forum, this many seconds apart; errors and 429s are retried
# with a doubling wait, or the wait the forum asks for (Retry-After) up to
# FORUM_FETCH_MAX_WAIT_SECONDS, past which the refresh stops and tries later.
FORUM_USER_AGENT = envstr(
    "FORUM_USER_AGENT", f"QuestTally/1.0 (follows quest threads for their tally; +{SITE_URL})"
)
FORUM_FETCH_PAUSE_SECONDS = envfloat("FORUM_FETCH_PAUSE_SECONDS", 2.0)
FORUM_FETCH_TIMEOUT_SECONDS = envfloat("FORUM_FETCH_TIMEOUT_SECONDS", 20.0)
FORUM_FETCH_RETRIES = envint("FORUM_FETCH_RETRIES", 3)
FORUM_FETCH_BACKOFF_SECONDS = envfloat("FORUM_FETCH_BACKOFF_SECONDS", 5.0)
FORUM_FETCH_MAX_WAIT_SECONDS = envfloat("FORUM_FETCH_MAX_WAIT_SECONDS", 120.0)
# Fetched pages (and what was read from them) are kept here, so a refresh asks
# only for pages that changed and a restarted one does not fetch them again.
FORUM_CACHE_DIR = envstr("FORUM_CACHE_DIR", str(BASE_DIR / "var" / "forum-cache"))
# A refresh re-fetches this many last pages (edits and deletions show there),
# then any page after them; a quest master refreshes every N minutes, N at least
# FOLLOW_MIN_REFRESH_MINUTES; one refresh stops after FOLLOW_REFRESH_BUDGET_SECONDS
# of fetching and goes on in a new task (a long thread is read in several).
FOLLOW_RECENT_PAGES = envint("FOLLOW_RECENT_PAGES", 2)
FOLLOW_REFRESH_MINUTES = envint("FOLLOW_REFRESH_MINUTES", 10)
FOLLOW_MIN_REFRESH_MINUTES = envint("FOLLOW_MIN_REFRESH_MINUTES", 2)
FOLLOW_REFRESH_BUDGET_SECONDS = envint("FOLLOW_REFRESH_BUDGET_SECONDS", 240)

# --- Security: on by default outside DEBUG, so `check --deploy` passes. ----
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (Django's CSP middleware). Scripts
# and styles come only from our static files: no inline <script>, <style> or
# style="" anywhere, so an injected tag or attribute does nothing. Images may
# also come from any https host because posts embed them with [IMG] (quest
# threads are full of them). Violations are posted to `csp-report`, which logs.
CSP_REPORT_URL = "/csp-report/"  # reverse("csp-report"); settings load before the URLconf
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "https:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "report-uri": [CSP_REPORT_URL],
}
# Browser features the app never uses, switched off for it and for anything
# embedded in it (quest.middleware.PermissionsPolicyMiddleware sends these).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --- Celery -----------------------------------------------------------------
REDIS_URL = envurl("REDIS_URL", ("redis", "rediss"))
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Without a broker, tasks run in the caller: the embedded default needs no worker.
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Only chords keep results (an import's chunks of reading, votes/import_reading.py):
# the chord counts its finished tasks there before it calls back.
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Longer than any task may run, so a message is never redelivered mid-task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
# A post is committed before its task is sent: with the broker down, give up
# quickly (the sweeper re-sends) rather than keep the player waiting.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
SWEEP_SECONDS = envint("SWEEP_SECONDS", 30)
# A recount queued this long ago and not yet done is presumed lost and re-queued.
RECOUNT_STALL_SECONDS = envint("RECOUNT_STALL_SECONDS", 60)
# In a burst of posts a vote's next recount starts RECOUNT_PACE times the last
# one's duration after it started, and at most RECOUNT_MIN_INTERVAL_SECONDS after
# (votes/services.py, `_recount_pause`): each folds every voter, so one per
# ballot would keep the worker behind, while a fixed pause made every ballot of
# a quick vote wait it out. Idle votes and closes recount at once. 0: every
# request that finds none queued sends one at once.
RECOUNT_MIN_INTERVAL_SECONDS = envfloat("RECOUNT_MIN_INTERVAL_SECONDS", 0.75)
RECOUNT_PACE = envfloat("RECOUNT_PACE", 3.0)
# A player shown the live tally less than this long ago keeps it through recounts
# (votes/poll.py): at most one full poll answer per player per this many seconds
# while ballots stream in. 0: every recount shows at the next poll.
TALLY_POLL_SETTLE_SECONDS = envint("TALLY_POLL_SETTLE_SECONDS", 0)
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "votes.sweep", "schedule": timedelta(seconds=SWEEP_SECONDS)},
    "close-due-votes": {"task": "chapters.close_due_votes", "schedule": timedelta(seconds=15)},
    # Sends a refresh for each followed forum thread whose interval has passed.
    "refresh-followed-threads": {
        "task": "votes.followed_threads_refresh_due",
        "schedule": timedelta(minutes=1),
    },
    # Sends again an import page's import whose message was lost or whose worker died.
    "sweep-imports": {"task": "votes.import_sweep", "schedule": timedelta(minutes=5)},
}

# --- Cache and rate limits ----------------------------------------------------
# The cache holds the rate-limit counters (quest/ratelimit.py). On Redis every
# process and host counts together; short timeouts, because with Redis down
# the limits are skipped (and logged) rather than keeping a request waiting.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "quest.cache.RedisCache",  # Django's, its client shared
            "LOCATION": REDIS_URL,
            # The tests give each test its own, and their Celery workers the same one.
            "KEY_PREFIX": envstr("CACHE_KEY_PREFIX", "quest"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # Sessions read from Redis instead of a query on every signed-in request,
    # written to the database too (quest/sessions.py: Redis down, the database).
    SESSION_ENGINE = "quest.sessions"
else:
    # Not on the local memory cache: each process would keep its own copy, and a
    # log-out in one would leave the session alive in the others.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# At most N requests of a kind in S seconds ("N/S"), per signed-in user, or per
# client address for visitors. Far above a normal pace: a post a minute, a
# reading preview at each pause in typing (htmx waits for 500 ms of quiet, so
# at most two a second), a ballot changed now and then, a password mistyped.
RATE_LIMITS = {
    # Log-ins count only failures: per username (any case), and per address.
    "login_account": envrate("RATE_LIMIT_LOGIN_ACCOUNT", "10/900"),
    "login_address": envrate("RATE_LIMIT_LOGIN_ADDRESS", "30/900"),
    "signup": envrate("RATE_LIMIT_SIGNUP", "10/3600"),
    "password_reset": envrate("RATE_LIMIT_PASSWORD_RESET", "10/3600"),
    "post": envrate("RATE_LIMIT_POST", "10/60"),  # replies and edits
    "ballot": envrate("RATE_LIMIT_BALLOT", "10/60"),
    "preview": envrate("RATE_LIMIT_PREVIEW", "180/60"),  # BBCode and "how this will be read"
    # New quests and chapters, per user: a quest master writes a few a day.
    "create": envrate("RATE_LIMIT_CREATE", "30/3600"),
    # Violation reports, per address: anyone may post them, and each is logged.
    "csp_report": envrate("RATE_LIMIT_CSP_REPORT", "20/600"),
}
# Behind a reverse proxy every request comes from the proxy: name the header it
# sets to the client's address (as in request.META, e.g. HTTP_X_REAL_IP). Only
# a header the proxy overwrites can be trusted; empty means REMOTE_ADDR.
CLIENT_ADDRESS_HEADER = envstr("CLIENT_ADDRESS_HEADER", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}
