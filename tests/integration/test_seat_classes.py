"""Seat classes with prices (issue 12): own-seat classes and the seed's shared "price" shorthand,
per-class availability, unitPrice and totalPrice, the seed's documented bodies as written, and the
per-class oversell drill (demand far above supply in every class at once, both strategies)."""
import os
import random
import threading

import pytest

from openapi_check import api, expect, future, restart_daemon, tag  # noqa: F401 (api is a fixture)


def create(api, **body):
    body.setdefault("eventName", f"classes-{tag()}")
    body.setdefault("eventDate", future(10))
    return api.admin("POST", "/api/events", 201, json=body)["data"]


def reserve(api, event_id, user, qty, seat_type=None):
    body = {"eventId": event_id, "userId": user, "quantity": qty}
    if seat_type is not None:
        body["seatType"] = seat_type
    return api.call("POST", "/api/reservations", json=body, check=False)


def by_code(ev):
    return {c["code"]: c for c in ev["seatClasses"]}


def test_classes_with_their_own_seats(api):
    ev = create(api, currency="KRW", perUserLimit=20, maxPerRequest=10,
                seatClasses=[{"code": "VIP", "price": 150000, "seats": 4},
                             {"code": "R", "price": 120000, "seats": 6}])
    assert ev["totalSeats"] == 10 and ev["currency"] == "KRW"
    assert by_code(ev) == {"VIP": {"code": "VIP", "price": 150000, "seats": 4, "availableSeats": 4},
                           "R": {"code": "R", "price": 120000, "seats": 6, "availableSeats": 6}}
    r = expect(reserve(api, ev["id"], f"u-{tag()}", 3, "VIP"), 201)["data"]
    assert (r["seatType"], r["unitPrice"], r["totalPrice"]) == ("VIP", 150000, 450000)
    # a class sells out on its own; the other still sells
    body = expect(reserve(api, ev["id"], f"u-{tag()}", 2, "VIP"), 409, "INSUFFICIENT_SEATS")
    assert body["error"]["details"]["available"] == 1
    expect(reserve(api, ev["id"], f"u-{tag()}", 6, "R"), 201)
    got = api.event(ev["id"])
    assert by_code(got)["VIP"]["availableSeats"] == 1 and by_code(got)["R"]["availableSeats"] == 0
    assert got["availableSeats"] == 1
    # the first class when seatType is left out (the seed's clients send none)
    assert expect(reserve(api, ev["id"], f"u-{tag()}", 1), 201)["data"]["seatType"] == "VIP"
    expect(reserve(api, ev["id"], f"u-{tag()}", 1, "GOLD"), 400, "INVALID_REQUEST")
    assert api.sold(ev["id"]) == 10


def test_the_seeds_documented_create_body_works_as_written(api):
    """docs/api-specification.md of the seed: venue as an object, price {vip, r, s}."""
    body = {"eventName": "2024 Winter Concert", "totalSeats": 30, "eventDate": future(30),
            "venue": {"name": "Olympic Hall", "address": "424 Olympic-ro, Seoul", "capacity": 5000},
            "price": {"vip": 150000, "r": 120000, "s": 90000}}
    ev = create(api, **body)
    assert ev["venue"] == "Olympic Hall"
    assert ev["venueDetails"] == {"name": "Olympic Hall", "address": "424 Olympic-ro, Seoul", "capacity": 5000}
    assert ev["currency"] == "KRW"
    classes = by_code(ev)
    assert [c["code"] for c in ev["seatClasses"]] == ["VIP", "R", "S"]
    assert all(c["seats"] is None and c["availableSeats"] == 30 for c in classes.values())
    # shared seats: buying S takes from everyone's pool
    r = expect(reserve(api, ev["id"], f"u-{tag()}", 2, "S"), 201)["data"]
    assert r["totalPrice"] == 180000 and r["reservationId"] == r["id"]
    assert all(c["availableSeats"] == 28 for c in by_code(api.event(ev["id"])).values())


