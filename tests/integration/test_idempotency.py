"""Idempotency-Key on POST /api/reservations (issue 3, section 5): replay, conflicting body, concurrent
duplicates (exactly one reservation), key validation. Every response is validated against
docs/api/openapi.yaml."""

import os
import time

import pytest

from openapi_check import api, expect, parallel, restart_daemon, tag  # noqa: F401 (api is a fixture)


def rows_for(api, event_id, user):
    return api.sql(f"SELECT id, quantity, status FROM reservations WHERE event_id={int(event_id)} "
                   f"AND user_id='{user}' ORDER BY id")


def test_replay_returns_the_stored_response(api):
    ev = api.create_event(totalSeats=10, maxPerRequest=4)
    user, key = f"idem-{tag()}", f"key-{tag()}"
    first = api.reserve(ev["id"], user, 3, key=key)
    body1 = expect(first, 201)
    for _ in range(3):
        again = api.reserve(ev["id"], user, 3, key=key)
        body = expect(again, 201)
        assert body["data"] == body1["data"], (body, body1)
    assert rows_for(api, ev["id"], user) == [[str(body1["data"]["id"]), "3", "CONFIRMED"]]
    assert api.assert_consistent(ev["id"]) == (7, 3)


def test_same_key_different_body_is_422(api):
    ev = api.create_event(totalSeats=10, maxPerRequest=4)
    other = api.create_event(totalSeats=10, maxPerRequest=4)
    user, key = f"idem-{tag()}", f"key-{tag()}"
    res = api.reserved(ev["id"], user, 2, key=key)
    api.expect("POST", "/api/reservations", 422, "IDEMPOTENCY_CONFLICT",
               json={"eventId": ev["id"], "userId": user, "quantity": 1}, headers={"Idempotency-Key": key})
    api.expect("POST", "/api/reservations", 422, "IDEMPOTENCY_CONFLICT",
               json={"eventId": other["id"], "userId": user, "quantity": 2}, headers={"Idempotency-Key": key})
    assert api.sold(ev["id"]) == 2 and api.sold(other["id"]) == 0
    # the original still replays
    assert api.reserved(ev["id"], user, 2, key=key)["id"] == res["id"]


def test_key_of_another_user_never_returns_their_reservation(api):
    ev = api.create_event(totalSeats=10)
    key = f"shared-{tag()}"
    mine = api.reserved(ev["id"], f"u1-{tag()}", 1, key=key)
    r = api.reserve(ev["id"], f"u2-{tag()}", 1, key=key)
    assert r.status_code in (201, 422), r.text
    if r.status_code == 201:
        assert expect(r, 201)["data"]["id"] != mine["id"]
    else:
        expect(r, 422, "IDEMPOTENCY_CONFLICT")


def test_replay_after_cancel_returns_the_same_reservation(api):
    ev = api.create_event(totalSeats=5)
    user, key = f"idem-{tag()}", f"key-{tag()}"
    res = api.reserved(ev["id"], user, 1, key=key)
    api.expect("DELETE", f"/api/reservations/{res['id']}", 200)
    again = api.reserve(ev["id"], user, 1, key=key)
    assert expect(again, 201)["data"]["id"] == res["id"]
    assert len(rows_for(api, ev["id"], user)) == 1
    assert api.assert_consistent(ev["id"]) == (5, 0)


def test_replay_after_the_event_sold_out_returns_the_stored_reservation(api):
    """A new request does not look its key up before the transaction (the unique key decides);
    a retry that the gate or the transaction refuses must still find its committed twin: the
    retry of a reservation that took the last seats gets its 201, not 409 sold out; the same
    key with another body gets 422; the seats and the gate stay right."""
    ev = api.create_event(totalSeats=3, maxPerRequest=3)
    user, key = f"idem-{tag()}", f"key-{tag()}"
    res = api.reserved(ev["id"], user, 3, key=key)
    api.expect("POST", "/api/reservations", 409, "INSUFFICIENT_SEATS",
               json={"eventId": ev["id"], "userId": f"late-{tag()}", "quantity": 1})
    for _ in range(2):
        assert api.reserved(ev["id"], user, 3, key=key)["id"] == res["id"]
    api.expect("POST", "/api/reservations", 422, "IDEMPOTENCY_CONFLICT",
               json={"eventId": ev["id"], "userId": user, "quantity": 1}, headers={"Idempotency-Key": key})
    assert len(rows_for(api, ev["id"], user)) == 1
    assert api.assert_consistent(ev["id"]) == (0, 3)


def test_replay_at_the_per_user_limit_returns_the_stored_reservation(api):
    """The retry's own transaction fails the per-user limit (its seats on top of the first
    request's): it finds the first request and replays it; a new key is 409 LIMIT_EXCEEDED."""
    ev = api.create_event(totalSeats=10, maxPerRequest=2, perUserLimit=2)
    user, key = f"idem-{tag()}", f"key-{tag()}"
    res = api.reserved(ev["id"], user, 2, key=key)
    assert api.reserved(ev["id"], user, 2, key=key)["id"] == res["id"]
    api.expect("POST", "/api/reservations", 409, "LIMIT_EXCEEDED",
               json={"eventId": ev["id"], "userId": user, "quantity": 1},
               headers={"Idempotency-Key": f"new-{tag()}"})
    assert len(rows_for(api, ev["id"], user)) == 1
    assert api.assert_consistent(ev["id"]) == (8, 2)


