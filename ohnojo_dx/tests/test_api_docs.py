"""The schema at /api/schema/ and Swagger UI at /api/docs/, served from this server alone.

Swagger UI's files come from drf-spectacular-sidecar through the static files; the page has no inline
script or style (the portal's CSP allows neither) and no address outside this server.
"""

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from playwright.sync_api import expect

from ohnojo_dx.tests.api_helpers import fast_passwords, token_for  # noqa: F401 (fast_passwords: a fixture)
from tests.test_browser import log_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

OPERATIONS = 17


class Resources(HTMLParser):
    """Every URL a page loads, and any inline <script> or <style>."""

    def __init__(self):
        super().__init__()
        self.urls, self.inline = [], []
        self._tag = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._tag = tag
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag in ("script", "style"):
            self.inline.append(tag)
        if any(name == "style" or name.startswith("on") for name in attrs):
            self.inline.append(f"{tag} attribute")

    def handle_data(self, data):
        if self._tag in ("script", "style") and data.strip():
            self.inline.append(data.strip()[:40])


def test_the_docs_page_is_for_signed_in_people(client, outsider):
    response = client.get("/api/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.get("/api/docs/").status_code == 403


def test_the_docs_page_loads_only_files_of_this_server(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"  # swagger-ui.css holds its icons as data: SVG images
    loaded = Resources()
    loaded.feed(response.content.decode())
    assert loaded.inline == []
    assert len(loaded.urls) == 5  # favicon, swagger-ui.css, the two bundles, the page's own init script
    for url in loaded.urls:
        assert url.startswith(("/static/drf_spectacular_sidecar/swagger-ui-dist/", "/api/docs/?")), url
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), f"{url} is not among the static files"
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert '"/api/schema/"' in script.content.decode()
    assert not re.search(r"https?://", response.content.decode() + script.content.decode())


def test_the_schema_lists_every_endpoint(client, dx_user):
    response = client.get("/api/schema/", **token_for(dx_user))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    operations = [(path, method) for path, item in schema["paths"].items() for method in item]
    assert len(operations) == OPERATIONS
    assert ("/api/plans/{plan_code}/measures/{measure_code}/years/{year}/", "patch") in operations
    conflict = schema["paths"]["/api/plans/{plan_code}/measures/{measure_code}/years/{year}/"]["patch"]["responses"]
    assert set(conflict) == {"200", "400", "401", "403", "404", "409"}
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}
    yaml = client.get("/api/schema/?format=yaml", **token_for(dx_user))
    assert yaml.content.startswith(b"openapi: 3.")


@pytest.mark.browser
def test_swagger_ui_works_with_no_network(page, plan, dx_user):  # noqa: F811
    """Swagger UI draws every operation from this server's files, with no outside request and no CSP error,
    and "Try it out" reads the plan with the session of the signed-in user."""
    log_in(page, dx_user)
    page.goto("/api/docs/")
    expect(page.get_by_text("計画進捗ポータル API")).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(OPERATIONS)
    page.locator(".opblock-summary", has_text="計画の一覧").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".responses-wrapper .live-responses-table")).to_contain_text("ohnojo-dx-r4")
    assert page.problems == [], "\n".join(p[:150] for p in page.problems)
