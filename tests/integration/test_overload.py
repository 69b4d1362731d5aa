"""nginx's overload control (issue 11, item 1): nginx never has more requests in the daemon than
its in-flight limits, which derive from the daemon's workers and listen_backlog; a request over
a limit gets the 503 SERVICE_UNAVAILABLE envelope with Retry-After from nginx (never a 502), held
about four seconds, logged in the shed log and never seen by the daemon; the crowd's cached reads and
the health check are not refused meanwhile.

The API slots are taken by requests whose body has not arrived yet: nginx counts a request from
the end of its header, and waits for the body before it passes the request on, so a held slot
costs the daemon nothing and no timing is involved."""
import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import ROOT, assert_error_envelope
from faultkit import metric
from openapi_check import api, expect, tag  # noqa: F401 (api is a fixture)
from test_waiting_room import admit, join, room_event


def site(stack):
    return (Path(stack.run_dir) / "nginx" / "boxoffice-site.conf").read_text()


def site_limits(stack):
    text = site(stack)
    api_ = int(re.search(r"limit_conn boxoffice_inflight_api (\d+);", text).group(1))
    ops = int(re.search(r"limit_conn boxoffice_inflight_ops (\d+);", text).group(1))
    reads = int(re.search(r"max_conns=(\d+);", text).group(1))
    admitted = int(re.search(r"limit_conn boxoffice_inflight_admitted (\d+);", text).group(1))
    return api_, reads, ops, admitted


def app_conf(stack, key):
    text = Path(stack.env["BOXOFFICE_APP_CONF"]).read_text()
    m = re.search(rf"^{key} = (\S+)$", text, re.M)
    return m.group(1) if m else None


def nginx_status(stack):
    r = stack.get("/_boxoffice/nginx-status")
    assert r.status_code == 200, r.text
    m = re.search(r"Reading: (\d+) Writing: (\d+) Waiting: (\d+)", r.text)
    return {"reading": int(m.group(1)), "writing": int(m.group(2)), "waiting": int(m.group(3))}


