"""The seed project's own concurrency test, as its client runs it (issue 12).

The seed's tests/concurrent_test.py (described in shared/reference/seed-project.md, section 5) sends
POST /api/reservations {"eventId", "userId": "user{i}", "quantity": 1} for i in 0..999 from a pool
of 100 threads with a 10 s timeout, against an event of 100 seats, and prints "double booking: none"
only when exactly 100 requests got 201. It has no assertions; this test runs the same traffic against
the stack with auth_mode = none (the stack's default) and holds the service to that oracle and more:
exactly 100 seats sold, every other answer a 409 INSUFFICIENT_SEATS, no request lost, and the
database, the API and the gate agree afterwards.
"""
from concurrent.futures import ThreadPoolExecutor

import requests

from openapi_check import api, tag  # noqa: F401 (api is a fixture)

TOTAL_SEATS = 100
CONCURRENT_USERS = 1000
WORKERS = 100


def test_the_seeds_concurrent_test_sells_exactly_the_seats(api, stack):
    assert stack.env.get("BOXOFFICE_AUTH_MODE", "none") == "none"
    ev = api.create_event(totalSeats=TOTAL_SEATS)
    run = tag()
    url = f"{api.url}/api/reservations"

    def reserve_ticket(i):
        # the seed's request, byte for byte in its fields; a session per call, as requests.post does
        try:
            r = requests.post(url, json={"eventId": ev["id"], "userId": f"user{i}-{run}", "quantity": 1},
                              timeout=10)
            code = r.json().get("error", {}).get("code") if r.status_code != 201 else None
            return r.status_code, code
        except requests.RequestException as e:
            return "error", type(e).__name__

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(reserve_ticket, range(CONCURRENT_USERS)))

    success = sum(1 for status, _ in results if status == 201)
    others = sorted({(status, code) for status, code in results if status != 201}, key=str)
    # the seed's oracle: "double booking: none" iff exactly TOTAL_SEATS successes
    assert success == TOTAL_SEATS, (success, others)
    assert others == [(409, "INSUFFICIENT_SEATS")], others
    available, sold = api.assert_consistent(ev["id"])
    assert (available, sold) == (0, TOTAL_SEATS)
    rows = api.sql_value(f"SELECT COUNT(*) FROM reservations WHERE event_id = {int(ev['id'])}")
    assert int(rows) == TOTAL_SEATS