def test_events_without_classes_are_unchanged(api):
    ev = api.create_event(totalSeats=5)
    assert ev["seatClasses"] == [] and ev["currency"] is None and ev["venueDetails"] is None
    r = expect(reserve(api, ev["id"], f"u-{tag()}", 1), 201)["data"]
    assert r["seatType"] is None and r["unitPrice"] is None and r["totalPrice"] is None
    expect(reserve(api, ev["id"], f"u-{tag()}", 1, "VIP"), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("body,field", [
    ({"seatClasses": []}, "seatClasses"),
    ({"seatClasses": [{"code": "VIP", "price": 1, "seats": 2}, {"code": "VIP", "price": 2, "seats": 2}]},
     "seatClasses"),
    ({"seatClasses": [{"code": "bad code", "price": 1, "seats": 2}]}, "seatClasses"),
    ({"seatClasses": [{"code": "A", "price": -1, "seats": 2}]}, "seatClasses"),
    ({"seatClasses": [{"code": "A", "price": 1, "seats": 2}], "totalSeats": 5}, "totalSeats"),
    ({"seatClasses": [{"code": "A", "price": 1, "seats": 5}, {"code": "B", "price": 1}], "totalSeats": 5},
     "totalSeats"),
    ({"price": {"gold": 5}, "totalSeats": 5}, "price"),
    ({"price": {"vip": 5}, "seatClasses": [{"code": "A", "price": 1, "seats": 2}]}, "price"),
    ({"price": {"vip": 5}, "totalSeats": 5, "currency": "won"}, "currency"),
    ({"venue": {"address": "no name"}, "totalSeats": 5}, "name"),
    ({"venue": 7, "totalSeats": 5}, "venue"),
])
def test_bad_class_bodies(api, body, field):
    body = dict(body, eventName=f"bad-{tag()}", eventDate=future(10))
    got = api.admin("POST", "/api/events", 400, "INVALID_REQUEST", json=body)
    assert field in got["error"]["details"], got


def test_totalseats_of_own_seat_classes_is_fixed(api):
    ev = create(api, seatClasses=[{"code": "A", "price": 1, "seats": 3}])
    got = api.admin("PUT", f"/api/events/{ev['id']}", 400, "INVALID_REQUEST", json={"totalSeats": 9})
    assert "totalSeats" in got["error"]["details"]
    shared = create(api, totalSeats=10, seatClasses=[{"code": "A", "price": 1, "seats": 3},
                                                     {"code": "B", "price": 2}])
    up = api.admin("PUT", f"/api/events/{shared['id']}", 200, json={"totalSeats": 15})["data"]
    assert up["totalSeats"] == 15 and by_code(up)["B"]["availableSeats"] == 12
    assert by_code(up)["A"]["availableSeats"] == 3


# ---------------------------------------------------------------- the per-class drill

CLASSES = [("VIP", 150000, 40), ("R", 120000, 80), ("S", 90000, 120)]


def drill(api, strategy, capsys):
    ev = create(api, currency="KRW", perUserLimit=100, maxPerRequest=4,
                seatClasses=[{"code": c, "price": p, "seats": n} for c, p, n in CLASSES])
    answers, lock = [], threading.Lock()
    rnd = random.Random(7)
    jobs = [(CLASSES[i % 3][0], rnd.randint(1, 4), f"drill-{strategy}-{i}-{tag()}") for i in range(1200)]

    def worker(part):
        for code, q, user in part:
            r = reserve(api, ev["id"], user, q, code)
            body = r.json()
            with lock:
                answers.append((code, q, r.status_code, body))

    threads = [threading.Thread(target=worker, args=(jobs[i::60],)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    api.reconcile()
    lines = []
    for code, price, seats in CLASSES:
        mine = [a for a in answers if a[0] == code]
        won = [a for a in mine if a[2] == 201]
        sold_api = sum(a[1] for a in won)
        sold_sql = int(api.sql_value(
            f"SELECT COALESCE(SUM(quantity),0) FROM reservations WHERE event_id={ev['id']} AND "
            f"seat_type='{code}' AND status='CONFIRMED'"))
        left = int(api.sql_value(f"SELECT COALESCE(SUM(available),0) FROM event_inventory WHERE "
                                 f"event_id={ev['id']} AND class_code='{code}'"))
        gate = api.redis("GET", f"bo:{{ev:{ev['id']}}}:c:{code}:avail")
        others = sorted({a[2] for a in mine} - {201, 409})
        assert not others, (code, others)
        assert all(a[3]["error"]["code"] in ("INSUFFICIENT_SEATS", "CONCURRENT_RESERVATION")
                   for a in mine if a[2] == 409)
        assert all(a[3]["data"]["totalPrice"] == price * a[1] for a in won)
        assert sold_sql == sold_api <= seats, (code, sold_sql, sold_api, seats)
        assert sold_sql + left == seats, (code, sold_sql, left, seats)
        if strategy == "gate":
            assert sold_sql == seats, (code, sold_sql, seats)     # the gate sells out exactly
            assert int(gate) == 0, (code, gate)
        lines.append(f"{code}: requests={len(mine)} 201s={len(won)} sold={sold_sql}/{seats} "
                     f"oversold={max(0, sold_sql - seats)} left={left}")
    with capsys.disabled():
        print(f"\n  per-class drill, {strategy}: " + "; ".join(lines), flush=True)


def test_per_class_drill_gate(api, capsys):
    drill(api, "gate", capsys)


def test_per_class_drill_event_lock(api, stack, capsys):
    before = os.environ.get("BOXOFFICE_RESERVATION_STRATEGY")
    restart_daemon(stack, reservation_strategy="event-lock")
    try:
        drill(api, "event-lock", capsys)
    finally:
        restart_daemon(stack, reservation_strategy=before)