def test_concurrent_duplicates_create_one_reservation(api):
    for round_ in range(3):
        ev = api.create_event(totalSeats=50, maxPerRequest=4)
        user, key = f"dup-{tag()}", f"key-{tag()}"
        results = parallel(lambda: api.reserve(ev["id"], user, 4, key=key, check=False), [()] * 16)
        ids = set()
        for r in results:
            if r.status_code == 201:
                ids.add(expect(r, 201)["data"]["id"])
            else:
                expect(r, 409, "CONCURRENT_RESERVATION")
                assert int(r.headers["Retry-After"]) >= 0
        assert len(ids) == 1, f"round {round_}: {len(ids)} distinct reservations for one key: {ids}"
        assert rows_for(api, ev["id"], user) == [[str(ids.pop()), "4", "CONFIRMED"]]
        assert api.assert_consistent(ev["id"]) == (46, 4)
        # once settled, a retry replays
        expect(api.reserve(ev["id"], user, 4, key=key, check=False), 201)
        assert api.sold(ev["id"]) == 4


def test_key_validation(api):
    ev = api.create_event(totalSeats=5)
    err = api.expect("POST", "/api/reservations", 400, "INVALID_REQUEST",
                     json={"eventId": ev["id"], "userId": f"k-{tag()}", "quantity": 1},
                     headers={"Idempotency-Key": "k" * 129})["error"]
    assert err["details"], err
    assert api.sold(ev["id"]) == 0
    longest = "k" * 100 + tag() + "~!@#$%^&*()_+-=[]{}|;:,./<>?"[:18]
    assert len(longest) == 128
    res = api.reserved(ev["id"], f"k-{tag()}", 1, key=longest)
    assert res["quantity"] == 1
    assert api.reserved(ev["id"], res["userId"], 1, key=longest)["id"] == res["id"]


@pytest.fixture
def fast_housekeeping(stack):
    """The daemon with reconcile_interval_s = 1 (housekeeping, which forgets old keys, every second)."""
    previous = os.environ.get("BOXOFFICE_RECONCILE_INTERVAL_S")
    restart_daemon(stack, reconcile_interval_s=1)
    yield
    restart_daemon(stack, reconcile_interval_s=previous)


def test_keys_are_forgotten_after_the_ttl(api, fast_housekeeping):
    """idempotency_ttl_s (24 h by default): a key older than that is forgotten, and the same key then
    makes a new reservation; a younger key still replays."""
    ev = api.create_event(totalSeats=20)
    user = f"ttl-{tag()}"
    old_key, young_key = f"old-{tag()}", f"young-{tag()}"
    old = api.reserved(ev["id"], user, 1, key=old_key)
    young = api.reserved(ev["id"], user, 1, key=young_key)
    api.sql(f"UPDATE reservations SET created_at = UTC_TIMESTAMP(3) - INTERVAL 25 HOUR WHERE id={old['id']}")
    api.sql(f"UPDATE reservations SET created_at = UTC_TIMESTAMP(3) - INTERVAL 23 HOUR WHERE id={young['id']}")
    # housekeeping runs in a worker after it has served a request: keep them busy meanwhile
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and \
            api.sql_value(f"SELECT idempotency_key FROM reservations WHERE id={old['id']}") is not None:
        for _ in range(8):
            api.expect("GET", "/api/health", 200)
        time.sleep(0.1)
    assert api.sql_value(f"SELECT idempotency_key FROM reservations WHERE id={old['id']}") is None, \
        "a key 25 h old was not forgotten within 30 s (housekeeping every 1 s)"
    assert api.sql_value(f"SELECT idempotency_key FROM reservations WHERE id={young['id']}") == young_key
    assert api.reserved(ev["id"], user, 1, key=young_key)["id"] == young["id"]
    fresh = api.reserved(ev["id"], user, 1, key=old_key)
    assert fresh["id"] != old["id"]
    assert api.expect("GET", f"/api/reservations/{old['id']}", 200)["data"]["status"] == "CONFIRMED"
    assert api.assert_consistent(ev["id"]) == (17, 3)


def test_duplicate_in_flight_is_409_with_retry_after(api):
    """White-box: the daemon marks a keyed request in flight in Redis as bo:{idem}:<len(user)>:<user>:<key> =
    "<eventId>|<userId>|<quantity>" (30 s). A marker planted by hand stands for the same request
    running on another instance: 409 CONCURRENT_RESERVATION with Retry-After; a marker of another
    body: 422. Nothing is reserved meanwhile, and once the marker is gone the request goes through."""
    ev = api.create_event(totalSeats=5, maxPerRequest=4)
    user, key = f"inf-{tag()}", f"key-{tag()}"
    marker = f"bo:{{idem}}:{len(user)}:{user}:{key}"
    api.redis("SET", marker, f"{ev['id']}|{user}|2", "PX", 20000)
    try:
        r = api.call("POST", "/api/reservations", json={"eventId": ev["id"], "userId": user, "quantity": 2},
                     headers={"Idempotency-Key": key})
        expect(r, 409, "CONCURRENT_RESERVATION")
        assert int(r.headers["Retry-After"]) >= 1, r.headers
        api.redis("SET", marker, f"{ev['id']}|{user}|3", "PX", 20000)
        api.expect("POST", "/api/reservations", 422, "IDEMPOTENCY_CONFLICT",
                   json={"eventId": ev["id"], "userId": user, "quantity": 2}, headers={"Idempotency-Key": key})
        assert api.sold(ev["id"]) == 0
    finally:
        api.redis("DEL", marker)
    res = api.reserved(ev["id"], user, 2, key=key)
    assert api.reserved(ev["id"], user, 2, key=key)["id"] == res["id"]
    assert api.redis("EXISTS", marker) == "0", "the in-flight marker outlived its request"
    assert api.assert_consistent(ev["id"]) == (3, 2)
