"""Reservations and users API (issue 3): create, get, list by user, cancel, user statistics, admin
reconcile, and what happens while MariaDB or Redis is down. Each success path and each error code,
every response validated against docs/api/openapi.yaml (openapi_check)."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from openapi_check import Api, api, expect, parse_ts, past, tag  # noqa: F401 (api is a fixture)

BIG = 9223372036854775807
BAD_IDS = ["0", "-7", "x1", "2.0", "9223372036854775808", "123456789012345678901"]


@pytest.fixture
def api_restoring(healthy_stack):
    """A client on a stack that is brought back up (and ready=UP) after the test."""
    client = Api(healthy_stack)
    yield client
    healthy_stack.up()
    client.close_created()


# ------------------------------------------------------------------ create

def test_create_reservation(api):
    ev = api.create_event(totalSeats=10, maxPerRequest=4)
    user = f"alice-{tag()}"
    before = time.time()
    res = api.reserved(ev["id"], user, 3)
    assert res["eventId"] == ev["id"] and res["userId"] == user and res["quantity"] == 3
    assert res["status"] == "CONFIRMED" and res["cancelledAt"] is None
    assert abs(parse_ts(res["createdAt"]).timestamp() - before) < 60
    row = api.sql(f"SELECT event_id, user_id, quantity, status FROM reservations WHERE id={res['id']}")
    assert row == [[str(ev["id"]), user, "3", "CONFIRMED"]], row
    assert api.event(ev["id"])["availableSeats"] == 7
    assert api.assert_consistent(ev["id"]) == (7, 3)
    assert api.expect("GET", f"/api/reservations/{res['id']}", 200)["data"] == res


def test_user_ids_are_data_not_code(api):
    """Printable ASCII of every kind is a valid userId and comes back verbatim."""
    ev = api.create_event(totalSeats=10)
    for user in ("o'brien\"; DROP TABLE reservations; --", "%s %d {ev:1} \\x00", "~" * 64, " lead", "a"):
        res = api.reserved(ev["id"], user, 1)
        assert res["userId"] == user
        got = api.expect("GET", f"/api/reservations/{res['id']}", 200)["data"]
        assert got["userId"] == user
    assert api.sold(ev["id"]) == 5


CREATE_INVALID = [
    ("eventId", "missing"), ("eventId", 0), ("eventId", -1), ("eventId", "1"), ("eventId", 1.5),
    ("eventId", None), ("eventId", True), ("eventId", 9223372036854775808),
    ("userId", "missing"), ("userId", ""), ("userId", "u" * 65), ("userId", 42), ("userId", None),
    ("userId", "tab\there"), ("userId", "new\nline"), ("userId", "caf\u00e9"), ("userId", "del\x7f"),
    ("quantity", "missing"), ("quantity", 0), ("quantity", -2), ("quantity", "2"), ("quantity", 2.5),
    ("quantity", None), ("quantity", 4), ("quantity", 101),
]


@pytest.mark.parametrize("field,value", CREATE_INVALID, ids=[f"{f}={str(v)[:16]!r}" for f, v in CREATE_INVALID])
def test_create_reservation_invalid_field(api, field, value):
    ev = api.create_event(totalSeats=10, maxPerRequest=3)
    body = {"eventId": ev["id"], "userId": f"u-{tag()}", "quantity": 1}
    if value == "missing":
        del body[field]
    else:
        body[field] = value
    err = api.expect("POST", "/api/reservations", 400, "INVALID_REQUEST", json=body)["error"]
    assert field in err["details"], err
    assert api.sold(ev["id"]) == 0


def test_create_reservation_bad_bodies(api):
    ev = api.create_event(totalSeats=10)
    h = {"Content-Type": "application/json"}
    err = api.expect("POST", "/api/reservations", 400, "INVALID_REQUEST",
                     data=b'{"eventId": %d, "userId": "bob" "quantity": 1}' % ev["id"], headers=h)["error"]
    assert "offset" in err["details"].get("body", ""), err
    for raw in (b"[]", b"[1,2]", b'"x"', b"null", b"", b"{"):
        api.expect("POST", "/api/reservations", 400, "INVALID_REQUEST", data=raw, headers=h)
    api.expect("POST", "/api/reservations", 415, "UNSUPPORTED_MEDIA_TYPE",
               data=b'{"eventId": %d, "userId": "bob", "quantity": 1}' % ev["id"], headers={"Content-Type": "text/plain"})
    api.expect("POST", "/api/reservations", 413, "PAYLOAD_TOO_LARGE",
               data=b'{"eventId": %d, "userId": "' % ev["id"] + b"b" * 70000 + b'", "quantity": 1}', headers=h)
    assert api.sold(ev["id"]) == 0


def test_json_with_a_charset_is_json(api):
    ev = api.create_event(totalSeats=5)
    for ctype in ("application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"):
        r = api.call("POST", "/api/reservations", headers={"Content-Type": ctype},
                     data=b'{"eventId": %d, "userId": "cs-%s", "quantity": 1}' % (ev["id"], tag().encode()))
        expect(r, 201)
    assert api.sold(ev["id"]) == 3


def test_limits_changed_by_put_apply_at_once(api):
    ev = api.create_event(totalSeats=50, perUserLimit=6, maxPerRequest=4)
    user = f"pl-{tag()}"
    api.event(ev["id"])   # cached
    api.reserved(ev["id"], user, 4)
    api.admin("PUT", f"/api/events/{ev['id']}", 200, json={"maxPerRequest": 2, "perUserLimit": 5})
    err = api.expect("POST", "/api/reservations", 400, "INVALID_REQUEST",
                     json={"eventId": ev["id"], "userId": f"pl-{tag()}", "quantity": 3})["error"]
    assert "quantity" in err["details"], err
    err = api.expect("POST", "/api/reservations", 409, "LIMIT_EXCEEDED",
                     json={"eventId": ev["id"], "userId": user, "quantity": 2})["error"]
    assert err["details"]["perUserLimit"] == 5 and err["details"]["requested"] == 2, err
    api.reserved(ev["id"], user, 1)
    # lowering the limit below what a user already holds keeps the reservations, refuses more
    api.admin("PUT", f"/api/events/{ev['id']}", 200, json={"perUserLimit": 2})
    api.expect("POST", "/api/reservations", 409, "LIMIT_EXCEEDED",
               json={"eventId": ev["id"], "userId": user, "quantity": 1})
    assert api.expect("GET", f"/api/users/{user}", 200)["data"]["totalTickets"] == 5
    assert api.assert_consistent(ev["id"]) == (45, 5)


def test_create_reservation_unknown_event(api):
    api.expect("POST", "/api/reservations", 404, "EVENT_NOT_FOUND",
               json={"eventId": BIG, "userId": f"u-{tag()}", "quantity": 1})


def test_insufficient_seats(api):
    ev = api.create_event(totalSeats=5, maxPerRequest=4)
    api.reserved(ev["id"], f"a-{tag()}", 4)
    err = api.expect("POST", "/api/reservations", 409, "INSUFFICIENT_SEATS",
                     json={"eventId": ev["id"], "userId": f"b-{tag()}", "quantity": 2})["error"]
    assert err["details"] == {"requested": 2, "available": 1} or \
        (err["details"]["requested"] == 2 and err["details"]["available"] == 1), err
    api.reserved(ev["id"], f"c-{tag()}", 1)
    err = api.expect("POST", "/api/reservations", 409, "INSUFFICIENT_SEATS",
                     json={"eventId": ev["id"], "userId": f"d-{tag()}", "quantity": 1})["error"]
    assert err["details"]["requested"] == 1 and err["details"]["available"] == 0, err
    assert api.assert_consistent(ev["id"]) == (0, 5)


def test_per_user_limit(api):
    ev = api.create_event(totalSeats=50, perUserLimit=3, maxPerRequest=3)
    user = f"lim-{tag()}"
    first = api.reserved(ev["id"], user, 2)
    err = api.expect("POST", "/api/reservations", 409, "LIMIT_EXCEEDED",
                     json={"eventId": ev["id"], "userId": user, "quantity": 2})["error"]
    assert err["details"]["perUserLimit"] == 3 and err["details"]["requested"] == 2, err
    api.reserved(ev["id"], user, 1)
    api.expect("POST", "/api/reservations", 409, "LIMIT_EXCEEDED",
               json={"eventId": ev["id"], "userId": user, "quantity": 1})
    # another user is not affected
    api.reserved(ev["id"], f"other-{tag()}", 3)
    # cancelled seats no longer count against the limit
    api.expect("DELETE", f"/api/reservations/{first['id']}", 200)
    api.reserved(ev["id"], user, 2)
    assert api.assert_consistent(ev["id"]) == (50 - 6, 6)


def test_event_that_cannot_take_reservations(api):
    for status in ("CLOSED", "CANCELLED"):
        ev = api.create_event(totalSeats=5)
        api.admin("PUT", f"/api/events/{ev['id']}", 200, json={"status": status})
        err = api.expect("POST", "/api/reservations", 400, "INVALID_REQUEST",
                         json={"eventId": ev["id"], "userId": f"u-{tag()}", "quantity": 1})["error"]
        assert "eventId" in err["details"], err
        assert api.sold(ev["id"]) == 0
        api.admin("PUT", f"/api/events/{ev['id']}", 200, json={"status": "ACTIVE"})
        api.reserved(ev["id"], f"u-{tag()}", 1)


def test_event_in_the_past(api):
    cols = {r[0] for r in api.sql("SELECT column_name FROM information_schema.columns "
                                  "WHERE table_schema=DATABASE() AND table_name='events'")}
    if "event_date" not in cols:
        pytest.skip(f"no events.event_date column to move into the past ({sorted(cols)})")
    ev = api.create_event(totalSeats=5)
    when = past(2).replace("T", " ").replace("Z", "")
    api.sql(f"UPDATE events SET event_date='{when}' WHERE id={ev['id']}")
    api.redis("DEL", f"bo:{{ev:{ev['id']}}}:event")
    assert api.event(ev["id"])["eventDate"][:10] == past(2)[:10]
    err = api.expect("POST", "/api/reservations", 400, "INVALID_REQUEST",
                     json={"eventId": ev["id"], "userId": f"u-{tag()}", "quantity": 1})["error"]
    assert "eventId" in err["details"], err
    assert api.sold(ev["id"]) == 0


def test_audit_trail(api):
    """reservation_audit: one CREATE and one CANCEL row, with the request ids the client saw in
    X-Request-Id and the idempotency key; a replay and a refused second cancel add nothing."""
    ev = api.create_event(totalSeats=5)
    user, key, t = f"aud-{tag()}", f"key-{tag()}", tag()
    r = api.call(
        "POST", "/api/reservations", json={"eventId": ev["id"], "userId": user, "quantity": 2},
        headers={"Idempotency-Key": key, "X-Request-Id": f"audit-create-{t}"})
    res = expect(r, 201)["data"]
    assert r.headers["X-Request-Id"] == f"audit-create-{t}"
    api.reserved(ev["id"], user, 2, key=key)   # replay
    r = api.call("DELETE", f"/api/reservations/{res['id']}", headers={"X-Request-Id": f"audit-cancel-{t}"})
    expect(r, 200)
    api.expect("DELETE", f"/api/reservations/{res['id']}", 409, "ALREADY_CANCELLED")
    rows = api.sql(f"SELECT action, event_id, user_id, quantity, request_id, COALESCE(idempotency_key, 'NULL') "
                   f"FROM reservation_audit WHERE reservation_id={res['id']} ORDER BY id")
    assert rows == [["CREATE", str(ev["id"]), user, "2", f"audit-create-{t}", key],
                    ["CANCEL", str(ev["id"]), user, "2", f"audit-cancel-{t}", rows[1][5] if len(rows) > 1 else ""]], rows
    assert rows[1][5] in ("NULL", key), rows


# ------------------------------------------------------------------ get

def test_get_reservation_errors(api):
    api.expect("GET", f"/api/reservations/{BIG}", 404, "RESERVATION_NOT_FOUND")
    for bad in BAD_IDS:
        api.expect("GET", f"/api/reservations/{bad}", 400, "INVALID_REQUEST")


# ------------------------------------------------------------------ list by user

def test_user_reservations_newest_first_with_paging_and_filter(api):
    user = f"list-{tag()}"
    e1, e2 = api.create_event(totalSeats=10), api.create_event(totalSeats=10)
    made = [api.reserved(e1["id"], user, 1), api.reserved(e2["id"], user, 2), api.reserved(e1["id"], user, 3)]
    api.reserved(e1["id"], f"someone-else-{tag()}", 1)
    api.expect("DELETE", f"/api/reservations/{made[1]['id']}", 200)

    page = api.expect("GET", f"/api/reservations/user/{user}", 200)["data"]
    assert page["page"] == 0 and page["size"] == 20 and page["totalElements"] == 3
    assert page["totalPages"] == 1 and page["last"] is True
    assert [r["id"] for r in page["content"]] == [m["id"] for m in reversed(made)], page
    created = [parse_ts(r["createdAt"]) for r in page["content"]]
    assert created == sorted(created, reverse=True)
    assert all(r["userId"] == user for r in page["content"])

    p0 = api.expect("GET", f"/api/reservations/user/{user}?page=0&size=2", 200)["data"]
    p1 = api.expect("GET", f"/api/reservations/user/{user}?page=1&size=2", 200)["data"]
    assert len(p0["content"]) == 2 and p0["last"] is False and p0["totalPages"] == 2
    assert len(p1["content"]) == 1 and p1["last"] is True and p1["page"] == 1
    assert [r["id"] for r in p0["content"] + p1["content"]] == [m["id"] for m in reversed(made)]

    conf = api.expect("GET", f"/api/reservations/user/{user}?status=CONFIRMED", 200)["data"]
    assert [r["id"] for r in conf["content"]] == [made[2]["id"], made[0]["id"]] and conf["totalElements"] == 2
    canc = api.expect("GET", f"/api/reservations/user/{user}?status=CANCELLED", 200)["data"]
    assert [r["id"] for r in canc["content"]] == [made[1]["id"]]
    assert canc["content"][0]["status"] == "CANCELLED" and canc["content"][0]["cancelledAt"]

    empty = api.expect("GET", f"/api/reservations/user/nobody-{tag()}", 200)["data"]
    assert empty["content"] == [] and empty["totalElements"] == 0 and empty["last"] is True


@pytest.mark.parametrize("query", ["page=-1", "page=x", "size=0", "size=101", "size=abc", "status=HELD_ON",
                                   "status=ACTIVE"])
def test_user_reservations_bad_parameter(api, query):
    err = api.expect("GET", f"/api/reservations/user/u1?{query}", 400, "INVALID_REQUEST")["error"]
    assert query.split("=")[0] in err["details"], err


# ------------------------------------------------------------------ cancel

def test_cancel_reservation(api):
    ev = api.create_event(totalSeats=8, maxPerRequest=5)
    user = f"c-{tag()}"
    res = api.reserved(ev["id"], user, 5)
    assert api.event(ev["id"])["availableSeats"] == 3
    cancelled = api.expect("DELETE", f"/api/reservations/{res['id']}", 200)["data"]
    assert cancelled["id"] == res["id"] and cancelled["status"] == "CANCELLED"
    assert cancelled["quantity"] == 5 and cancelled["cancelledAt"] is not None
    assert parse_ts(cancelled["cancelledAt"]) >= parse_ts(res["createdAt"])
    assert api.event(ev["id"])["availableSeats"] == 8
    assert api.assert_consistent(ev["id"]) == (8, 0)
    got = api.expect("GET", f"/api/reservations/{res['id']}", 200)["data"]
    assert got["status"] == "CANCELLED" and got["cancelledAt"] == cancelled["cancelledAt"]
    api.expect("DELETE", f"/api/reservations/{res['id']}", 409, "ALREADY_CANCELLED")
    assert api.assert_consistent(ev["id"]) == (8, 0)
    assert api.sql_value(f"SELECT status FROM reservations WHERE id={res['id']}") == "CANCELLED"
    # the seats can be sold again
    api.reserved(ev["id"], f"d-{tag()}", 5)
    api.reserved(ev["id"], f"e-{tag()}", 3)
    assert api.assert_consistent(ev["id"]) == (0, 8)


def test_cancel_errors(api):
    api.expect("DELETE", f"/api/reservations/{BIG}", 404, "RESERVATION_NOT_FOUND")
    for bad in BAD_IDS:
        api.expect("DELETE", f"/api/reservations/{bad}", 400, "INVALID_REQUEST")


# ------------------------------------------------------------------ users

def test_user_statistics(api):
    user = f"stats-{tag()}"
    ev = api.create_event(totalSeats=20, maxPerRequest=5)
    a = api.reserved(ev["id"], user, 2)
    api.reserved(ev["id"], user, 3)
    api.reserved(api.create_event(totalSeats=5)["id"], user, 1)
    api.expect("DELETE", f"/api/reservations/{a['id']}", 200)
    stats = api.expect("GET", f"/api/users/{user}", 200)["data"]
    assert stats == {"userId": user, "totalReservations": 3, "totalTickets": 4, "cancelledReservations": 1}, stats
    unknown = f"ghost-{tag()}"
    stats = api.expect("GET", f"/api/users/{unknown}", 200)["data"]
    assert stats == {"userId": unknown, "totalReservations": 0, "totalTickets": 0, "cancelledReservations": 0}
    api.expect("GET", "/api/users/" + "u" * 65, 400, "INVALID_REQUEST")


@pytest.mark.parametrize("shape", ["a b", "p%q", "h#?&=", "plus+", "x/y"])
def test_user_paths_take_any_valid_user_id_percent_encoded(api, shape):
    """Every userId that POST accepts (printable ASCII, '/' included) can be looked up, percent-encoded
    in the path."""
    from urllib.parse import quote
    ev = api.create_event(totalSeats=5)
    user = f"{shape}-{tag()}"
    res = api.reserved(ev["id"], user, 1)
    stats = api.expect("GET", "/api/users/" + quote(user, safe=""), 200)["data"]
    assert stats["userId"] == user and stats["totalReservations"] == 1, stats
    page = api.expect("GET", "/api/reservations/user/" + quote(user, safe=""), 200)["data"]
    assert [r["id"] for r in page["content"]] == [res["id"]]


# ------------------------------------------------------------------ admin reconcile

def test_admin_reconcile(api):
    api.expect("POST", "/api/admin/reconcile", 401, "UNAUTHORIZED")
    api.expect("POST", "/api/admin/reconcile", 403, "FORBIDDEN", headers={"Authorization": "Bearer x"})
    ev = api.create_event(totalSeats=30, maxPerRequest=5)
    api.reserved(ev["id"], f"r-{tag()}", 5)
    api.reconcile()
    assert api.gate(ev["id"]) == 25
    key = f"bo:{{ev:{ev['id']}}}:avail"
    api.redis("SET", key, "9999")
    out = api.reconcile()
    assert out["events"] >= 1 and out["corrected"] >= 1, out
    assert api.gate(ev["id"]) == 25
    assert api.event(ev["id"])["availableSeats"] == 25
    # a counter that says sold out when it is not: reconcile gives the seats back
    api.redis("SET", key, "0")
    api.reconcile()
    api.reserved(ev["id"], f"r-{tag()}", 5)
    # a missing counter is rebuilt from the database
    api.redis("DEL", key)
    api.reserved(ev["id"], f"r-{tag()}", 5)
    assert api.assert_consistent(ev["id"]) == (15, 15)
    out = api.reconcile()
    assert out["corrected"] >= 0 and api.gate(ev["id"]) == 15


# ------------------------------------------------------------------ dependencies down

def test_reservations_without_redis_use_the_database(api_restoring):
    api = api_restoring
    ev = api.create_event(totalSeats=6, maxPerRequest=4)
    api.reconcile()
    keep = api.reserved(ev["id"], f"r-{tag()}", 2)
    api.stack.stop_pid(api.env["BOXOFFICE_REDIS_PID_FILE"], signal.SIGTERM, timeout=30)
    api.stack.wait_status("/api/ready", lambda r: r.status_code == 200 and r.json()["data"]["status"] == "DEGRADED",
                          timeout=30)
    res = api.reserved(ev["id"], f"r-{tag()}", 3)
    api.expect("POST", "/api/reservations", 409, "INSUFFICIENT_SEATS",
               json={"eventId": ev["id"], "userId": f"r-{tag()}", "quantity": 2})
    r = api.call("GET", f"/api/events/{ev['id']}", admin=True)   # the daemon's answer, not nginx's copy
    assert expect(r, 200)["data"]["availableSeats"] == 1 and r.headers["X-Cache"] == "MISS"
    api.expect("DELETE", f"/api/reservations/{keep['id']}", 200)
    api.expect("GET", f"/api/reservations/{res['id']}", 200)
    api.expect("GET", f"/api/users/{res['userId']}", 200)
    assert api.sold(ev["id"]) == 3 and api.inventory(ev["id"]) == 3
    api.stack.up()
    api.stack.wait_status("/api/ready", lambda r: r.status_code == 200 and r.json()["data"]["status"] == "UP",
                          timeout=60)
    # Redis came back empty: the counter is rebuilt, and reconcile agrees
    api.reserved(ev["id"], f"r-{tag()}", 3)
    api.expect("POST", "/api/reservations", 409, "INSUFFICIENT_SEATS",
               json={"eventId": ev["id"], "userId": f"r-{tag()}", "quantity": 1})
    assert api.assert_consistent(ev["id"]) == (0, 6)


def test_database_down_is_503(api_restoring):
    api = api_restoring
    ev = api.create_event(totalSeats=5)
    res = api.reserved(ev["id"], f"db-{tag()}", 1)
    api.stack.stop_pid(api.env["BOXOFFICE_MYSQL_PID_FILE"], signal.SIGTERM, timeout=60)
    api.stack.wait_status("/api/ready", 503, timeout=30)
    for method, path, kw in (("POST", "/api/reservations", {"json": {"eventId": ev["id"], "userId": "db-down",
                                                                     "quantity": 1}}),
                             ("GET", f"/api/reservations/{res['id']}", {}),
                             ("DELETE", f"/api/reservations/{res['id']}", {}),
                             ("GET", "/api/events?size=5", {}),
                             ("GET", f"/api/users/{res['userId']}", {})):
        r = api.call(method, path, check=False, **kw)
        body = expect(r, 503, "SERVICE_UNAVAILABLE")
        assert int(r.headers["Retry-After"]) >= 0
        text = str(body).lower()
        assert "mysql" not in text and "mariadb" not in text and "sql" not in text, body
    api.stack.up()
    api.stack.wait_status("/api/ready", 200, timeout=60)
    # the failed POST gave its gate admission back (or dropped the counter, to be rebuilt)...
    assert api.gate(ev["id"]) in (None, 4), f"gate counter {api.gate(ev['id'])} after a failed POST (want 4)"
    # ... and left no trace
    assert api.assert_consistent(ev["id"]) == (4, 1)
    assert api.expect("GET", f"/api/reservations/{res['id']}", 200)["data"]["status"] == "CONFIRMED"


def test_reserving_without_the_procedure_falls_back_to_the_batches(api):
    """A daemon that meets a schema before migration 007 (reserve_one_shard missing, say in a
    rolling deploy that restarted it before migrating) still reserves, with the two batches."""
    ev = api.create_event(totalSeats=40, maxPerRequest=4, perUserLimit=4)
    migration = Path(__file__).resolve().parents[2] / "sql/migrations/007_reserve_in_one_call.sql"
    api.sql("DROP PROCEDURE reserve_one_shard")
    try:
        for i in range(3):
            assert api.reserved(ev["id"], f"noproc-{i}-{tag()}", 2)["quantity"] == 2
        assert "reserve_one_shard is missing or not granted" in \
            Path(api.env["BOXOFFICE_APP_LOG"]).read_text(errors="replace")
    finally:
        env = dict(os.environ, MYSQL_PWD=api.env["BOXOFFICE_MYSQL_PASSWORD"])
        r = subprocess.run(["mariadb", "--no-defaults", f"--socket={api.env['BOXOFFICE_MYSQL_SOCKET']}",
                            f"--user={api.env['BOXOFFICE_MYSQL_USER']}", api.env["BOXOFFICE_MYSQL_DB"]],
                           input=migration.read_text(), env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    assert api.sql_value("SELECT COUNT(*) FROM information_schema.routines WHERE "
                         "routine_schema = DATABASE() AND routine_name = 'reserve_one_shard'") == "1"
    assert api.reserved(ev["id"], f"proc-{tag()}", 2)["quantity"] == 2
    assert api.assert_consistent(ev["id"]) == (32, 8)
