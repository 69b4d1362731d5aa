"""Readiness follows the dependencies: MariaDB down -> 503, Redis down -> 200 DEGRADED.

Each test stops one server by its pid (the stack's pid file), checks /api/ready, then brings
the stack back with scripts/stack up (which restarts only what is missing and waits for
ready=200)."""
import json
import signal
import time
import uuid
from pathlib import Path

from conftest import assert_error_envelope, assert_success_envelope
from openapi_check import Api, tag


def test_ready_503_while_mariadb_is_down_and_200_after_restart(healthy_stack):
    stack = healthy_stack
    stack.stop_pid(stack.env["BOXOFFICE_MYSQL_PID_FILE"], signal.SIGTERM, timeout=60)

    # the daemon's DB timeouts bound how long a ping can take
    r = stack.wait_status("/api/ready", 503, timeout=30)
    body = assert_error_envelope(r, 503, "SERVICE_UNAVAILABLE")
    assert r.headers.get("Retry-After"), dict(r.headers)
    details = body["error"].get("details") or {}
    if "db" in details:
        assert details["db"]["status"] == "DOWN", details
    # liveness does not depend on the database
    assert_success_envelope(stack.get("/api/health"))

    # MariaDB back (scripts/stack waits until it answers a ping, not for /api/ready). Most
    # workers still hold the connection they had before the restart: the very first request
    # after the restart must already be served, every worker must reconnect by itself.
    stack.up(wait_ready=False)
    results = []
    for _ in range(20):
        r = stack.get("/api/ready")
        results.append(r.status_code)
    assert results == [200] * 20, (
        f"/api/ready after MariaDB came back: {results} (a worker whose connection broke while "
        f"it was idle must reconnect within the request, not fail it)")
    body = assert_success_envelope(r)
    assert body["data"]["components"]["db"]["status"] == "UP", body


def test_ready_degraded_while_redis_is_down(healthy_stack):
    stack = healthy_stack
    stack.stop_pid(stack.env["BOXOFFICE_REDIS_PID_FILE"], signal.SIGTERM, timeout=30)

    r = stack.wait_status("/api/ready", lambda r: r.status_code == 200 and
                          r.json()["data"]["status"] == "DEGRADED", timeout=30)
    body = assert_success_envelope(r)
    assert body["data"]["components"]["redis"]["status"] == "DOWN", body
    assert body["data"]["components"]["db"]["status"] == "UP", body
    for _ in range(10):
        r = stack.get("/api/ready")
        assert r.status_code == 200 and r.json()["data"]["status"] == "DEGRADED", r.text

    stack.up()
    r = stack.wait_status("/api/ready", lambda r: r.status_code == 200 and
                          r.json()["data"]["status"] == "UP", timeout=60)
    assert r.json()["data"]["components"]["redis"]["status"] == "UP"


def test_a_keyed_reservation_while_mariadb_is_down_logs_why(healthy_stack):
    """The Idempotency-Key's lookup is the first query of a reservation whose event is cached:
    when MariaDB is down it fails, the client gets 503 with Retry-After, and the log line of
    that 503 names the database's error (it used to be "detail":"", found by the fault matrix)."""
    stack = healthy_stack
    api = Api(stack)
    ev = api.create_event(totalSeats=5, maxPerRequest=2)
    api.reserved(ev["id"], f"warm-{tag()}")             # the event is in the cache now
    stack.stop_pid(stack.env["BOXOFFICE_MYSQL_PID_FILE"], signal.SIGTERM, timeout=60)
    try:
        rid = "deps-" + uuid.uuid4().hex
        r = api.call("POST", "/api/reservations", check=False,
                     headers={"Idempotency-Key": uuid.uuid4().hex, "X-Request-Id": rid},
                     json={"eventId": ev["id"], "userId": f"u-{tag()}", "quantity": 1})
        assert_error_envelope(r, 503, "SERVICE_UNAVAILABLE")
        assert r.headers.get("Retry-After"), dict(r.headers)
        lines = [json.loads(line) for line in
                 Path(stack.env["BOXOFFICE_APP_LOG"]).read_text(errors="replace").splitlines()
                 if rid in line and line.startswith("{")]
        failed = [d for d in lines if d.get("status") == 503 and "detail" in d]
        assert failed, lines
        assert all(d["detail"].strip() for d in failed), failed
    finally:
        stack.up()
        api.close_created()


def test_waiting_rooms_log_a_mariadb_outage_once_a_second(healthy_stack):
    """The housekeeper moves waiting rooms ten times a second. While MariaDB is down the rooms
    cannot be listed; the housekeeper must then retry once a tick (one query and one log line a
    second), not at every step, and move the rooms again once MariaDB is back."""
    stack = healthy_stack
    api = Api(stack)
    ev = api.create_event(totalSeats=5)
    api.admin("PUT", f"/api/events/{ev['id']}", 200,
              json={"waitingRoom": {"enabled": True, "admitPerSecond": 5}})
    log_path = Path(stack.env["BOXOFFICE_APP_LOG"])
    needle = "waiting rooms not advanced"
    try:
        before = log_path.read_text(errors="replace").count(needle)
        stack.stop_pid(stack.env["BOXOFFICE_MYSQL_PID_FILE"], signal.SIGTERM, timeout=60)
        t0 = time.monotonic()
        time.sleep(6)
        lines = log_path.read_text(errors="replace").count(needle) - before
        down = time.monotonic() - t0
        assert 1 <= lines <= down + 2, (
            f"{lines} '{needle}' lines in {down:.1f}s of outage: want one a second")
    finally:
        stack.up()
    # the rooms move again: a buyer who joins now is served within a few seconds
    user = f"u-{tag()}"
    number = api.expect("POST", f"/api/events/{ev['id']}/queue", 201, json={"userId": user})["data"]["number"]
    deadline = time.monotonic() + 15
    while api.expect("GET", f"/api/events/{ev['id']}/queue", 200)["data"]["serving"] < number:
        assert time.monotonic() < deadline, "the waiting room did not move after MariaDB came back"
        time.sleep(0.3)
    api.close_created()
