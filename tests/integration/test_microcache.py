"""nginx's micro-cache (issue 11, item 2): the crowd's repeated reads of an event, of the event
lists and of a waiting room's poll reach the daemon at most once a second; per-user reads and
requests with credentials never come from the cache; a cached answer carries its own request id;
while the daemon is down, the last answer is served stale.

The daemon's own request counters (GET /api/metrics, boxoffice_http_requests_total by route) count
what reached it. The cache keeps an answer for 1 s, so the bounds below allow one fill per
started second of each burst instead of timing anything."""
import math
import signal
import threading
import time
import uuid

import pytest
import requests

from conftest import assert_error_envelope
from faultkit import metric
from openapi_check import api, expect, tag  # noqa: F401 (api is a fixture)


def daemon_count(api, route):
    """Requests the daemon answered on this route, any status (its shared counters)."""
    return metric(api, "boxoffice_http_requests_total", f'route="{route}"')


def burst(url, n, headers=None):
    """n GETs of url at once (one thread each, released together); returns the responses and the
    seconds from the release to the last answer."""
    out = [None] * n
    gate = threading.Barrier(n + 1)

    def one(i):
        s = requests.Session()
        gate.wait()
        out[i] = s.get(url, headers=headers, timeout=30)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    gate.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join(60)
    return out, time.monotonic() - t0


def room_event(api, **kw):
    ev = api.create_event(**kw)
    api.admin("PUT", f"/api/events/{ev['id']}", 200,
              json={"waitingRoom": {"enabled": True, "admitPerSecond": 5}})
    return ev


@pytest.mark.parametrize("kind", ["event", "list", "queue-poll"])
def test_a_burst_of_reads_reaches_the_daemon_about_once_a_second(api, kind):
    if kind == "event":
        ev = api.create_event(totalSeats=50)
        path, route = f"/api/events/{ev['id']}", "event_get"
    elif kind == "list":
        # a page size of its own, so that no earlier request filled this entry
        path, route = f"/api/events?size={1 + uuid.uuid4().int % 100}&sort=id,desc", "events_list"
    else:
        ev = room_event(api, totalSeats=50)
        path, route = f"/api/events/{ev['id']}/queue", "queue_poll"
    n = 40
    before = daemon_count(api, route)
    rs, elapsed = burst(api.url + path, n)
    reached = daemon_count(api, route) - before
    for r in rs:
        expect(r, 200)
        assert r.headers.get("X-Edge-Cache") in ("MISS", "HIT", "EXPIRED", "UPDATING"), dict(r.headers)
    # one fill per started second of the burst, never one per request
    assert 1 <= reached <= math.ceil(elapsed) + 1, (reached, elapsed, [r.headers["X-Edge-Cache"] for r in rs])
    assert sum(r.headers["X-Edge-Cache"] == "HIT" for r in rs) >= n // 2


def test_every_cached_answer_has_its_own_request_id(api):
    ev = api.create_event(totalSeats=5)
    path = f"/api/events/{ev['id']}"
    rs, _ = burst(api.url + path, 10)
    ids = [r.headers["X-Request-Id"] for r in rs]
    assert len(set(ids)) == len(ids), ids
    # a caller's own id comes back on a cached answer as well
    mine = f"mc-{uuid.uuid4().hex[:16]}"
    for _ in range(5):
        r = api.call("GET", path, headers={"X-Request-Id": mine})
        if r.headers["X-Edge-Cache"] == "HIT":
            break
    assert r.headers["X-Edge-Cache"] == "HIT", dict(r.headers)
    assert r.headers["X-Request-Id"] == mine
    assert expect(r, 200)["data"]["id"] == ev["id"]


