"""Idempotency-Key on POST /api/reservations (issue 3, section 5): replay, conflicting body, concurrent
duplicates (exactly one reservation), key validation. Every response is validated against
docs/api/openapi.yaml."""

from openapi_check import api, expect, parallel, tag  # noqa: F401 (api is a fixture)


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