def wait_for(pred, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def wait_holding(stack, base, n, what):
    """Until nginx has read the headers of n held requests: its writing count reaches base + n.
    base was read before they were sent, and a request counted in it then (another test's, in
    a lingering close) may have ended since, so that the count stops short: n + 1 or more (the
    held ones and the status request itself) that has not moved for half a second also does.
    Held requests time out after client_body_timeout (10 s): this must come well before."""
    seen = {"v": None, "since": time.monotonic()}

    def holding():
        v, now = nginx_status(stack)["writing"], time.monotonic()
        if v != seen["v"]:
            seen["v"], seen["since"] = v, now
        return v >= base + n or (v >= n + 1 and now - seen["since"] >= 0.5)
    try:
        wait_for(holding, what, timeout=8.0)
    except AssertionError as e:
        raise AssertionError(f"{e} (nginx writing: {seen['v']}; before they were sent: {base})") from None


def log_size(path):
    return Path(path).stat().st_size if Path(path).exists() else 0


def log_lines(path, needle, since=0, timeout=10.0):
    """The JSON lines of an nginx log after offset since that contain needle (the logs are
    flushed every second)."""
    deadline = time.monotonic() + timeout
    while True:
        text = ""
        if Path(path).exists():
            with open(path, "rb") as f:
                f.seek(since)
                text = f.read().decode("utf-8", "replace")
        lines = [json.loads(ln) for ln in text.splitlines() if needle in ln]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


class HeldRequest:
    """A POST whose header nginx has, and whose body it waits for: one slot of its class taken
    (api; admitted with an X-Admission-Token header in extra)."""

    def __init__(self, url, rid, extra=""):
        host, port = url.split("//")[1].split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.body = json.dumps({"eventId": 1, "userId": "", "quantity": 1}).encode()
        self.sock.sendall(b"POST /api/reservations HTTP/1.1\r\nHost: boxoffice\r\n"
                          b"Content-Type: application/json\r\n"
                          + f"Content-Length: {len(self.body)}\r\nX-Request-Id: {rid}\r\n{extra}"
                            "Connection: close\r\n\r\n".encode())

    def finish(self):
        self.sock.sendall(self.body)
        data = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        self.sock.close()
        # None: closed without an answer (nginx's client_body_timeout, when a test failed first)
        return int(data.split(b" ", 2)[1]) if data else None


def test_the_limits_derive_from_the_daemon_config(stack):
    workers = int(app_conf(stack, "workers"))
    backlog = int(app_conf(stack, "listen_backlog") or 1024)
    somaxconn = Path("/proc/sys/net/core/somaxconn").read_text().strip()
    queue = os.environ.get("BOXOFFICE_NGINX_QUEUE_PER_WORKER", "1")
    want = subprocess.run(["bash", "-c", f". '{ROOT}/scripts/lib/nginx-limits.sh'; "
                           f"bo_nginx_limits {workers} {backlog} {somaxconn} {queue}"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert site_limits(stack) == tuple(int(x) for x in want)
    api_, reads, ops, admitted = site_limits(stack)
    # what makes a 502 impossible: never more connections than half the listen queue
    assert api_ + reads + ops + admitted <= min(backlog, int(somaxconn)) // 2
    assert api_ >= workers and admitted >= api_


def test_over_the_api_limit_nginx_answers_503_and_the_daemon_never_sees_it(api, stack):
    limit, _, _, _ = site_limits(stack)
    ev = api.create_event(totalSeats=10)
    expect(api.call("GET", f"/api/events/{ev['id']}"), 200)     # the crowd's copy is there
    run = uuid.uuid4().hex[:10]
    ng = Path(stack.env["BOXOFFICE_NGINX_ACCESS_LOG"]).parent
    since = {name: log_size(ng / name) for name in ("boxoffice.access.log", "boxoffice.shed.log")}
    base = nginx_status(stack)["writing"]
    held = [HeldRequest(stack.url, f"ov-held-{run}-{i}") for i in range(limit)]
    try:
        wait_holding(stack, base, limit, f"nginx holding {limit} requests")
        before = metric(api, "boxoffice_http_requests_total", 'route="reservation_create"')
        refused = []

        def refuse(i):      # at once: each is held ~4 s, and the held slots time out at 10 s
            t0 = time.monotonic()
            r = api.call("POST", "/api/reservations", check=False, headers={"X-Request-Id": f"ov-shed-{run}-{i}"},
                         json={"eventId": ev["id"], "userId": f"ov-{tag()}", "quantity": 1})
            refused.append((r, time.monotonic() - t0))
        threads = [threading.Thread(target=refuse, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(refused) == 3, refused
        for r, secs in refused:
            body = assert_error_envelope(r, 503, "SERVICE_UNAVAILABLE")
            expect(r, 503, "SERVICE_UNAVAILABLE")            # nginx's AtCapacity in the OpenAPI document
            assert r.headers["Retry-After"] == "1"
            assert "capacity" in body["error"]["message"]
            assert secs >= 0.5, secs                         # held, so that an impatient client waits
        # an admin's request is API work too
        assert_error_envelope(api.call("GET", f"/api/events/{ev['id']}", admin=True, check=False),
                              503, "SERVICE_UNAVAILABLE")
        # the crowd's reads and the health check have slots of their own
        r = api.call("GET", f"/api/events/{ev['id']}")
        assert expect(r, 200)["data"]["id"] == ev["id"]
        assert r.headers["X-Edge-Cache"] in ("HIT", "MISS", "EXPIRED", "UPDATING")
        expect(api.call("GET", "/api/health"), 200)
        # the refused ones never reached the daemon
        assert metric(api, "boxoffice_http_requests_total", 'route="reservation_create"') == before
        assert api.sql_value(f"SELECT COUNT(*) FROM reservations WHERE event_id = {ev['id']}") == "0"
    finally:
        statuses = [h.finish() for h in held]
    # the held ones were let in: the daemon answered each (400: the body names no user)
    assert statuses == [400] * limit, statuses
    # and the next request is served again
    expect(api.call("POST", "/api/reservations", check=False,
                    json={"eventId": ev["id"], "userId": f"ov-{tag()}", "quantity": 1}), 201)
    # the refusals are in the shed log, and only there
    shed = log_lines(ng / "boxoffice.shed.log", f"ov-shed-{run}", since["boxoffice.shed.log"])
    assert len(shed) == 3, shed
    assert all(s["status"] == 503 and s["limitConn"] == "REJECTED" and s["class"] == "api" for s in shed), shed
    access = ng / "boxoffice.access.log"
    assert log_lines(access, f"ov-held-{run}-0", since[access.name])      # served: the access log
    assert not log_lines(access, f"ov-shed-{run}", since[access.name], timeout=0)


def test_admitted_buyers_have_slots_of_their_own(api, stack):
    """A crowd of joiners that fills the api class does not refuse a buyer whose number came up:
    the exchange of a served ticket and a reservation with an admission token are the admitted
    class, counted apart; that class has its own limit, and a forged token buys only a place in
    it and the daemon's 403."""
    limit, _, _, admitted_limit = site_limits(stack)
    ev = room_event(api, rate=1000, seats=10)
    buyer = f"adm-{tag()}"
    ticket = join(api, ev["id"], buyer)
    run = uuid.uuid4().hex[:10]
    ng = Path(stack.env["BOXOFFICE_NGINX_ACCESS_LOG"]).parent
    shed_since = log_size(ng / "boxoffice.shed.log")
    base = nginx_status(stack)["writing"]
    held = [HeldRequest(stack.url, f"adm-held-{run}-{i}") for i in range(limit)]
    late = {}

    def join_late():                 # refused, then held ~4 s (the held slots time out at 10 s)
        late["r"] = api.call("POST", f"/api/events/{ev['id']}/queue", check=False,
                             json={"userId": f"late-{tag()}"}, headers={"X-Request-Id": f"adm-join-{run}"})
    joiner = threading.Thread(target=join_late)
    try:
        wait_holding(stack, base, limit, f"nginx holding {limit} requests")
        # the api class is full: the next joiner is refused...
        joiner.start()
        # ...and the admitted buyer is not
        admission = admit(api, ev["id"], ticket["ticket"])
        r = api.call("POST", "/api/reservations", check=False,
                     headers={"X-Admission-Token": admission["admissionToken"]},
                     json={"eventId": ev["id"], "userId": buyer, "quantity": 1})
        assert expect(r, 201)["data"]["userId"] == buyer
        # a forged token gets past nginx, not past the daemon
        r = api.call("POST", "/api/reservations", check=False, headers={"X-Admission-Token": "a1.forged"},
                     json={"eventId": ev["id"], "userId": f"forger-{tag()}", "quantity": 1})
        expect(r, 403, "ADMISSION_REQUIRED")
    finally:
        statuses = [h.finish() for h in held]
        joiner.join(30)
    assert statuses == [400] * limit, statuses
    assert_error_envelope(late["r"], 503, "SERVICE_UNAVAILABLE")

    # the admitted class has a limit of its own
    base = nginx_status(stack)["writing"]
    token_header = "X-Admission-Token: a1.forged\r\n"
    held = [HeldRequest(stack.url, f"adm-held2-{run}-{i}", token_header) for i in range(admitted_limit)]
    try:
        wait_holding(stack, base, admitted_limit, f"nginx holding {admitted_limit} admitted requests")
        r = api.call("POST", "/api/reservations", check=False,
                     headers={"X-Admission-Token": admission["admissionToken"], "X-Request-Id": f"adm-shed-{run}"},
                     json={"eventId": ev["id"], "userId": buyer, "quantity": 1})
        assert_error_envelope(r, 503, "SERVICE_UNAVAILABLE")
        # while the api class is free again
        join(api, ev["id"], f"later-{tag()}")
    finally:
        statuses = [h.finish() for h in held]
    assert statuses == [400] * admitted_limit, statuses

    def both_shed():
        lines = log_lines(ng / "boxoffice.shed.log", f"-{run}", shed_since, timeout=0)
        return lines if len(lines) >= 2 else None
    shed = wait_for(both_shed, "both refusals in the shed log", timeout=10)
    assert sorted((s["requestId"], s["class"]) for s in shed) == [
        (f"adm-join-{run}", "api"), (f"adm-shed-{run}", "admitted")], shed
    assert api.sql_value(f"SELECT COUNT(*) FROM reservations WHERE event_id = {ev['id']} "
                         "AND status = 'CONFIRMED'") == "1"


def test_cache_fills_over_their_limit_get_503_never_502(api, stack):
    """The micro-cache's fills have their own limit (max_conns). With every responder busy, the
    fills of events nobody read before wait in the listen queue up to that limit; the rest get
    the 503 envelope, not the 502 of "no live upstreams"."""
    if os.environ.get("BOXOFFICE_DEBUG_ENDPOINTS", "").lower() not in ("on", "1", "yes", "true"):
        pytest.skip("needs the stack's debug endpoints (BOXOFFICE_DEBUG_ENDPOINTS=on)")
    _, fills, _, _ = site_limits(stack)
    workers = len(stack.workers())
    sleepers = [threading.Thread(target=requests.get, args=(stack.url + "/api/_debug/sleep?ms=2500",),
                                 kwargs={"timeout": 30}) for _ in range(workers)]
    for t in sleepers:
        t.start()
    try:
        wait_for(lambda: nginx_status(stack)["writing"] >= workers + 1, "every responder asleep")
        results = []

        def read(i):
            r = requests.get(f"{stack.url}/api/events/{800000000 + int(uuid.uuid4().int % 99999999)}",
                             timeout=30)
            results.append(r)

        readers = [threading.Thread(target=read, args=(i,)) for i in range(fills + 6)]
        for t in readers:
            t.start()
        for t in readers:
            t.join(60)
    finally:
        for t in sleepers:
            t.join(60)
    codes = sorted(r.status_code for r in results)
    assert 502 not in codes, codes
    assert codes.count(404) >= 1 and codes.count(503) >= 1, codes
    assert codes.count(404) <= fills, codes
    for r in results:
        if r.status_code == 503:
            expect(r, 503, "SERVICE_UNAVAILABLE")
            assert r.headers["Retry-After"] == "1"
        else:
            expect(r, 404, "EVENT_NOT_FOUND")


def test_nginx_status_is_for_loopback_only(stack):
    r = stack.get("/_boxoffice/nginx-status")
    assert r.status_code == 200 and r.text.startswith("Active connections:"), r.text
    assert_error_envelope(stack.get("/_boxoffice/nginx-status", headers={"X-Forwarded-For": "203.0.113.9"}),
                          403, "FORBIDDEN")
    # from another loopback address, which is neither allowed nor a trusted proxy
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter("127.0.0.2"))
    assert_error_envelope(s.get(stack.url + "/_boxoffice/nginx-status", timeout=15), 403, "FORBIDDEN")


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connections from a given local address (127.0.0.2 is loopback too, but not 127.0.0.1)."""

    def __init__(self, addr):
        self.addr = addr
        super().__init__()

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.addr, 0)
        return super().init_poolmanager(*a, **kw)
