"""nginx's per-client-address rate limits (issue 12, item 4, nginx's half): over the rate, 429
RATE_LIMITED in the error envelope with Retry-After, from nginx; another address is not limited;
the limit recovers; X-Forwarded-For names the client only when a trusted proxy sent it.

The stack runs with the limits off (the functional tests come from one address), so this module
restarts the stack's nginx with them on, at low rates, and restarts it as it was afterwards. The
client addresses come from TEST-NET-2 (198.51.100.0/24) in X-Forwarded-For, which the local
stack believes from 127.0.0.1 only, as production believes it from the ALB's subnets."""
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import assert_error_envelope
from openapi_check import api, expect, scoped_environ  # noqa: F401 (api is a fixture)
from test_overload import SourceAddressAdapter, log_lines, log_size

RATES = {"BOXOFFICE_NGINX_RATE_LIMIT": "on", "BOXOFFICE_NGINX_RATE_WRITES": "2r/s",
         "BOXOFFICE_NGINX_BURST_WRITES": "3", "BOXOFFICE_NGINX_RATE_API": "20r/s",
         "BOXOFFICE_NGINX_BURST_API": "30"}


def restart_nginx(stack, env):
    stack.stop_pid(stack.env["BOXOFFICE_NGINX_PID_FILE"], signal.SIGTERM, timeout=30)
    with scoped_environ(env):
        stack.up()


@pytest.fixture(scope="module")
def limited(stack):
    off = {k: os.environ.get(k) for k in RATES}        # as the stack was started
    restart_nginx(stack, RATES)
    text = (Path(stack.run_dir) / "nginx" / "boxoffice-site.conf").read_text()
    assert 'map "on" $boxoffice_client_key' in text and "rate=2r/s" in text
    yield stack
    restart_nginx(stack, off)


def address():
    return f"198.51.100.{1 + uuid.uuid4().int % 250}"


def burst_of_writes(stack, n, client, rid):
    """n reservation POSTs at once from one client address; (responses, seconds between the
    first and the last send)."""
    out, sent = [None] * n, [0.0] * n
    gate = threading.Barrier(n + 1)

    def one(i):
        s = requests.Session()
        gate.wait()
        sent[i] = time.monotonic()
        out[i] = s.post(stack.url + "/api/reservations", timeout=30,
                        json={"eventId": 1, "userId": "", "quantity": 1},   # a 400 is enough
                        headers={"X-Forwarded-For": client, "X-Request-Id": f"{rid}-{i}"})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    gate.wait()
    for t in threads:
        t.join(60)
    return out, max(sent) - min(sent)


def test_over_the_rate_nginx_answers_429_and_it_recovers(limited, api):
    stack = limited
    client = address()
    rid = f"rl-{uuid.uuid4().hex[:10]}"
    ng = Path(stack.env["BOXOFFICE_NGINX_ACCESS_LOG"]).parent
    since = log_size(ng / "boxoffice.shed.log")
    rs, spread = burst_of_writes(stack, 12, client, rid)
    codes = [r.status_code for r in rs]
    limited_ = [r for r in rs if r.status_code == 429]
    passed = [r for r in rs if r.status_code != 429]
    # 2 r/s with a burst of 3: four at once, and one more per half second the burst took
    assert 1 <= len(passed) <= 4 + int(spread * 2) + 1, (codes, spread)
    assert len(limited_) >= 12 - (4 + int(spread * 2) + 1), (codes, spread)
    for r in passed:
        expect(r, 400, "INVALID_REQUEST")                   # the daemon answered these
    for r in limited_:
        body = expect(r, 429, "RATE_LIMITED")
        assert r.headers["Retry-After"] == "1" and r.headers["X-Request-Id"].startswith(rid)
        assert "address" in body["error"]["message"]
    # another address is not limited, nor are the cached reads of the limited one
    other = requests.post(stack.url + "/api/reservations", json={"eventId": 1, "userId": "", "quantity": 1},
                          headers={"X-Forwarded-For": address()}, timeout=30)
    expect(other, 400, "INVALID_REQUEST")
    ev = api.create_event(totalSeats=3)
    for _ in range(5):
        expect(api.call("GET", f"/api/events/{ev['id']}", headers={"X-Forwarded-For": client}), 200)
    # the limited address gets through again once its burst has drained (2 per second)
    deadline = time.monotonic() + 15
    while True:
        r = requests.post(stack.url + "/api/reservations", json={"eventId": 1, "userId": "", "quantity": 1},
                          headers={"X-Forwarded-For": client}, timeout=30)
        if r.status_code != 429 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(r, 400, "INVALID_REQUEST")
    # the refusals are in the shed log, under the client's address
    shed = log_lines(ng / "boxoffice.shed.log", rid, since)
    assert len(shed) == len(limited_), shed
    assert all(s["status"] == 429 and s["limitReq"] == "REJECTED" and s["remote"] == client for s in shed), shed


def test_forwarded_for_is_believed_from_trusted_proxies_only(limited):
    stack = limited
    client = address()
    rs, _ = burst_of_writes(stack, 10, client, f"rl-{uuid.uuid4().hex[:10]}")
    assert any(r.status_code == 429 for r in rs), [r.status_code for r in rs]
    # The same X-Forwarded-For from 127.0.0.2, which is no trusted proxy: nginx keys the limit
    # on the peer's address, so this client's exhausted budget does not apply ...
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter("127.0.0.2"))
    r = s.post(stack.url + "/api/reservations", json={"eventId": 1, "userId": "", "quantity": 1},
               headers={"X-Forwarded-For": client}, timeout=30)
    expect(r, 400, "INVALID_REQUEST")
    # ... and a client cannot pick its address to escape its own limit either
    codes = []
    for i in range(8):
        r = s.post(stack.url + "/api/reservations", json={"eventId": 1, "userId": "", "quantity": 1},
                   headers={"X-Forwarded-For": f"198.51.100.{i}"}, timeout=30)
        codes.append(r.status_code)
        if r.status_code == 429:
            break
    assert 429 in codes, codes
    assert_error_envelope(r, 429, "RATE_LIMITED")
