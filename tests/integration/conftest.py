"""Fixtures for the integration tests: the running local stack described by
$BOXOFFICE_RUN_DIR/stack.env (scripts/stack up writes it; scripts/test runs these tests
against a stack of its own in run/test)."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import stacklib  # noqa: E402 (tests/lib: shared with the drill and the bench)

ROOT = Path(__file__).resolve().parents[2]
ISO_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def load_stack_env():
    env_file = stacklib.stack_env_path()
    if not env_file.exists():
        pytest.exit(f"{env_file} not found: bring a stack up first (scripts/stack up)", returncode=2)
    return stacklib.load_stack_env(env_file)


class Stack:
    """The stack under test, plus helpers to poke its processes."""

    def __init__(self, env):
        self.env = env
        self.url = env["BOXOFFICE_URL"]
        self.run_dir = env["BOXOFFICE_RUN_DIR"]

    # ---- HTTP
    def get(self, path, **kw):
        kw.setdefault("timeout", 15)
        return requests.get(self.url + path, **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 15)
        return requests.request(method, self.url + path, **kw)

    def wait_status(self, path, want, timeout=30.0, interval=0.2):
        """Poll until GET path answers `want` (a status or a predicate on the response)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.get(path, timeout=10)
                ok = want(last) if callable(want) else last.status_code == want
                if ok:
                    return last
            except requests.RequestException as e:  # nginx restarting etc.
                last = e
            time.sleep(interval)
        detail = last if not isinstance(last, requests.Response) else f"{last.status_code} {last.text[:300]}"
        raise AssertionError(f"GET {path} did not reach {want} within {timeout}s (last: {detail})")

    # ---- processes
    @staticmethod
    def read_pid(path):
        try:
            return int(Path(path).read_text().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def alive(pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("State:"):
                        return "Z" not in line.split()[1]
        except OSError:
            return False
        return False

    def master_pid(self):
        pid = self.read_pid(self.env["BOXOFFICE_APP_PID_FILE"]) or \
            self.read_pid(self.env["BOXOFFICE_APP_LAUNCH_PID_FILE"])
        assert pid and self.alive(pid), "the daemon's master is not running"
        return pid

    @staticmethod
    def children(ppid):
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == ppid and fields[0] != "Z":
                kids.append(int(d))
        return sorted(kids)

    @staticmethod
    def comm(pid):
        try:
            return Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return None

    def workers(self):
        """The master's FastCGI responders (not its housekeeping child)."""
        return [p for p in self.children(self.master_pid()) if self.comm(p) != "bo-housekeeper"]

    def housekeeper(self):
        """The master's housekeeping child, or None."""
        kids = [p for p in self.children(self.master_pid()) if self.comm(p) == "bo-housekeeper"]
        return kids[0] if kids else None

    def wait_workers(self, n, timeout=20.0, exclude=()):
        deadline = time.monotonic() + timeout
        kids = []
        while time.monotonic() < deadline:
            kids = self.workers()
            if len(kids) >= n and not set(kids) & set(exclude):
                return kids
            time.sleep(0.1)
        raise AssertionError(f"expected {n} workers (without {sorted(exclude)}), have {kids}")

    def stop_pid(self, pidfile, sig=signal.SIGTERM, timeout=60.0):
        pid = self.read_pid(pidfile)
        assert pid and self.alive(pid), f"no live process in {pidfile}"
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive(pid):
            time.sleep(0.1)
        assert not self.alive(pid), f"pid {pid} ({pidfile}) did not stop within {timeout}s"
        return pid

    def up(self, timeout=240, wait_ready=True):
        """scripts/stack up: starts whatever is not running and (unless wait_ready is False)
        waits for ready=200."""
        env = dict(os.environ)
        env["BOXOFFICE_RUN_DIR"] = self.run_dir
        cmd = [str(ROOT / "scripts/stack"), "up", "--port-base", self.env["BOXOFFICE_PORT_BASE"]]
        if not wait_ready:
            cmd.append("--no-wait")
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, f"scripts/stack up failed:\n{r.stdout}\n{r.stderr}"
        new = load_stack_env()
        self.env.update(new)
        return r


def render_daemon_conf(src, dst, overrides):
    """A copy of the daemon's config src at dst (mode 0600) with overrides' keys replaced or added,
    for a second daemon instance beside the stack's."""
    seen = set()
    out = []
    for line in Path(src).read_text().splitlines():
        m = re.match(r"^\s*([a-z_][a-z0-9_]*)\s*=", line)
        if m and m.group(1) in overrides:
            k = m.group(1)
            if k not in seen:
                out.append(f"{k} = {overrides[k]}")
                seen.add(k)
            continue
        out.append(line)
    for k, v in overrides.items():
        if k not in seen:
            out.append(f"{k} = {v}")
    Path(dst).write_text("\n".join(out) + "\n")
    os.chmod(dst, 0o600)


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def assert_error_envelope(resp, status, code):
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:400]}"
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert body["success"] is False, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert ISO_TS.match(body["timestamp"]), body["timestamp"]
    assert resp.headers.get("X-Request-Id"), f"no X-Request-Id on {status}: {dict(resp.headers)}"
    return body


def assert_success_envelope(resp, status=200):
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:400]}"
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert body["success"] is True, body
    assert "data" in body, body
    assert ISO_TS.match(body["timestamp"]), body["timestamp"]
    assert resp.headers.get("X-Request-Id"), f"no X-Request-Id: {dict(resp.headers)}"
    return body


@pytest.fixture(scope="session")
def stack():
    s = Stack(load_stack_env())
    s.wait_status("/api/ready", 200, timeout=60)
    return s


@pytest.fixture
def healthy_stack(stack):
    """The stack, and after the test: everything running again and ready=200."""
    yield stack
    stack.up()
    stack.wait_status("/api/ready", lambda r: r.status_code == 200 and r.json()["data"]["status"] == "UP",
                      timeout=60)
    # /api/ready was one worker's answer: a worker that found Redis down tries it again only
    # after redis_retry_interval_ms (1 s), and until then answers 503 where it needs Redis
    time.sleep(1.2)


def debug_endpoints_expected():
    return os.environ.get("BOXOFFICE_DEBUG_ENDPOINTS", "").lower() in ("on", "1", "yes", "true")


def pretty(obj):
    return json.dumps(obj, indent=1)[:2000]
