"""Load test: gunicorn under 32 concurrent signed-in clients, on PostgreSQL and on SQLite (`make load`).

Each configuration gets a database of its own: a throwaway PostgreSQL server (initdb in a temporary
folder, started on 127.0.0.1 at a free port, as the postgres user when run as root, as .ci/run does)
or a SQLite file. It is migrated and loaded with the real plan (fixtures/ohnojo_dx_r4.json through
`manage.py import_plan`) and the demo accounts (`manage.py load_demo`), grown to 3,000 measures where
asked; then gunicorn serves it (DEBUG off, SECRET_KEY set, SECURE_COOKIES=0, ALLOWED_HOSTS=127.0.0.1)
and LOAD_CLIENTS (32) clients, each signed in as a demo account, run a mixed load for LOAD_SECONDS
(60): 80 % page reads (dashboard, measure list, a measure page, the PDCA page, report pages) and 20 %
versioned saves (GET the entry form, POST it back with its csrf token and version and a new 実施内容).
A 302 is an acknowledged write, recorded as (measure, year, value, version seen); a 200 with the
「他の人が…更新」 message is a refused stale save, not an error.

Afterwards every acknowledged write is looked for in the database: its value in the record's history,
and the last acknowledged value of each measure-year (the one with the highest version seen) in the
record itself; two acknowledged saves from the same version would be a lost update.

Configurations (LOAD_CONFIGS, default "a,b,c,d"):
  a  PostgreSQL, 30 measures, gunicorn -w 4 (sync workers)
  b  PostgreSQL, 3,000 measures (goal: p99 ≤ 1 s, no errors)
  c  as b, with `pg_ctl restart -m fast` three times during the run (goal: no 500s, no acknowledged
     write lost)
  d  SQLite file, 30 measures, gunicorn -k gthread -w 4 --threads 8 (goal: no "database is locked")

Only the standard library (threads and http.client). Everything it starts (gunicorn, PostgreSQL) is
stopped and every temporary folder removed when it ends, also on a failure, Ctrl-C or SIGTERM.
Writes the section "load" of docs/benchmark.md and prints the figures.

Internal subcommands, run in a child process with DATABASE_URL set: `setup MEASURES YEAR` (grow the
plan, open records to save, print the URLs as JSON) and `verify ACKS.json` (check the writes).
"""

import atexit
import html.parser
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
PLAN_FILE = ROOT / "fixtures" / "ohnojo_dx_r4.json"
PLAN_CODE = "ohnojo-dx-r4"
YEAR = 2025  # the plan's last year (R7): open for entry in the demo data
PASSWORD = "ohnojo-demo-2026"  # ohnojo_dx.demo.DEMO_PASSWORD
WRITERS = ("dx_office", "tantou")  # ohnojo_dx.demo.ACCOUNTS: the DX推進部門 and a department's staff
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "32"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "4"))
CONFIGS = os.environ.get("LOAD_CONFIGS", "a,b,c,d").split(",")
LARGE = int(os.environ.get("LOAD_MEASURES", "3000"))
TARGETS = 60  # measure-years the saves go to (some contention, so stale saves happen)
WRITE_SHARE = 0.2
RESTARTS = 3
TIMEOUT = 30  # seconds a client waits for an answer
STALE = re.compile("他の人が(先に)?更新")

# --- Cleanup: whatever this script starts is stopped, whatever it creates removed ----------------------

_cleanups = []


def on_exit(fn, *args):
    _cleanups.append((fn, args))


def cleanup():
    while _cleanups:
        fn, args = _cleanups.pop()
        try:
            fn(*args)
        except Exception as error:  # noqa: BLE001 (keep cleaning up the rest)
            print(f"cleanup: {fn.__name__}: {error}", file=sys.stderr)


def _stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds the try/finally blocks, then atexit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def temp_dir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    on_exit(remove_tree, path)
    return path


