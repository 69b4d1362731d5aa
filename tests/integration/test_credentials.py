"""Credential rotation on the real local stack (issue 15, item 1).

The daemon reads its MySQL password from mysql_password_file at start and at every reload.
After the password changes in MariaDB and in that file, a SIGHUP rolls the workers onto the
new credential, and no request fails while they roll: the old workers finish on connections
that logged in before the change, the new ones log in with the new password.

The stack's config holds the password inline (scripts/stack renders it); the fixture
switches it to a password file for these tests and puts everything back afterwards.
"""
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import assert_success_envelope
from openapi_check import admin_sql

USER_HOSTS = ("localhost", "127.0.0.1")  # scripts/stack creates both


class Rotation:
    def __init__(self, stack):
        self.stack = stack
        env = stack.env
        self.conf = Path(env["BOXOFFICE_APP_CONF"])
        self.user = env["BOXOFFICE_MYSQL_USER"]
        self.original = env["BOXOFFICE_MYSQL_PASSWORD"]
        self.secret = Path(env["BOXOFFICE_RUN_DIR"]) / "app" / "credentials-test" / "mysql_password"
        self.conf_text = self.conf.read_text()

    def sql(self, statement):
        return admin_sql(self.stack.env, statement)

    def set_db_password(self, password):
        for host in USER_HOSTS:
            self.sql(f"ALTER USER '{self.user}'@'{host}' IDENTIFIED BY '{password}'")

    def write_secret(self, text):
        """Write-then-rename, as boxoffice-refresh-credentials does: never half a file."""
        self.secret.parent.mkdir(mode=0o700, exist_ok=True)
        tmp = self.secret.with_suffix(".tmp")
        tmp.write_text(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.secret)

    def use_secret_file(self):
        # The rendered example also carries an empty "mysql_password_file =" line; drop it, or
        # the later, empty value would win.
        text = re.sub(r"^mysql_password_file *=.*\n", "", self.conf_text, flags=re.M)
        text, n = re.subn(r"^mysql_password *=.*$", f"mysql_password_file = {self.secret}", text,
                          count=1, flags=re.M)
        assert n == 1, "the stack's config has no mysql_password line"
        self.conf.write_text(text)

    def kill_app_connections(self):
        ids = self.sql(f"SELECT id FROM information_schema.processlist WHERE user = '{self.user}'").split()
        for i in ids:
            subprocess.run(["mariadb", "--no-defaults", f"--socket={self.stack.env['BOXOFFICE_MYSQL_SOCKET']}",
                            f"--user={self.stack.env['BOXOFFICE_MYSQL_ADMIN_USER']}", "-e", f"KILL CONNECTION {i}"],
                           capture_output=True, timeout=30)
        return len(ids)

    def hup_and_wait_roll(self):
        """SIGHUP (systemctl reload) and wait until every worker of before has been replaced."""
        before = set(self.stack.wait_workers(1))
        os.kill(self.stack.master_pid(), signal.SIGHUP)
        deadline = time.monotonic() + 45
        after = set()
        while time.monotonic() < deadline:
            after = set(self.stack.workers())
            if len(after) >= len(before) and not after & before:
                return before, after
            time.sleep(0.05)
        raise AssertionError(f"workers not rolled: before {sorted(before)}, after {sorted(after)}")

    def ready(self):
        return self.stack.get("/api/ready").status_code


@pytest.fixture
def rotation(stack):
    rot = Rotation(stack)
    rot.write_secret(rot.original + "\n")
    rot.use_secret_file()
    try:
        rot.hup_and_wait_roll()
        stack.wait_status("/api/ready", 200, timeout=30)
        yield rot
    finally:
        rot.set_db_password(rot.original)
        rot.conf.write_text(rot.conf_text)
        rot.hup_and_wait_roll()
        stack.wait_status("/api/ready", 200, timeout=60)
        if rot.secret.exists():
            rot.secret.unlink()


def _event(stack):
    r = stack.request("POST", "/api/events",
                      headers={"Authorization": f"Bearer {stack.env['BOXOFFICE_ADMIN_TOKEN']}"},
                      json={"eventName": f"rotation-{uuid.uuid4().hex[:8]}", "totalSeats": 100000,
                            "eventDate": "2099-06-01T20:00:00Z"})
    return assert_success_envelope(r, 201)["data"]["id"]