def test_unknown_event_404_is_cached_and_head_has_its_own_entry(api):
    missing = 900000000 + int(uuid.uuid4().int % 99999999)
    first = api.call("GET", f"/api/events/{missing}")
    expect(first, 404, "EVENT_NOT_FOUND")
    # HEAD right after: its own entry (an answer without a body is never given to a GET)
    head = requests.head(api.url + f"/api/events/{missing}", timeout=15)
    assert head.status_code == 404 and head.content == b""
    assert head.headers.get("X-Edge-Cache") == "MISS", dict(head.headers)
    for _ in range(5):
        again = api.call("GET", f"/api/events/{missing}")
        if again.headers["X-Edge-Cache"] == "HIT":
            break
    assert again.headers["X-Edge-Cache"] == "HIT", dict(again.headers)
    assert expect(again, 404, "EVENT_NOT_FOUND")["error"]["code"] == "EVENT_NOT_FOUND"


def test_reads_with_credentials_and_per_user_reads_are_never_cached(api):
    ev = api.create_event(totalSeats=30)
    path = f"/api/events/{ev['id']}"
    # The sequence fill -> reservation -> admin read -> anonymous read has to fit in the
    # cache's second to show anything; a loaded machine gets a few tries.
    for attempt in range(10):
        filled = api.call("GET", path)
        seats = expect(filled, 200)["data"]["availableSeats"]
        res = api.reserved(ev["id"], f"mc-{tag()}", 1)
        fresh = api.call("GET", path, admin=True)
        assert fresh.headers.get("X-Edge-Cache") == "BYPASS", dict(fresh.headers)
        # the admin reads the daemon's live answer ...
        assert expect(fresh, 200)["data"]["availableSeats"] == seats - 1
        anon = api.call("GET", path)
        if anon.headers["X-Edge-Cache"] == "HIT":
            # ... which was not stored: the crowd still has the cached one until it expires
            assert expect(anon, 200)["data"]["availableSeats"] == seats
            break
    else:
        pytest.fail("no anonymous read within a second of its fill in 10 tries: is the cache on?")
    # a user's own data: reservations and user statistics are not in the cache's routes
    for p in (f"/api/reservations/{res['id']}", f"/api/reservations/user/{res['userId']}",
              f"/api/users/{res['userId']}"):
        rs = [api.call("GET", p) for _ in range(2)]
        for r in rs:
            expect(r, 200)
            assert "X-Edge-Cache" not in r.headers, (p, dict(r.headers))
    route = "reservation_get"
    before = daemon_count(api, route)
    for _ in range(3):
        expect(api.call("GET", f"/api/reservations/{res['id']}"), 200)
    assert daemon_count(api, route) - before == 3


def test_the_last_answer_is_served_while_the_daemon_is_down(api, healthy_stack):
    stack = healthy_stack
    ev = api.create_event(totalSeats=12)
    path = f"/api/events/{ev['id']}"
    cached = expect(api.call("GET", path), 200)["data"]
    master = stack.master_pid()
    stack.stop_pid(stack.env["BOXOFFICE_APP_LAUNCH_PID_FILE"], signal.SIGQUIT, timeout=60)
    assert not stack.alive(master)
    time.sleep(2.1)      # the entry is now expired (1 s, in whole seconds): only stale-if-error answers
    r = api.call("GET", path)
    assert r.headers.get("X-Edge-Cache") == "STALE", dict(r.headers)
    body = expect(r, 200)["data"]
    assert body == cached
    # nothing else is answered from a copy: the daemon's absence shows as nginx's own 502
    assert_error_envelope(api.call("GET", "/api/health", check=False), 502, "SERVICE_UNAVAILABLE")
    r = api.reserve(ev["id"], f"mc-{tag()}", 1, check=False)
    assert_error_envelope(r, 502, "SERVICE_UNAVAILABLE")
    # an event nobody read before has no copy to fall back on
    other = 900000000 + int(uuid.uuid4().int % 99999999)
    assert_error_envelope(api.call("GET", f"/api/events/{other}", check=False), 502, "SERVICE_UNAVAILABLE")
    stack.up()
    r = stack.wait_status(path, lambda r: r.headers.get("X-Edge-Cache") in ("MISS", "EXPIRED"), timeout=30)
    assert expect(r, 200)["data"]["id"] == ev["id"]
