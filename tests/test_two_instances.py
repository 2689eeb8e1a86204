"""Two gunicorn instances on one database, as behind one reverse-proxy address: a page opened on one
instance saves through the other, and an upload previewed on one is confirmed on the other.

Both are real server processes with the same SECRET_KEY and the same database: on SQLite a new file,
on PostgreSQL (DATABASE_URL) a new database on the same server. Sessions and the previewed upload
live in that database, so either instance may answer any request.
"""

import csv
import http.cookiejar
import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import dj_database_url
import psycopg2
import pytest

from conftest import PASSWORD, PLAN_CODE, PLAN_FILE

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
YEAR = 2025
DEPARTMENT = "two-instances"

SETUP = f"""
import django
django.setup()
from django.contrib.auth.models import User
from django.core.management import call_command
from initiatives.models import Department, Measure
from initiatives.roles import Role, role_group, setup_roles
from ohnojo_dx.plan_loader import import_plan
import json, pathlib
call_command("migrate", verbosity=0)
setup_roles()
import_plan(json.loads(pathlib.Path({str(PLAN_FILE)!r}).read_text(encoding="utf-8")))
department = Department.objects.create(code={DEPARTMENT!r}, name="二台構成課")
user = User.objects.create_user("tantou", password={PASSWORD!r})
user.groups.add(role_group(Role.DEPARTMENT))
user.departments.add(department)
Measure.objects.filter(plan__code={PLAN_CODE!r}, code__in=["I-3-1", "I-3-2"]).update(department=department)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def shared_database(tmp_path):
    """DATABASE_URL of a new, empty database for both instances (dropped afterwards on PostgreSQL)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        server = dj_database_url.parse(url)
        name = f"two_instances_{uuid.uuid4().hex[:12]}"
        admin = psycopg2.connect(
            dbname=server["NAME"],
            user=server["USER"],
            password=server["PASSWORD"],
            host=server["HOST"],
            port=server["PORT"] or None,
        )
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        shared = urllib.parse.urlsplit(url)._replace(path=f"/{name}").geturl()
    else:
        admin, shared = None, f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    try:
        yield shared
    finally:
        if admin is not None:
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()


@pytest.fixture
def instances(shared_database, tmp_path):
    """Two gunicorn processes on the shared database (migrated, with the plan and a 担当課 user); their
    base URLs."""
    environment = {
        **os.environ,
        "DATABASE_URL": shared_database,
        "SECRET_KEY": "two-instances-" + "k" * 40,
        "DJANGO_SETTINGS_MODULE": "tests.two_instances_settings",
        "SECURE_COOKIES": "0",
        "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=environment, check=True, timeout=120)
    servers, urls = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = open(tmp_path / f"gunicorn-{name}.log", "wb")  # noqa: SIM115 (closed with the process)
            scratch = tmp_path / f"tmp-{name}"  # each its own disk, as two machines
            scratch.mkdir()
            command = [str(GUNICORN), "ohnojo_dx.wsgi", "--bind", f"127.0.0.1:{port}"]
            command += ["--worker-class", "gthread", "--workers", "1", "--threads", "2"]
            environment_of_this_one = {**environment, "TMPDIR": str(scratch)}
            process = subprocess.Popen(
                command, cwd=ROOT, env=environment_of_this_one, stdout=log, stderr=subprocess.STDOUT
            )
            servers.append((process, log))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until_up(url)
        yield urls
    finally:
        for process, log in servers:
            process.terminate()
            process.wait(10)
            log.close()


def wait_until_up(url, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:  # refused until gunicorn listens, or no answer until its worker has loaded
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


class Browser:
    """One person's browser: a cookie jar shared by both addresses (cookies do not depend on the port)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, url):
        with self.opener.open(url, timeout=30) as response:
            return response.geturl(), response.read()

    def post(self, url, fields, files=None):
        if files:
            boundary = uuid.uuid4().hex
            body = b"".join(
                [
                    *(
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                        for k, v in fields.items()
                    ),
                    *(
                        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{filename}"\r\n'
                        f"Content-Type: application/octet-stream\r\n\r\n".encode()
                        + content
                        + b"\r\n"
                        for k, (filename, content) in files.items()
                    ),
                    f"--{boundary}--\r\n".encode(),
                ]
            )
            content_type = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()


def hidden(html, name):
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def sign_in(browser, base):
    _, page = browser.get(base + "/accounts/login/")
    url, page = browser.post(
        base + "/accounts/login/",
        {
            "csrfmiddlewaretoken": hidden(page.decode(), "csrfmiddlewaretoken"),
            "username": "tantou",
            "password": PASSWORD,
        },
    )
    assert "/accounts/login/" not in url, "not signed in"


def test_a_page_opened_on_one_instance_saves_through_the_other(instances):
    a, b = instances
    browser = Browser()
    sign_in(browser, a)

    edit = f"/plans/{PLAN_CODE}/measures/I-3-1/years/{YEAR}/edit/"
    _, page = browser.get(a + edit)
    page = page.decode()
    assert hidden(page, "seen_version") == "0"
    url, _ = browser.post(
        b + edit,
        {"csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"), "seen_version": "0", "kpi_actual": "77"},
    )
    assert url.startswith(b) and not url.endswith(edit), "the save was not accepted"

    _, page = browser.get(a + edit)  # instance A reads what B saved
    page = page.decode()
    assert hidden(page, "seen_version") == "1"
    assert re.search(r'name="kpi_actual" value="77(\.0+)?"', page)

    # The actuals upload: previewed on A, confirmed on B.
    actuals = f"/plans/{PLAN_CODE}/years/{YEAR}/actuals/"
    _, content = browser.get(a + actuals + f"download/?format=csv&department={DEPARTMENT}")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("施策コード")] == "I-3-2":
            row[header.index("決算額（千円）")] = "4321"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    _, page = browser.get(a + actuals)
    _, preview = browser.post(
        a + actuals,
        {"csrfmiddlewaretoken": hidden(page.decode(), "csrfmiddlewaretoken")},
        files={"file": ("実績.csv", out.getvalue().encode("utf-8"))},
    )
    token = hidden(preview, "token")
    _, done = browser.post(
        b + actuals + "confirm/", {"csrfmiddlewaretoken": hidden(preview, "csrfmiddlewaretoken"), "token": token}
    )
    assert "1件を取り込みました" in done

    _, page = browser.get(a + f"/plans/{PLAN_CODE}/measures/I-3-2/years/{YEAR}/edit/")
    assert re.search(r'name="actual_cost" value="4321"', page.decode())
