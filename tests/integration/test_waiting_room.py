"""The virtual waiting room (issue 11): join, the shared poll, admission, and reservations that
need an admission token, on the real stack. Tokens are forged here with Python's hmac to prove the
daemon checks every part of them."""
import base64
import hashlib
import hmac
import signal
import threading
import time

import pytest

from openapi_check import api, expect, restart_daemon, tag  # noqa: F401 (api is a fixture)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(secret, body):
    return body + "." + b64url(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def ticket(secret, event_id, number, user):
    return sign(secret, f"t1.{event_id}.{number}.{b64url(user.encode())}")


def admission(secret, event_id, number, user, expires):
    return sign(secret, f"a1.{event_id}.{number}.{int(expires)}.{b64url(user.encode())}")


def room_event(api, rate=1000, seats=20, **kw):
    ev = api.create_event(totalSeats=seats, **kw)
    body = api.admin("PUT", f"/api/events/{ev['id']}", 200,
                     json={"waitingRoom": {"enabled": True, "admitPerSecond": rate}})
    assert body["data"]["waitingRoom"] == {"enabled": True, "admitPerSecond": rate}
    return ev


def join(api, event_id, user):
    return api.expect("POST", f"/api/events/{event_id}/queue", 201, json={"userId": user})["data"]


def poll(api, event_id):
    return api.expect("GET", f"/api/events/{event_id}/queue", 200)["data"]


def admit(api, event_id, t, timeout=15):
    """Poll the admission until it is granted (the serving number moves once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.call("POST", f"/api/events/{event_id}/queue/admission", json={"ticket": t}, check=False)
        if r.status_code != 409 or time.monotonic() > deadline:
            return expect(r, 201)["data"]
        expect(r, 409, "NOT_YET_SERVED")
        time.sleep(0.2)


def reserve(api, event_id, user, token, qty=1):
    h = {"X-Admission-Token": token} if token is not None else {}
    return api.call("POST", "/api/reservations", json={"eventId": event_id, "userId": user,
                                                        "quantity": qty}, headers=h, check=False)


def test_turn_on_and_off_and_what_get_shows(api):
    ev = api.create_event(totalSeats=10)
    assert api.event(ev["id"])["waitingRoom"] == {"enabled": False, "admitPerSecond": 0}
    api.expect("POST", f"/api/events/{ev['id']}/queue", 404, "NOT_FOUND", json={"userId": "u"})
    room_event_id = room_event(api, rate=5)["id"]
    assert api.event(room_event_id)["waitingRoom"] == {"enabled": True, "admitPerSecond": 5}
    off = api.admin("PUT", f"/api/events/{room_event_id}", 200, json={"waitingRoom": {"enabled": False}})
    assert off["data"]["waitingRoom"]["enabled"] is False
    for bad in ({"enabled": True}, {"enabled": "yes"}, {"enabled": True, "admitPerSecond": 0}, [1], 3):
        api.admin("PUT", f"/api/events/{room_event_id}", 400, "INVALID_REQUEST", json={"waitingRoom": bad})


def test_join_twice_gives_the_same_ticket_and_numbers_follow_join_order(api):
    ev = room_event(api, rate=1)
    users = [f"fifo-{i}-{tag()}" for i in range(5)]
    tickets = [join(api, ev["id"], u) for u in users]
    assert [t["number"] for t in tickets] == sorted(t["number"] for t in tickets)
    assert len({t["number"] for t in tickets}) == 5
    again = join(api, ev["id"], users[2])
    assert again["ticket"] == tickets[2]["ticket"] and again["number"] == tickets[2]["number"]
    assert all(t["pollAfterMs"] >= 1000 for t in tickets)


def test_the_poll_is_the_same_for_everyone_and_cacheable(api):
    ev = room_event(api, rate=1000)
    join(api, ev["id"], f"p-{tag()}")
    r = api.call("GET", f"/api/events/{ev['id']}/queue")
    body = expect(r, 200)["data"]
    assert set(body) == {"serving", "issued", "admitPerSecond", "soldOut"}
    assert body["admitPerSecond"] == 1000 and body["soldOut"] is False and body["issued"] >= 1
    assert r.headers.get("Cache-Control") == "public, max-age=1"     # one header, not also no-store


def test_admission_comes_in_turn(api):
    ev = room_event(api, rate=1)
    users = [f"turn-{i}-{tag()}" for i in range(4)]
    tickets = [join(api, ev["id"], u)["ticket"] for u in users]
    # the last one is at least a couple of seconds away at one admission per second
    r = api.call("POST", f"/api/events/{ev['id']}/queue/admission", json={"ticket": tickets[-1]},
                 check=False)
    expect(r, 409, "NOT_YET_SERVED")
    assert int(r.headers["Retry-After"]) >= 1
    granted = [admit(api, ev["id"], t, timeout=20) for t in tickets]
    assert all(g["admissionToken"].startswith("a1.") for g in granted)


def test_forged_and_foreign_tickets_are_403(api, stack):
    ev, other = room_event(api), room_event(api)
    secret = stack.env["BOXOFFICE_ADMISSION_SECRET"]
    mine = join(api, other["id"], f"f-{tag()}")["ticket"]
    for t in (ticket("x" * 40, ev["id"], 1, "mallory"), mine, mine[:-2] + "AA", "t1.1.1.bWU.x", "nonsense",
              ticket(secret, ev["id"], 1, "m") + "x"):
        api.expect("POST", f"/api/events/{ev['id']}/queue/admission", 403, "FORBIDDEN", json={"ticket": t})


def test_reservations_need_a_valid_admission(api, stack):
    ev = room_event(api, rate=1000, seats=20, maxPerRequest=2, perUserLimit=10)
    other = room_event(api, rate=1000)
    secret = stack.env["BOXOFFICE_ADMISSION_SECRET"]
    user = f"adm-{tag()}"
    token = admit(api, ev["id"], join(api, ev["id"], user)["ticket"])["admissionToken"]
    number = int(token.split(".")[2])
    far = time.time() + 600
    refused = {
        "none": None,
        "forged": admission("y" * 40, ev["id"], number, user, far),
        "expired": admission(secret, ev["id"], number, user, time.time() - 1),
        "another user's": admission(secret, ev["id"], number, "somebody-else", far),
        "another event's": admission(secret, other["id"], number, user, far),
        "tampered": token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
    }
    for what, t in refused.items():
        r = reserve(api, ev["id"], user, t)
        assert r.status_code == 403, (what, r.status_code, r.text)
        expect(r, 403, "ADMISSION_REQUIRED")
    assert api.sold(ev["id"]) == 0
    # a valid token: at most admission_max_uses (3) reservations
    for _ in range(3):
        expect(reserve(api, ev["id"], user, token), 201)
    expect(reserve(api, ev["id"], user, token), 403, "ADMISSION_REQUIRED")
    assert api.sold(ev["id"]) == 3


def test_sold_out_is_announced_to_everyone_at_once(api):
    ev = room_event(api, rate=1000, seats=2)
    user = f"so-{tag()}"
    token = admit(api, ev["id"], join(api, ev["id"], user)["ticket"])["admissionToken"]
    expect(reserve(api, ev["id"], user, token, qty=2), 201)
    deadline = time.monotonic() + 5
    while not poll(api, ev["id"])["soldOut"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert poll(api, ev["id"])["soldOut"] is True


def test_a_stale_cache_cannot_skip_the_queue(api):
    """The room turned on behind the cache's back: the transaction still asks for admission."""
    ev = api.create_event(totalSeats=10)
    expect(reserve(api, ev["id"], f"s-{tag()}", None), 201)      # caches the event, room off
    api.sql(f"UPDATE events SET waiting_room = 1, admit_per_second = 10 WHERE id = {ev['id']}")
    expect(reserve(api, ev["id"], f"s-{tag()}", None), 403, "ADMISSION_REQUIRED")
    assert api.sold(ev["id"]) == 1


def test_the_serving_number_survives_a_daemon_restart(api, stack):
    ev = room_event(api, rate=1)
    for i in range(3):
        join(api, ev["id"], f"r-{i}-{tag()}")
    time.sleep(2.2)
    before = poll(api, ev["id"])["serving"]
    assert before >= 1
    restart_daemon(stack)
    after = poll(api, ev["id"])["serving"]
    assert after >= before


def test_redis_down_closes_the_door_but_admitted_buyers_get_in(api, healthy_stack):
    ev = room_event(api, rate=1000)
    user = f"rd-{tag()}"
    token = admit(api, ev["id"], join(api, ev["id"], user)["ticket"])["admissionToken"]
    queued = join(api, ev["id"], f"queued-{tag()}")["ticket"]
    healthy_stack.stop_pid(healthy_stack.env["BOXOFFICE_REDIS_PID_FILE"], signal.SIGTERM)
    api.expect("POST", f"/api/events/{ev['id']}/queue", 503, "SERVICE_UNAVAILABLE",
               json={"userId": f"late-{tag()}"})
    api.expect("POST", f"/api/events/{ev['id']}/queue/admission", 503, "SERVICE_UNAVAILABLE",
               json={"ticket": queued})
    expect(reserve(api, ev["id"], user, token), 201)
    expect(reserve(api, ev["id"], f"nobody-{tag()}", None), 403, "ADMISSION_REQUIRED")


def test_many_join_at_once_and_every_number_is_distinct(api):
    ev = room_event(api, rate=1000)
    numbers, lock = [], threading.Lock()

    def one(i):
        n = join(api, ev["id"], f"crowd-{i}-{tag()}")["number"]
        with lock:
            numbers.append(n)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(numbers) == list(range(1, 41))
