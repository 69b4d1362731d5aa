"""Holds (issue 12): "hold": true keeps the seats until expiresAt; confirm makes them CONFIRMED;
a hold that runs out gives its seats back exactly once, whoever gets there first (the sweeper,
the reservation path, a confirm or a cancel racing it). The daemon runs with hold_ttl_s = 2 here."""
import os
import threading
import time

import pytest

from openapi_check import api, expect, parse_ts, restart_daemon, tag  # noqa: F401 (api is a fixture)

TTL = 2


@pytest.fixture(scope="module")
def short_holds(stack):
    before = os.environ.get("BOXOFFICE_HOLD_TTL_S")
    restart_daemon(stack, hold_ttl_s=TTL)
    yield stack
    restart_daemon(stack, hold_ttl_s=before)


def hold(api, event_id, user, qty, **kw):
    return api.call("POST", "/api/reservations", json={"eventId": event_id, "userId": user, "quantity": qty,
                                                        "hold": True}, check=False, **kw)


def expires_in(res):
    return (parse_ts(res["expiresAt"]) - parse_ts(res["createdAt"])).total_seconds()


def audit(api, res_id, action):
    return int(api.sql_value(f"SELECT COUNT(*) FROM reservation_audit WHERE reservation_id = {int(res_id)} "
                             f"AND action = '{action}'"))


def test_hold_then_confirm(api, short_holds):
    ev = api.create_event(totalSeats=10)
    res = expect(hold(api, ev["id"], f"h-{tag()}", 3), 201)["data"]
    assert res["status"] == "HELD" and res["reservationId"] == res["id"]
    assert abs(expires_in(res) - TTL) < 0.01, res
    assert api.event(ev["id"])["availableSeats"] == 7
    done = api.expect("POST", f"/api/reservations/{res['id']}/confirm", 200, json={"paymentRef": "pay-42"})
    assert done["data"]["status"] == "CONFIRMED" and done["data"]["paymentRef"] == "pay-42"
    # confirming again answers the same, and nothing expires it any more
    api.expect("POST", f"/api/reservations/{res['id']}/confirm", 200)
    time.sleep(TTL + 1.5)
    assert api.expect("GET", f"/api/reservations/{res['id']}", 200)["data"]["status"] == "CONFIRMED"
    assert api.assert_consistent(ev["id"]) == (7, 3)


def test_a_hold_runs_out_and_its_seats_come_back_once(api, short_holds):
    ev = api.create_event(totalSeats=5, perUserLimit=5)
    user = f"h-{tag()}"
    res = expect(hold(api, ev["id"], user, 5), 201)["data"]
    expect(api.reserve(ev["id"], f"o-{tag()}", 1, check=False), 409, "INSUFFICIENT_SEATS")
    deadline = time.monotonic() + TTL + 5
    while time.monotonic() < deadline and api.event(ev["id"])["availableSeats"] != 5:
        time.sleep(0.2)
    assert api.event(ev["id"])["availableSeats"] == 5
    assert api.expect("GET", f"/api/reservations/{res['id']}", 200)["data"]["status"] == "EXPIRED"
    api.expect("POST", f"/api/reservations/{res['id']}/confirm", 409, "HOLD_EXPIRED")
    api.expect("DELETE", f"/api/reservations/{res['id']}", 409, "HOLD_EXPIRED")
    assert audit(api, res["id"], "EXPIRE") == 1
    # the user's tally is back too: they may hold the whole event again
    expect(hold(api, ev["id"], user, 5), 201)
    assert api.assert_consistent(ev["id"]) == (0, 5)


def test_a_hold_can_be_cancelled(api, short_holds):
    ev = api.create_event(totalSeats=10)
    res = expect(hold(api, ev["id"], f"h-{tag()}", 4), 201)["data"]
    done = api.expect("DELETE", f"/api/reservations/{res['id']}", 200)["data"]
    assert done["status"] == "CANCELLED"
    time.sleep(TTL + 1.5)
    assert audit(api, res["id"], "EXPIRE") == 0
    assert api.assert_consistent(ev["id"]) == (10, 0)


@pytest.mark.parametrize("racer", ["confirm", "cancel"])
def test_racing_the_expiry_never_returns_seats_twice(api, short_holds, racer):
    """Fire confirms (or cancels) around the moment of expiry, many at once, while the sweeper runs:
    each hold ends CONFIRMED/CANCELLED or EXPIRED, and its seats come back at most once."""
    ev = api.create_event(totalSeats=60, perUserLimit=60)
    holds = [expect(hold(api, ev["id"], f"race-{i}-{tag()}", 2), 201)["data"] for i in range(20)]
    results = {}

    def fire(res, at):
        time.sleep(max(0, at - time.monotonic()))
        if racer == "confirm":
            r = api.call("POST", f"/api/reservations/{res['id']}/confirm", check=False)
        else:
            r = api.call("DELETE", f"/api/reservations/{res['id']}", check=False)
        results[res["id"]] = r.status_code

    start = time.monotonic()
    # spread over the last 0.3 s before expiry and the first 0.3 s after
    threads = [threading.Thread(target=fire, args=(h, start + TTL - 0.3 + 0.03 * i)) for i, h in
               enumerate(holds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    time.sleep(1.5)     # one more sweep for any that lost nobody's race
    for h in holds:
        status = api.expect("GET", f"/api/reservations/{h['id']}", 200)["data"]["status"]
        code = results[h["id"]]
        won = "CONFIRMED" if racer == "confirm" else "CANCELLED"
        assert (code, status) in ((200, won), (409, "EXPIRED")), (h["id"], code, status)
        back = audit(api, h["id"], "EXPIRE") + audit(api, h["id"], "CANCEL")
        assert back == (0 if status == "CONFIRMED" else 1), (h["id"], status, back)
    kept = sum(2 for h in holds if results[h["id"]] == 200 and racer == "confirm")
    assert api.assert_consistent(ev["id"]) == (60 - kept, kept)
