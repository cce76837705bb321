"""Gunicorn as a subprocess, and a small keep-alive HTTP client that signs in like a browser.

The load test and the load benchmark drive the panel with locust (tests/load/locustfile.py); this client
is for the few requests a test makes itself around them (tests that time single pages, set-up).
"""
import csv
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import free_port
from tests.load.forms import TOKEN

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def gunicorn_path() -> str:
    path = Path(sys.executable).with_name("gunicorn")
    if not path.exists():
        raise FileNotFoundError(f"gunicorn is not installed next to {sys.executable} (pip install -r requirements.txt)")
    return str(path)


class Gunicorn:
    """`gunicorn wsgi:app` on a free port of 127.0.0.1 with the given database; waits for /health."""

    def __init__(self, database_url: str, instance_path: str, workers: int = 4, threads: int = 4,
                 secret: str = "load-test-secret", log_path: str | None = None):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "PANEL_INSTANCE_PATH": instance_path,
               "SECRET_KEY": secret, "BCRYPT_ROUNDS": "4"}
        self.log_path = log_path or os.path.join(instance_path, "gunicorn.log")
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "wb")
        # --keep-alive longer than any pause of a simulated user: a connection closed by the server
        # between two requests would look like a connection error.
        self.process = subprocess.Popen(
            [gunicorn_path(), "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--keep-alive", "300",
             "-b", f"127.0.0.1:{self.port}", "--chdir", str(ROOT), "wsgi:app"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer /health within 60 s:\n{self.output()}")
            time.sleep(0.2)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log_path).read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    text: str
    ms: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Browser:
    """One user: one keep-alive connection, the session cookie, and the CSRF token of the last page."""

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.token: str | None = None
        self.bearer: str | None = None

    def request(self, method: str, path: str, form: dict | None = None, htmx: bool = False,
                headers: dict | None = None) -> Response:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        sent = {"Accept": "text/html,application/json", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            sent["HX-Request"] = "true"
            if method != "GET" and self.token:
                sent["X-CSRFToken"] = self.token
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            raw = self.conn.getresponse()
            data = raw.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        ms = (time.perf_counter() - started) * 1000
        response = Response(raw.status, raw.getheaders(), data.decode("utf-8", "replace"), ms)
        for name, value in response.headers:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        match = TOKEN.search(response.text)
        if match:
            self.token = match.group(1)
        if raw.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response

    def get(self, path: str, htmx: bool = False, **kw) -> Response:
        return self.request("GET", path, htmx=htmx, **kw)

    def post(self, path: str, form: dict, htmx: bool = False) -> Response:
        if not htmx:
            form = {"csrf_token": self.token, **form}
        return self.request("POST", path, form=form, htmx=htmx)

    def sign_in(self, email: str, password: str) -> None:
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password})
        if response.status != 303:
            raise RuntimeError(f"sign-in as {email} answered {response.status}")
        self.get("/customers")  # the session was renewed at sign-in: take the new token

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Samples:
    """Response times (ms) and outcomes per label, filled by several threads (list.append is atomic)."""

    times: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, label: str, response: Response) -> None:
        self.times.setdefault(label, []).append(response.ms)
        counts = self.statuses.setdefault(label, {})
        counts[response.status] = counts.get(response.status, 0) + 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_locust(host: str, setup: dict, folder, users: int, seconds: float, user_class: str = "StaffUser",
               check: bool = True) -> dict[str, dict]:
    """Run the locustfile headless against `host` and return locust's own figures per request name (its CSV)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "setup.json"
    path.write_text(json.dumps(setup))
    prefix = folder / "locust"
    command = [str(Path(sys.executable).with_name("locust")), "-f", str(LOCUSTFILE), user_class, "--headless",
               "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{int(seconds)}s", "--host", host,
               "--csv", str(prefix), "--only-summary", "--stop-timeout", "30", "--loglevel", "WARNING"]
    finished = subprocess.run(command, env={**os.environ, "LOAD_SETUP": str(path)}, capture_output=True, text=True,
                              timeout=seconds + 180)
    assert Path(f"{prefix}_stats.csv").exists(), (finished.returncode, finished.stdout[-3000:], finished.stderr[-3000:])
    with open(f"{prefix}_stats.csv", newline="") as fh:
        stats = {row["Name"]: row for row in csv.DictReader(fh)}
    with open(f"{prefix}_failures.csv", newline="") as fh:
        failures = list(csv.DictReader(fh))
    with open(f"{prefix}_exceptions.csv", newline="") as fh:
        exceptions = list(csv.DictReader(fh))
    if check:
        assert exceptions == [], exceptions[:5]
        assert failures == [], failures[:10]
    return stats
