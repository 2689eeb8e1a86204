"""Settings for the 計画進捗ポータル.

Everything that differs between a laptop, CI and production comes from the
environment; see README.md for the variables.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    return os.environ.get(name, str(default)).lower() in ("1", "true", "yes", "on")


DEBUG = env_bool("DJANGO_DEBUG")

# Required to serve: ohnojo_dx/wsgi.py and asgi.py refuse to start without it when DEBUG is off
# (require_secret_key). Commands such as makemigrations need none, and Django itself refuses an
# empty key wherever one would be used (sessions, signing).
SECRET_KEY = os.environ.get("SECRET_KEY") or ("insecure-development-key-only-for-debug" if DEBUG else "")


def require_secret_key():
    if not DEBUG and not os.environ.get("SECRET_KEY"):
        raise ImproperlyConfigured("SECRET_KEY を環境変数で設定してください（DJANGO_DEBUG=1 の開発時を除く）。")


ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "ohnojo_dx.apps.PortalAdminConfig",  # django.contrib.admin, admitting by role (ohnojo_dx/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",  # API tokens, issued by the DX推進部門 in the admin
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    "rules",
    "initiatives",
    "kpi",
    "budget",
    "ohnojo_dx.apps.PortalConfig",  # the top layer, above the three apps
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "initiatives.middleware.NoStoreForSignedInMiddleware",
    "initiatives.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes docs).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ohnojo_dx.urls"

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
            "builtins": ["initiatives.templatetags.plan_format", "kpi.templatetags.pdca"],
        },
    },
]

WSGI_APPLICATION = "ohnojo_dx.wsgi.application"

# SQLite for one machine: several gunicorn threads or workers write through the same file. WAL lets
# readers go on while one writes; BEGIN IMMEDIATE takes the write lock when a transaction starts, so a
# second writer waits (up to "timeout" seconds) instead of failing with "database is locked" when its
# read lock cannot be upgraded; synchronous=NORMAL is safe under WAL (a power cut may lose the last
# commits, never corrupt the file).
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_settings(url=None):
    """DATABASES["default"] from ``url`` or DATABASE_URL (SQLite in the project folder if unset)."""
    database = dj_database_url.parse(
        url or os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A pooled connection that the server dropped (restart, failover) is replaced, not used.
        conn_health_checks=True,
    )
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["OPTIONS"] = {**SQLITE_OPTIONS, **database.get("OPTIONS", {})}
    return database


DATABASES = {"default": database_settings()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # What anyone may do: the predicates of initiatives/permissions.py, nothing else.
    "rules.permissions.ObjectPermissionBackend",
    "initiatives.backends.AuthenticationOnlyBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock an account/IP pair after repeated failed logins.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"  # answered with status 429

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "ohnojo_dx.staticfiles.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    # Token first: an anonymous API request is answered 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "計画進捗ポータル API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": (
        "計画・施策・実績の読み取りと、実績の書き込み・提出・承認・差戻し・再開（画面と同じ権限と検査）。"
        "認証はログインのセッション、またはDX推進部門が管理画面で発行するトークン（Authorization: Token <キー>）。"
        "書き込みには読んだときの version を送り、他の人が先に更新していれば409で何も書きません。"
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_PATCH": False,  # a PATCH needs the version like a PUT: one request shape for both
    "ENUM_NAME_OVERRIDES": {
        "InitiativeStatusEnum": "initiatives.models.Initiative.Status",
        "MeasureYearStatusEnum": "kpi.models.MeasureYear.Status",
    },
}

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = 60 * 60 * 8  # one working day

# django-csp: everything from this server, nothing inline.
EMPTY_STYLESHEET_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
PLOTLY_MAPLIBRE_CSS_HASH = "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # plotly.js (static/vendor/plotly.min.js) adds two <style> elements as it loads. Its own rules go
        # into an empty one through CSSOM (insertRule, which CSP allows); without it the charts' layers
        # and modebar lose their layout. plotly's switch for strict CSP (a <link class="no-inline-styles">
        # to plotly.css) needs a plotly.css that the package no longer ships (plotly.js issue 7543).
        # The second holds maplibre-gl's stylesheet, fixed text in the bundle; tests/test_hardening.py
        # checks both hashes against the installed plotly.
        "style-src-elem": [SELF, EMPTY_STYLESHEET_HASH, PLOTLY_MAPLIBRE_CSS_HASH],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
AXES_VERBOSE = False

# A plan with more measures than this gets its report workbooks (.xlsx, CSV) from a background job
# (budget.exports) instead of within the request.
EXPORT_INLINE_MAX_MEASURES = int(os.environ.get("EXPORT_INLINE_MAX_MEASURES", "1000"))

# Mail (kpi.reminders): printed to the console unless an SMTP server is given in the environment.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))  # seconds: a stuck server does not hold the cron job
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "dx-portal@localhost")
# The portal's address as staff reach it, for the links in mail.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