def remove_tree(path):
    """Remove a folder; retried, since a server that was just stopped may still be writing its last files."""
    for _ in range(10):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path):
            return
        time.sleep(0.5)
    print(f"cleanup: could not remove {path}", file=sys.stderr)


def kill_group(process, name):
    """Stop a process started in its own session, and its children (gunicorn's workers)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print(f"{name}: no exit after SIGTERM, killing", file=sys.stderr)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


# --- PostgreSQL, as .ci/run starts it -------------------------------------------------------------------


class Postgres:
    def __init__(self):
        found = self.installed()
        if not found and os.getuid() == 0:  # as .ci/run: install Debian's package
            subprocess.run(["apt-get", "update"], check=True)
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "install", "-y", "postgresql"], check=True, env=env)
            found = self.installed()
        if not found:
            raise SystemExit("PostgreSQL がありません（apt-get install postgresql）。")
        self.bin = found[-1].parent
        self.version = found[-1].parent.parent.name
        self.root = os.getuid() == 0
        self.data = temp_dir("ohnojo-load-pg-")
        if self.root:
            shutil.chown(self.data, "postgres")
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/ohnojo"

    @staticmethod
    def installed():
        return sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))

    def run(self, *args, check=True):
        command = [str(self.bin / args[0]), *args[1:]]
        if self.root:  # initdb refuses to run as root: as the postgres user
            command = ["su", "postgres", "-s", "/bin/sh", "-c", subprocess.list2cmdline(command)]
        return subprocess.run(command, check=check, capture_output=True, text=True, cwd="/tmp")

    def start(self):
        self.run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--encoding=UTF8", "--locale=C.UTF-8")
        on_exit(self.stop)
        self.run("pg_ctl", "-D", self.data, "-l", f"{self.data}/server.log", "-o", self.options, "-w", "start")
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "ohnojo")

    @property
    def options(self):
        return f"-h 127.0.0.1 -p {self.port} -k {self.data}"

    def stop(self):
        self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)


def _pg_restart_args(pg):
    return ("pg_ctl", "-D", pg.data, "-l", f"{pg.data}/server.log", "-o", pg.options, "-m", "fast", "-w", "restart")


# --- The portal: prepared by manage.py, served by gunicorn ------------------------------------------------


def portal_env(database_url):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="load-test-only-" + "x" * 40,
        DJANGO_DEBUG="0",
        SECURE_COOKIES="0",
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="ohnojo_dx.settings",
    )
    return env


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)


def prepare(env, measures):
    """Migrate, load the plan and the demo accounts (first time), grow to ``measures``; returns the URLs."""
    manage(env, "migrate", "--noinput")
    manage(env, "setup_roles")
    if not (Path(env["LOAD_MARK"]).exists()):
        manage(env, "import_plan", str(PLAN_FILE))
        manage(env, "load_demo")
        Path(env["LOAD_MARK"]).touch()
    out = subprocess.run(
        [PYTHON, __file__, "setup", str(measures), str(YEAR)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_gunicorn(env, extra, log_path):
    port = free_port()
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 (closed at exit)
    on_exit(log.close)
    command = [str(BIN / "gunicorn"), "ohnojo_dx.wsgi", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", *extra]
    command += ["--timeout", "60", "--graceful-timeout", "5", "--error-logfile", "-"]
    # the server's own time per request (µs), apart from the time a request waits for a free worker
    command += ["--access-logfile", str(log_path.with_suffix(".access")), "--access-logformat", "%(s)s %(D)s"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    on_exit(kill_group, process, "gunicorn")
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}); see {log_path}")
        try:
            if Browser(port).request("GET", "/healthz")[0] == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


# --- A signed-in client: http.client and a cookie dict ---------------------------------------------------


class FormFields(html.parser.HTMLParser):
    """The fields of the page's form that carries ``seen_version``, as the browser would post them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.current, self.textarea, self.select = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = []
            self.forms.append(self.current)
        elif tag == "option":
            self._option(a)
        elif self.current is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.current.append([a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")])
        elif tag == "textarea":
            self.textarea = [a["name"], ""]
            self.current.append(self.textarea)
        elif tag == "select":
            self.select = [a["name"], None]
            self.current.append(self.select)

    def _option(self, a):
        """The selected option's value, else the first option's (as a browser posts a single select)."""
        if self.select is not None and (self.select[1] is None or "selected" in a):
            self.select[1] = a.get("value", "")

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form":
            self.current = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def fields(self):
        for form in self.forms:
            names = [f[0] for f in form]
            if "seen_version" in names:
                return [(f[0], f[1] or "") for f in form]
        return None


class Browser:
    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, data=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            headers = {"Host": "127.0.0.1"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if data is not None:
                body = urlencode(data).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for header in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if "Max-Age=0" in header or value == '""':
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
            return response.status, content.decode("utf-8", "replace")
        finally:
            connection.close()

    def sign_in(self, username):
        status, page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"login page: {status}")
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD, "next": "/"},
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {username}: {status}")


# --- The load -------------------------------------------------------------------------------------------


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples = []  # (kind, status or exception name, seconds)
        self.acks = []  # (code, year, value, seen version)
        self.stale = 0
        self.refused = Counter()  # other 200 re-renders of a save: their first error message
        self.sign_in_errors = Counter()

    def add(self, kind, status, seconds):
        with self.lock:
            self.samples.append((kind, status, seconds))


def timed(tally, kind, browser, method, path, data=None):
    started = time.perf_counter()
    try:
        status, page = browser.request(method, path, data)
    except (OSError, http.client.HTTPException) as error:
        tally.add(kind, type(error).__name__, time.perf_counter() - started)
        return None, ""
    tally.add(kind, status, time.perf_counter() - started)
    return status, page


def save(tally, browser, target, number):
    status, page = timed(tally, "save form", browser, "GET", target["edit"])
    if status != 200:
        return
    parser = FormFields()
    parser.feed(page)
    fields = parser.fields()
    if fields is None:
        with tally.lock:
            tally.refused["no entry form on the page"] += 1
        return
    value = f"負荷試験 {number}"
    data = [(k, v) for k, v in fields if k != "work_done"] + [("work_done", value)]
    seen = dict(fields)["seen_version"]
    status, page = timed(tally, "save", browser, "POST", target["edit"], data)
    if status == 302:
        with tally.lock:
            tally.acks.append((target["code"], target["year"], value, int(seen)))
    elif status == 200:
        with tally.lock:
            if STALE.search(page):
                tally.stale += 1
            else:
                error = re.search(r'class="errorlist[^"]*"[^>]*>\s*<li>([^<]+)', page)
                tally.refused[error.group(1) if error else "re-rendered without an error message"] += 1


def drive(port, urls, restart=None, on_start=None):
    """Every client signs in, then the clock starts; ``restart`` (if any) runs RESTARTS times, evenly spread."""
    tally = Tally()
    signed_in = threading.Barrier(CLIENTS + 1)
    go = threading.Event()
    stop_box = {"at": None}
    threads = [
        threading.Thread(target=_client_thread, args=(i, port, urls, tally, stop_box, go, signed_in), daemon=True)
        for i in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    signed_in.wait()
    if on_start:
        on_start()
    began = time.perf_counter()
    stop_box["at"] = began + SECONDS
    go.set()
    restarts = []
    if restart:
        for n in range(1, RESTARTS + 1):
            time.sleep(max(0.0, began + SECONDS * n / (RESTARTS + 1) - time.perf_counter()))
            restarts.append(restart())
    for t in threads:
        t.join(timeout=SECONDS + TIMEOUT * 3)
    return tally, time.perf_counter() - began, restarts


def _client_thread(index, port, urls, tally, stop_box, go, signed_in):
    username = WRITERS[index % len(WRITERS)]
    browser = Browser(port)
    try:
        browser.sign_in(username)
    except (OSError, http.client.HTTPException, RuntimeError) as error:
        with tally.lock:
            tally.sign_in_errors[str(error)] += 1
        signed_in.wait()
        return
    signed_in.wait()
    go.wait()
    rng = random.Random(index)
    mine = urls["departments"].get(username)
    targets = [t for t in urls["targets"] if username == "dx_office" or t["department"] == mine]
    number = 0
    while time.perf_counter() < stop_box["at"]:
        number += 1
        if targets and rng.random() < WRITE_SHARE:
            save(tally, browser, rng.choice(targets), f"{index}-{number}")
            continue
        kind, path = rng.choice(urls["reads"])
        if kind == "measure page":
            path = rng.choice(urls["measure_pages"])
        timed(tally, kind, browser, "GET", path)


def percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def server_times(access_text):
    """Seconds the server spent on each request, from gunicorn's access log ("status microseconds")."""
    out = []
    for line in access_text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out.append(int(parts[1]) / 1e6)
    return out


def summarise(name, title, tally, elapsed, restarts, verification, log_text, access_text):
    statuses = Counter(status for _, status, _ in tally.samples)
    seconds = [s for _, _, s in tally.samples]
    server = server_times(access_text)
    by_kind = {}
    for kind, _status, s in tally.samples:
        by_kind.setdefault(kind, []).append(s)
    ok = sum(n for s, n in statuses.items() if isinstance(s, int) and 200 <= s < 400)
    other = sum(n for s, n in statuses.items() if not (isinstance(s, int) and (200 <= s < 400 or s in (500, 503))))
    ms = lambda v: None if v is None else round(v * 1000, 1)  # noqa: E731
    return {
        "config": name,
        "title": title,
        "seconds": round(elapsed, 1),
        "requests": len(tally.samples),
        "requests_per_second": round(len(tally.samples) / elapsed, 1) if elapsed else 0,
        "p50_ms": ms(percentile(seconds, 0.5)),
        "p95_ms": ms(percentile(seconds, 0.95)),
        "p99_ms": ms(percentile(seconds, 0.99)),
        "p99_by_kind_ms": {k: ms(percentile(v, 0.99)) for k, v in sorted(by_kind.items())},
        "server_p50_ms": ms(percentile(server, 0.5)),
        "server_p99_ms": ms(percentile(server, 0.99)),
        "status_2xx": sum(n for s, n in statuses.items() if isinstance(s, int) and 200 <= s < 300),
        "status_3xx": sum(n for s, n in statuses.items() if isinstance(s, int) and 300 <= s < 400),
        "ok": ok,
        "status_500": statuses.get(500, 0),
        "status_503": statuses.get(503, 0),
        "other_errors": other,
        "other_error_kinds": {
            str(s): n
            for s, n in statuses.items()
            if s not in (500, 503) and not (isinstance(s, int) and 200 <= s < 400)
        },
        "sign_in_errors": dict(tally.sign_in_errors),
        "saves_acknowledged": len(tally.acks),
        "saves_stale": tally.stale,
        "saves_refused_other": dict(tally.refused),
        "restarts_seconds": [round(r, 2) for r in restarts],
        "database_is_locked_in_log": log_text.count("database is locked"),
        "server_errors_in_log": log_text.count("Internal Server Error:"),
        "server_error_kinds": server_error_kinds(log_text),
        **verification,
    }


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")


def server_error_kinds(log_text):
    """{"path: the exception's last line": count} of each "Internal Server Error" in the server's log, so that
    a 500 can be looked into after the run (the log itself goes with the temporary folder)."""
    kinds, path, last = Counter(), None, None
    for line in [*log_text.splitlines(), "Internal Server Error: (end)"]:
        if "Internal Server Error:" in line:
            if path is not None:
                kinds[f"{path}: {last or '?'}"[:300]] += 1
            path, last = line.split("Internal Server Error:", 1)[1].strip(), None
        elif path is not None and EXCEPTION_LINE.match(line):
            last = line.strip()
    return dict(kinds)


def run_config(name, title, env, urls, gunicorn_args, workdir, restart=None):
    log_path = Path(workdir) / f"gunicorn-{name}.log"
    process, port = start_gunicorn(env, gunicorn_args, log_path)
    access = log_path.with_suffix(".access")
    offset = {"at": 0}  # the access log from the clock's start: not the sign-ins (password hashing) before it

    def clock_started():
        offset["at"] = access.stat().st_size if access.exists() else 0

    try:
        tally, elapsed, restarts = drive(port, urls, restart, clock_started)
    finally:
        kill_group(process, "gunicorn")
    acks_path = Path(workdir) / f"acks-{name}.json"
    acks_path.write_text(json.dumps(tally.acks), encoding="utf-8")
    out = subprocess.run(
        [PYTHON, __file__, "verify", str(acks_path)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    verification = json.loads(out.stdout.strip().splitlines()[-1])
    result = summarise(
        name,
        title,
        tally,
        elapsed,
        restarts,
        verification,
        log_path.read_text(encoding="utf-8"),
        access.read_bytes()[offset["at"] :].decode("utf-8", "replace") if access.exists() else "",
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return result


def main():
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    atexit.register(cleanup)
    try:
        return _main()
    finally:
        cleanup()


def _main():
    workdir = temp_dir("ohnojo-load-")
    results = []
    machine = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "clients": CLIENTS,
        "workers": WORKERS,
        "seconds": SECONDS,
    }
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=portal_env("sqlite:///" + workdir + "/static.sqlite3"),
        check=True,
        capture_output=True,
    )
    wanted = [c.strip() for c in CONFIGS if c.strip()]
    if {"a", "b", "c"} & set(wanted):
        pg = Postgres()
        pg.start()
        machine["postgresql"] = pg.version
        env = portal_env(pg.url)
        env["LOAD_MARK"] = str(Path(workdir) / "pg-loaded")
        sync = ["-k", "sync"]
        if "a" in wanted:
            urls = prepare(env, 30)
            results.append(run_config("a", "PostgreSQL・30施策", env, urls, sync, workdir))
        if {"b", "c"} & set(wanted):
            urls = prepare(env, LARGE)
        if "b" in wanted:
            results.append(run_config("b", f"PostgreSQL・{LARGE:,}施策", env, urls, sync, workdir))
        if "c" in wanted:

            def restart():
                started = time.perf_counter()
                done = pg.run(*_pg_restart_args(pg), check=False)
                if done.returncode:
                    print(f"pg_ctl restart failed: {done.stderr}", file=sys.stderr)
                return time.perf_counter() - started

            title = f"PostgreSQL・{LARGE:,}施策・実行中に再起動{RESTARTS}回"
            results.append(run_config("c", title, env, urls, sync, workdir, restart))
        pg.stop()
    if "d" in wanted:
        env = portal_env(f"sqlite:///{workdir}/load.sqlite3")
        env["LOAD_MARK"] = str(Path(workdir) / "sqlite-loaded")
        urls = prepare(env, 30)
        threaded = ["-k", "gthread", "--threads", "8"]
        results.append(run_config("d", "SQLite・30施策・gthread 4×8", env, urls, threaded, workdir))
    write_report(machine, results)
    return 0


# --- The report ---------------------------------------------------------------------------------------


def write_report(machine, results):
    sys.path.insert(0, str(Path(__file__).parent))
    from portal_setup import write_section

    if not results:
        return
    lines = [
        "## 同時アクセスの負荷試験（bench/load.py）",
        "",
        f"`make load` で実行します（`make test` には含みません）。構成ごとに使い捨てのDBを作り（PostgreSQL は"
        " .ci/run と同じく一時フォルダに initdb して 127.0.0.1 の空きポートで起動、SQLite はファイル）、"
        "実計画（fixtures/ohnojo_dx_r4.json）とデモ用アカウントを読み込み（3,000施策の構成は合成施策で増やし、"
        "PostgreSQL では自動 VACUUM が後で行うのと同じく ANALYZE で統計を取る）、"
        f"gunicorn（{machine['workers']}ワーカー、DEBUG off）に、ログインした {machine['clients']} の利用者が"
        f" {machine['seconds']:g} 秒間同時にアクセスします。",
        "操作の8割は閲覧（ダッシュボード、施策一覧、施策のページ、PDCAの画面、帳票）、2割は実績入力の保存"
        "（入力画面を開き、CSRFトークンと版をつけて実施内容を書き換えて送信）です。"
        "保存は DX推進部門と担当課のアカウントが半数ずつ行い、"
        f"{TARGETS}件ほどの施策・年度に集中させて競合（版の不一致）も起こします。"
        "302 が保存の受付、「他の人が…更新」の再表示は版が古いための拒否（誤りではない）です。"
        "時間はクライアント側（接続から応答の読み終わりまで、全要求）です。",
        "",
        f"- 実行日: {machine['date']}　Python {machine['python']}　CPU: {machine['cpus']} コア"
        f"　開始時の負荷（1分平均）: {machine['load_average']}"
        + (f"　PostgreSQL {machine['postgresql']}" if "postgresql" in machine else ""),
        "- 同じ機械でクライアント、gunicorn、DB が CPU を分け合います（他の作業の負荷も受けます）。",
        "",
        "| 構成 | 要求/秒 | p50 (ms) | p95 (ms) | p99 (ms) | 2xx | 3xx | 500 | 503 | その他の誤り"
        " | 受付けた保存 | DBで確認 | 最後の値が一致 | 版が古く拒否 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['config']}: {r['title']} | {r['requests_per_second']}"
            f" | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['status_2xx']} | {r['status_3xx']}"
            f" | {r['status_500']} | {r['status_503']} | {r['other_errors']}"
            f" | {r['saves_acknowledged']} | {r['acks_found']}"
            f" | {r['last_values_matching']}/{r['measure_years_written']}"
            f" | {r['saves_stale']} |"
        )
    lines += ["", "| 構成 | 目標 | 結果 |", "|---|---|---|"]
    for r in results:
        for goal, ok in goals(r).items():
            lines.append(f"| {r['config']} | {goal} | {'達成' if ok else '未達'} |")
    lines += [
        "",
        "サーバー側の時間（gunicorn のアクセスログ、ワーカーが要求を受け取ってから応答するまで。"
        "クライアント側の時間との差は、空いているワーカーを待つ時間と接続の時間です）:",
        "",
        "| 構成 | サーバー側 p50 (ms) | サーバー側 p99 (ms) |",
        "|---|---|---|",
        *(f"| {r['config']} | {r['server_p50_ms']} | {r['server_p99_ms']} |" for r in results),
        "",
        "要求の種類ごとのクライアント側 p99（ms）:",
        "",
    ]
    for r in results:
        kinds = "、".join(f"{KIND_LABELS.get(k, k)} {v}" for k, v in r["p99_by_kind_ms"].items())
        lines.append(f"- {r['config']}: {kinds}")
    extra = []
    for r in results:
        notes = []
        if r["other_error_kinds"]:
            notes.append("その他の誤りの内訳 " + json.dumps(r["other_error_kinds"], ensure_ascii=False))
        if r["saves_refused_other"]:
            notes.append(
                "版以外の理由で保存されなかったもの " + json.dumps(r["saves_refused_other"], ensure_ascii=False)
            )
        if r["restarts_seconds"]:
            notes.append("再起動にかかった秒数 " + "、".join(str(s) for s in r["restarts_seconds"]))
        if r["database_is_locked_in_log"] or r["server_errors_in_log"]:
            notes.append(
                f"サーバーのログの database is locked {r['database_is_locked_in_log']} 回、"
                f"Internal Server Error {r['server_errors_in_log']} 回"
            )
        if r["server_error_kinds"]:
            notes.append("500 の内訳 " + json.dumps(r["server_error_kinds"], ensure_ascii=False))
        if r["sign_in_errors"]:
            notes.append("ログインの失敗 " + json.dumps(r["sign_in_errors"], ensure_ascii=False))
        if notes:
            extra.append(f"- {r['config']}: " + "。".join(notes))
    if extra:
        lines += ["", *extra]
    lines += [
        "",
        "「DBで確認」は受付けた保存のうち、その値が記録の変更履歴に残っているもの、「最後の値が一致」は施策・年度ごとに"
        "最後に受付けた保存（送った版が最も新しいもの）の値を記録が保持しているものです。"
        "同じ版から2つの保存が受付けられていれば失われた更新として数えます"
        "（この実行では " + "、".join(f"{r['config']}: {r['lost_updates']}件" for r in results) + "）。",
    ]
    write_section("load", "\n".join(lines))


KIND_LABELS = {
    "dashboard": "ダッシュボード",
    "measure list": "施策一覧",
    "measure page": "施策のページ",
    "PDCA page": "PDCAの画面",
    "reports": "帳票の一覧",
    "report: execution": "経費の計画と実績",
    "report: hearing (one year)": "予算ヒアリング資料・1年度",
    "budget table": "図表2-4-1",
    "save form": "入力画面",
    "save": "保存",
}


def goals(r):
    checks = {
        "500 なし": r["status_500"] == 0,
        "受付けた保存がすべてDBにある": r["acks_lost"] == 0,
        "最後に受付けた値をDBが保持": r["last_values_matching"] == r["measure_years_written"],
        "失われた更新なし": r["lost_updates"] == 0,
    }
    if r["config"] == "b":
        checks["p99 ≤ 1 秒"] = r["p99_ms"] is not None and r["p99_ms"] <= 1000
        checks["誤りなし（500・503・その他）"] = r["status_500"] + r["status_503"] + r["other_errors"] == 0
    if r["config"] == "d":
        checks["database is locked なし"] = r["database_is_locked_in_log"] == 0
    return checks


# --- Subcommands run with Django (DATABASE_URL set) ----------------------------------------------------


def django_setup():
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def setup_command(measures, year):
    """Grow the plan to ``measures`` measures; open a draft record for the target measure-years; print URLs."""
    django_setup()
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.urls import reverse

    from budget.models import PlannedCost
    from initiatives.models import Department, Measure, Plan
    from kpi.models import Kgi, KpiTarget, MeasureYear

    plan = Plan.objects.get(code=PLAN_CODE)
    departments = list(Department.objects.filter(is_sample=True).order_by("code"))
    have = Measure.objects.filter(plan=plan).count()
    if measures > have:
        with transaction.atomic():
            initiative = plan.policies.get(number=2).initiatives.get(number=1)
            start = Measure.objects.filter(initiative=initiative).count() + 1
            grown = Measure.objects.bulk_create(
                Measure(
                    plan=plan,
                    initiative=initiative,
                    code=f"L-{i}",
                    ordinal=start + i,
                    name=f"負荷試験の施策{i}",
                    department=departments[i % len(departments)],
                )
                for i in range(measures - have)
            )
            Kgi.objects.bulk_create(
                Kgi(measure=m, text="件数：10件", indicator="件数", target=10, unit="件") for m in grown
            )
            years = range(plan.start_year, plan.end_year + 1)
            KpiTarget.objects.bulk_create(KpiTarget(measure=m, fiscal_year=y, value=10) for m in grown for y in years)
            PlannedCost.objects.bulk_create(
                PlannedCost(measure=m, fiscal_year=y, amount=100) for m in grown for y in years
            )
            MeasureYear.objects.bulk_create(
                MeasureYear(measure=m, fiscal_year=year, kpi_actual=i % 12, actual_cost=90, work_done="実施")
                for i, m in enumerate(grown)
            )
    # the targets: measures whose record of the year is open (not approved), a draft record made if none
    approved = MeasureYear.objects.filter(fiscal_year=year, status=MeasureYear.Status.APPROVED)
    open_measures = list(
        Measure.objects.filter(plan=plan)
        .exclude(pk__in=approved.values("measure_id"))
        .select_related("department")
        .order_by("pk")
    )
    rng = random.Random(7)
    chosen = rng.sample(open_measures, min(TARGETS, len(open_measures)))
    tantou = User.objects.get(username="tantou").departments.values_list("code", flat=True).first()
    owned = [m for m in open_measures if m.department and m.department.code == tantou and m not in chosen]
    chosen += owned[: max(0, TARGETS // 4 - sum(1 for m in chosen if m.department and m.department.code == tantou))]
    if connection.vendor == "postgresql":
        # the statistics autovacuum would gather after a bulk load: without them the planner guesses, and a
        # freshly grown plan is measured at its worst rather than as it runs the next day
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    existing = set(
        MeasureYear.objects.filter(measure__in=chosen, fiscal_year=year).values_list("measure_id", flat=True)
    )
    MeasureYear.objects.bulk_create(MeasureYear(measure=m, fiscal_year=year) for m in chosen if m.pk not in existing)
    targets = [
        {
            "code": m.code,
            "year": year,
            "department": m.department.code if m.department else "",
            "edit": reverse("kpi:measure_year_edit", args=[plan.code, m.code, year]),
        }
        for m in chosen
    ]
    all_codes = list(Measure.objects.filter(plan=plan).values_list("code", flat=True))
    measure_pages = [
        reverse("measure_detail", args=[plan.code, c]) for c in rng.sample(all_codes, min(200, len(all_codes)))
    ]
    query = "?" + urlencode({"plan": plan.code, "year": year})
    reads = [
        ("dashboard", "/" + query),
        ("dashboard", "/" + query),
        ("measure list", reverse("kpi:measure_list") + query),
        ("measure page", None),
        ("measure page", None),
        ("PDCA page", reverse("kpi:pdca", args=[plan.code, year])),
        ("reports", reverse("budget:reports", args=[plan.code])),
        ("report: execution", reverse("budget:report", args=[plan.code, "execution"])),
        ("report: hearing (one year)", reverse("budget:report", args=[plan.code, "hearing"]) + f"?year={year}"),
        ("budget table", reverse("budget:budget_table", args=[plan.code])),
    ]
    print(
        json.dumps(
            {
                "targets": targets,
                "measure_pages": measure_pages,
                "reads": reads,
                "departments": {"tantou": tantou, "dx_office": None},
                "measures": Measure.objects.filter(plan=plan).count(),
            },
            ensure_ascii=False,
        )
    )


def verify_command(acks_path):
    """Every acknowledged save found in the database: its value in the record's history, the last one
    (highest version seen) per measure-year in the record; two saves acknowledged from one version = lost."""
    django_setup()
    from kpi.models import MeasureYear

    acks = json.loads(Path(acks_path).read_text(encoding="utf-8"))
    by_key = {}
    for code, year, value, seen in acks:
        by_key.setdefault((code, year), []).append((seen, value))
    found = matching = lost = 0
    for (code, year), writes in by_key.items():
        record = MeasureYear.objects.get(measure__plan__code=PLAN_CODE, measure__code=code, fiscal_year=year)
        history = set(
            MeasureYear.history.filter(id=record.pk, history_user__isnull=False).values_list("work_done", flat=True)
        )
        found += sum(1 for _, value in writes if value in history)
        versions = Counter(seen for seen, _ in writes)
        lost += sum(n - 1 for n in versions.values())
        if max(writes)[1] == record.work_done:
            matching += 1
    print(
        json.dumps(
            {
                "acks_found": found,
                "acks_lost": len(acks) - found,
                "measure_years_written": len(by_key),
                "last_values_matching": matching,
                "lost_updates": lost,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "setup":
        setup_command(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "verify":
        verify_command(sys.argv[2])
    else:
        sys.exit(main())