def _load(stack, event_id, stop, results, n):
    """Reads and reservations that all need the database, until `stop` (bounded by the caller)."""
    i = 0
    with requests.Session() as s:
        while not stop.is_set():
            i += 1
            try:
                if i % 3 == 0:
                    r = s.post(stack.url + "/api/reservations", timeout=15,
                               json={"eventId": event_id, "userId": f"rot-{n}-{i}", "quantity": 1})
                    results.append((r.status_code == 201, r.status_code, r.text[:160]))
                else:
                    path = "/api/ready" if i % 3 == 1 else "/api/reservations/user/rot-0-3"
                    r = s.get(stack.url + path, timeout=15)
                    results.append((r.status_code == 200, r.status_code, r.text[:160]))
            except requests.RequestException as e:
                results.append((False, None, repr(e)))


def test_sighup_rolls_workers_onto_a_rotated_password_with_no_failed_request(rotation):
    stack = rotation.stack
    event_id = _event(stack)
    new_password = "rotated-" + uuid.uuid4().hex
    stop = threading.Event()
    results = []
    threads = [threading.Thread(target=_load, args=(stack, event_id, stop, results, n)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        # The rotation as production does it: the database, then the file, then the reload.
        rotation.set_db_password(new_password)
        rotation.write_secret(new_password + "\n")
        before, after = rotation.hup_and_wait_roll()
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    failed = [r for r in results if not r[0]]
    assert len(results) > 100, f"only {len(results)} requests were made"
    assert not failed, f"{len(failed)} of {len(results)} requests failed during the roll: {failed[:5]}"
    print(f"rotation: {len(results)} requests through the roll, 0 failed; "
          f"workers {sorted(before)} -> {sorted(after)}")

    # The new workers really hold the new password: with every connection of the app user
    # gone, they must log in again, and only the new password lets them.
    killed = rotation.kill_app_connections()
    assert killed >= 1
    for _ in range(20):
        assert stack.get("/api/ready").status_code == 200
    r = stack.request("POST", "/api/reservations", json={"eventId": event_id, "userId": "after-rot", "quantity": 1})
    assert_success_envelope(r, 201)


def test_without_a_reload_reconnects_fail_and_the_reload_repairs_them(rotation):
    """The failure the issue describes (a rotated secret, no refresh), and its repair by SIGHUP.
    It also shows that the check above can fail: stale workers cannot log in again."""
    stack = rotation.stack
    new_password = "rotated-" + uuid.uuid4().hex
    rotation.set_db_password(new_password)      # the database rotated; the file did not
    rotation.kill_app_connections()
    statuses = [rotation.ready() for _ in range(8)]
    assert 503 in statuses, f"workers with the old password still got in: {statuses}"
    assert stack.get("/api/health").status_code == 200, "liveness does not call the database"
    rotation.write_secret(new_password + "\n")
    rotation.hup_and_wait_roll()
    stack.wait_status("/api/ready", 200, timeout=30)
    rotation.kill_app_connections()
    assert all(rotation.ready() == 200 for _ in range(8))


def test_an_empty_secret_file_keeps_the_running_workers(rotation):
    """A half-written (empty) file fails the reload: the old config and workers stay."""
    stack = rotation.stack
    rotation.write_secret("")
    before = set(stack.wait_workers(1))
    log = Path(stack.env["BOXOFFICE_APP_LOG"])
    size = log.stat().st_size
    os.kill(stack.master_pid(), signal.SIGHUP)
    deadline = time.monotonic() + 10
    tail = ""
    while time.monotonic() < deadline and "reload failed" not in tail:
        time.sleep(0.1)
        with open(log, errors="replace") as f:
            f.seek(size)
            tail = f.read()
    assert "reload failed" in tail and "mysql_password_file" in tail and "is empty" in tail, tail[-500:]
    assert set(stack.workers()) == before, "a failed reload must not roll the workers"
    assert stack.get("/api/ready").status_code == 200
    rotation.write_secret(rotation.original + "\n")
