"""The per-user rate limit (issue 12): a token bucket in Redis, 429 RATE_LIMITED with Retry-After
once it is empty, and service again once it refills. Redis down: it fails open."""
import os
import signal
import time

import pytest

from openapi_check import api, expect, restart_daemon, tag  # noqa: F401 (api is a fixture)


@pytest.fixture(scope="module")
def limited(stack):
    # 60 a minute (one a second) with a burst of 3; afterwards whatever the suite ran with
    before = {k: os.environ.get("BOXOFFICE_" + k.upper()) for k in ("rate_limit_per_minute",
                                                                      "rate_limit_burst")}
    restart_daemon(stack, rate_limit_per_minute=60, rate_limit_burst=3)
    yield stack
    restart_daemon(stack, **before)


def reserve(api, event_id, user):
    return api.call("POST", "/api/reservations", json={"eventId": event_id, "userId": user, "quantity": 1},
                    check=False)


def test_429_with_retry_after_and_recovery(api, limited):
    ev = api.create_event(totalSeats=100, perUserLimit=100)
    user, other = f"rl-{tag()}", f"rl-{tag()}"
    for _ in range(3):
        expect(reserve(api, ev["id"], user), 201)
    r = reserve(api, ev["id"], user)
    expect(r, 429, "RATE_LIMITED")
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 2, wait
    # another user has a bucket of their own
    expect(reserve(api, ev["id"], other), 201)
    time.sleep(wait + 0.2)
    expect(reserve(api, ev["id"], user), 201)
    assert api.sold(ev["id"]) == 5


def test_redis_down_fails_open(api, limited, healthy_stack):
    ev = api.create_event(totalSeats=100, perUserLimit=100)
    user = f"rl-{tag()}"
    for _ in range(3):
        expect(reserve(api, ev["id"], user), 201)
    expect(reserve(api, ev["id"], user), 429, "RATE_LIMITED")
    healthy_stack.stop_pid(healthy_stack.env["BOXOFFICE_REDIS_PID_FILE"], signal.SIGTERM)
    for _ in range(5):
        expect(reserve(api, ev["id"], user), 201)
