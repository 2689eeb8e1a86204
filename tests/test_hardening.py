"""Web-layer hardening: CSP, lockout page, no-store, /healthz, error pages that show nothing internal."""

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import plotly
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.test import Client
from django.urls import include, path, reverse

from conftest import PASSWORD, database_down
from initiatives.models import Measure

TEMPLATES_DIR = Path(django_settings.BASE_DIR) / "templates"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
INTERNAL = "/srv/ohnojo/secret-internal-detail"


# Test-only views, reached through this module as ROOT_URLCONF (@pytest.mark.urls).
@login_not_required
def raise_error(request):
    raise RuntimeError(INTERNAL)


@login_not_required
def raise_not_found(request):
    raise Http404(INTERNAL)


@login_not_required
def raise_bad_request(request):
    raise SuspiciousOperation(INTERNAL)


urlpatterns = [
    path("test-only/error/", raise_error),
    path("test-only/not-found/", raise_not_found),
    path("test-only/bad-request/", raise_bad_request),
    path("", include("ohnojo_dx.urls")),
]
with_test_views = pytest.mark.urls(__name__)


def csp_directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def sha256_source(text):
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: style and on* attributes, inline <style>/<script>."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.found += [f"<{tag} {name}=…>" for name in attrs if name == "style" or name.startswith("on")]
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append(f"<script> without src: {attrs}")

    @classmethod
    def in_html(cls, html):
        parser = cls()
        parser.feed(html)
        return parser.found


# --- Content-Security-Policy -------------------------------------------------------------------


def test_every_page_carries_a_policy_with_nothing_inline(client, viewer, plan):
    client.force_login(viewer)
    for response in (client.get(reverse("home")), Client().get(reverse("login"))):
        assert response.status_code == 200
        directives = csp_directives(response)
        assert directives["default-src"] == ["'self'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]


def test_style_elements_are_allowed_only_for_what_plotly_adds():
    """plotly.js adds an empty <style> (filled through CSSOM) and maplibre-gl's fixed stylesheet; nothing else."""
    bundle = PLOTLY_JS.read_text(encoding="utf-8")
    start = bundle.index("e.textContent='", bundle.index("maplibregl-map") - 500) + len("e.textContent='")
    maplibre_css = bundle[start : bundle.index("'", start)]
    assert maplibre_css.startswith(".maplibregl-map{")
    allowed = django_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src-elem"]
    assert sorted(allowed) == sorted(["'self'", sha256_source(""), sha256_source(maplibre_css)])


def test_templates_hold_no_inline_script_style_or_handler():
    found = []
    for template in sorted(TEMPLATES_DIR.rglob("*.html")):
        source = template.read_text(encoding="utf-8")
        for pattern in (r"\sstyle\s*=", r"<style", r"\son[a-z]+\s*=", r"<script(?![^>]*\bsrc=)"):
            found += [f"{template.relative_to(TEMPLATES_DIR)}: {m.group()}" for m in re.finditer(pattern, source)]
    assert found == []


def test_rendered_pages_hold_no_inline_script_style_or_handler(client, dx_user, plan):
    """The portal's pages and the admin's (Django's and the packages' templates too), as served."""
    dx_user.is_superuser = True  # the admin's change list and form regardless of model permissions
    dx_user.save()
    client.force_login(dx_user)
    measure = Measure.objects.filter(plan=plan).order_by("pk").first()
    urls = [
        reverse("home"),
        reverse("kpi:measure_list"),
        reverse("initiatives:plan_list"),
        plan.get_absolute_url(),
        measure.get_absolute_url(),  # charts: plotly.js and the chart data as application/json
        reverse("budget:budget_table", args=[plan.code]),
        reverse("admin:index"),
        reverse("admin:initiatives_measure_changelist"),
        reverse("admin:initiatives_measure_change", args=[measure.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert (url, InlineCode.in_html(response.content.decode())) == (url, [])
    assert 'type="application/json"' in client.get(measure.get_absolute_url()).content.decode()


# --- django-axes lockout -----------------------------------------------------------------------


def test_a_locked_out_login_gets_a_japanese_page_and_stays_locked(client, viewer, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    login = reverse("login")

    first = client.post(login, {"username": viewer.username, "password": "wrong-1"})
    assert first.status_code == 200  # the form again, with its error

    locked = client.post(login, {"username": viewer.username, "password": "wrong-2"})
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "ログインを一時停止しています" in page
    assert "パスワードを2回続けて間違えたため" in page
    assert "60分ほど待ってから" in page  # AXES_COOLOFF_TIME = 1 hour
    assert "Account locked" not in page  # django-axes' English default

    right = client.post(login, {"username": viewer.username, "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


# --- Cache-Control: no-store -------------------------------------------------------------------


def test_pages_and_downloads_for_a_signed_in_user_are_not_stored(client, viewer, plan):
    client.force_login(viewer)
    for url in (reverse("home"), reverse("budget:budget_table_xlsx", args=[plan.code])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url


def test_pages_for_anonymous_visitors_are_left_alone(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert "Cache-Control" not in response.headers


def test_static_files_stay_cacheable_for_a_signed_in_user(viewer, settings):
    # WhiteNoise serves from the finders here, as it would serve collected files in production.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client = Client()
    client.force_login(viewer)
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Cache-Control"]
    assert "no-store" not in response.headers["Cache-Control"]


# --- /healthz ----------------------------------------------------------------------------------


def test_healthz_answers_503_while_the_database_is_unreachable(client, db, tmp_path):
    assert client.get("/healthz").content == b"ok"

    with database_down(tmp_path):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content.decode() == "データベースに接続できません"
    assert client.get("/healthz").status_code == 200


# --- error pages -------------------------------------------------------------------------------


def test_an_unknown_url_answers_the_japanese_404_without_internals(client, viewer):
    client.force_login(viewer)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "ページが見つかりません" in page
    assert "Resolver404" not in page
    assert "no-such-page" not in page


@with_test_views
def test_a_404_raised_with_a_message_shows_only_the_fixed_text(client):
    response = client.get("/test-only/not-found/")
    assert response.status_code == 404
    assert "お探しのページは見つかりませんでした" in response.content.decode()
    assert INTERNAL not in response.content.decode()


@with_test_views
def test_an_error_answers_the_standalone_japanese_500_page(db):
    response = Client(raise_request_exception=False).get("/test-only/error/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "エラーが発生しました" in page
    assert INTERNAL not in page
    assert "RuntimeError" not in page


@with_test_views
def test_a_bad_request_answers_the_japanese_400_page(client):
    response = client.get("/test-only/bad-request/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "リクエストを処理できません" in page
    assert INTERNAL not in page
