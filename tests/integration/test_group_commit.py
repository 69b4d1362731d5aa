"""Group commit (reserve_group_commit, fcgi-app/group_commit.h) on the real stack, under faults.

The daemon runs behind faultkit's proxy with reserve_group_commit = on. A batch is formed the
way a surge forms one, but on cue: LOCK TABLES event_inventory WRITE holds the first
reservation's commit (it runs alone and keeps the lead), the next ones queue behind it, and when
the lock goes the next leader commits all of them in one transaction. Then a batch is refused
(a user over the limit, a shard too short), its COMMIT's answer is lost, its COMMIT never reaches
the server, and its leader is SIGKILLed before and after its COMMIT. After each, every invariant
of faultkit.check_invariants: no seat sold twice, the tallies, and every 201 a committed row of
that request."""
import os
import re
import signal
import time
from pathlib import Path

import pytest

from faultkit import Ledger, ProxiedDaemon, TableLock, check_invariants, in_background, metric, sql_session
from openapi_check import api, expect, tag  # noqa: F401 (api is a fixture)

READ_TIMEOUT = 10       # the lock holds statements for a few seconds at most: no read times out
LOOKUP_WAIT = 3
QUEUED = 5              # reservations queued behind the lone one: one batch

LONE_CALL = r"^CALL reserve_one_shard"
BATCH_TALLY = r"; INSERT INTO user_event_tally .*\), \("  # a batch's first round trip
BATCH_COMMIT = r"SET @bo_first = LAST_INSERT_ID\(\)"        # its second, with the COMMIT


@pytest.fixture(scope="module")
def grouped(stack):
    d = ProxiedDaemon(stack, reserve_group_commit="on", reserve_group_leaders=1, workers=8,
                      mysql_read_timeout_s=READ_TIMEOUT,
                      txn_lookup_wait_ms=LOOKUP_WAIT * 1000)
    yield d
    d.stop()


@pytest.fixture(autouse=True)
def clean_proxy(grouped):
    grouped.proxy.clear()
    yield
    grouped.proxy.clear()


def report(capsys, name, figures):
    with capsys.disabled():
        print(f"\n  group commit, {name}: {figures}", flush=True)


def followers(d):
    """Workers waiting for a leader's verdict (in FUTEX_WAIT)."""
    n = 0
    for pid in d.stack.children(d.pid):
        try:
            n += "futex" in Path(f"/proc/{pid}/wchan").read_text()
        except OSError:
            pass
    return n


def wait_followers(d, n, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if followers(d) >= n:
            return
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} workers queued within {timeout}s")


def counters(api):
    return {name: metric(api, f"boxoffice_{name}_total") for name in
            ("group_commits", "group_committed_reservations", "group_rollbacks", "db_fences")}


def delta(api, before):
    now = counters(api)
    return {k: now[k] - before[k] for k in now}


class Batch:
    """One lone reservation held by the lock, QUEUED more queued behind it."""

    def __init__(self, d, led, event_id, users, qty=1):
        self.d, self.threads = d, []
        self.lock = TableLock(d.env, "event_inventory")
        d.proxy.add_rule(LONE_CALL, "note")
        self.threads.append(in_background(led.reserve, event_id, users[0], qty))
        self.lone_port = d.proxy.wait_noted(LONE_CALL)
        for u in users[1:]:
            self.threads.append(in_background(led.reserve, event_id, u, qty))
        wait_followers(d, len(users) - 1)

    def release(self):
        self.lock.release()

    def join(self):
        self.release()
        for t in self.threads:
            t.join(60)
        assert not any(t.is_alive() for t in self.threads), "a request did not finish within 60 s"


def new_event(api, seats=100, **kw):
    kw.setdefault("perUserLimit", 4)
    kw.setdefault("maxPerRequest", 4)
    return api.create_event(totalSeats=seats, **kw)


def users(prefix, n=1 + QUEUED):
    t = tag()
    return [f"{prefix}-{t}-{i}" for i in range(n)]


def test_queued_reservations_commit_together(grouped, api, capsys):
    ev = new_event(api)
    led = Ledger(api)
    before = counters(api)
    Batch(grouped, led, ev["id"], users("together")).join()
    d = delta(api, before)
    assert sorted(led.statuses()) == [201] * (1 + QUEUED), led.answers
    assert d["group_commits"] == 1 and d["group_committed_reservations"] == QUEUED, d
    # one transaction, one shard: the queued ones' rows name the same shard, ids in a row
    rows = api.sql(f"SELECT id, shard_alloc FROM reservations WHERE event_id = {ev['id']} ORDER BY id")
    batch = rows[1:]
    assert len({a for _, a in batch}) == 1, rows
    assert [int(i) for i, _ in batch] == list(range(int(batch[0][0]), int(batch[0][0]) + QUEUED)), rows
    f = check_invariants(api, led, ev["id"])
    assert f["sold"] == 1 + QUEUED, f
    report(capsys, "a batch of queued reservations", f | {"counters": d})


def test_a_user_over_the_limit_rolls_the_batch_back(grouped, api, capsys):
    """The tally's CHECK refuses one item: the batch rolls back whole and every item runs alone,
    where only that user is refused (409 LIMIT_EXCEEDED)."""
    ev = new_event(api, perUserLimit=2, maxPerRequest=2)
    led = Ledger(api)
    names = users("limit")
    over = names[2]
    expect(Ledger(api).reserve(ev["id"], over, 2), 201)     # its limit reached before
    before = counters(api)
    Batch(grouped, led, ev["id"], names).join()
    d = delta(api, before)
    assert d["group_rollbacks"] >= 1 and d["group_committed_reservations"] == 0, d
    statuses = {u: None for u in names}
    for status, body in led.answers.values():
        if status == 201:
            statuses[body["data"]["userId"]] = 201
    refused = [b for s, b in led.answers.values() if s == 409]
    assert [b["error"]["code"] for b in refused] == ["LIMIT_EXCEEDED"], led.answers
    assert [u for u, s in statuses.items() if s != 201] == [over], statuses
    f = check_invariants(api, led, ev["id"])
    assert f["sold"] == 2 + QUEUED, f      # "over" has its 2 from before
    report(capsys, "an item over its user's limit", f | {"counters": d})


def test_a_short_shard_rolls_the_batch_back(grouped, api, capsys):
    """16 seats in 16 shards of one: a batch needs QUEUED seats of one shard, and its UPDATE's
    guard refuses. Every item runs alone and takes a seat from wherever one is."""
    ev = new_event(api, seats=16)
    led = Ledger(api)
    before = counters(api)
    Batch(grouped, led, ev["id"], users("short")).join()
    d = delta(api, before)
    assert d["group_rollbacks"] >= 1 and d["group_committed_reservations"] == 0, d
    assert sorted(led.statuses()) == [201] * (1 + QUEUED), led.answers
    f = check_invariants(api, led, ev["id"])
    assert f["sold"] == 1 + QUEUED, f
    report(capsys, "a shard too short for the batch", f | {"counters": d})


@pytest.mark.parametrize("action,learned,committed", [
    # the server commits the batch and its answer never arrives: the leader fences its lost
    # session, looks one txn id up (the batch committed whole or not at all), every item 201
    ("cut_after_reply", "committed", True),
    # the second round trip (with the COMMIT) never reaches the server: ambiguous to the leader,
    # which learns "not committed"; every item then runs alone and commits
    ("cut_before", "not_committed", False)])
def test_the_batch_commit_round_trip_lost(grouped, api, capsys, action, learned, committed):
    ev = new_event(api)
    led = Ledger(api)
    before = counters(api)
    looked = metric(api, "boxoffice_txn_outcome_lookups_total", f'outcome="{learned}"')
    grouped.proxy.add_rule(BATCH_COMMIT, action)
    Batch(grouped, led, ev["id"], users(action)).join()
    d = delta(api, before)
    assert [a for a, _ in grouped.proxy.clear()] == [action]
    assert sorted(led.statuses()) == [201] * (1 + QUEUED), led.answers
    assert metric(api, "boxoffice_txn_outcome_lookups_total", f'outcome="{learned}"') == looked + 1
    assert d["group_committed_reservations"] == (QUEUED if committed else 0), d
    assert d["group_commits"] == int(committed) and d["group_rollbacks"] == int(not committed), d
    f = check_invariants(api, led, ev["id"])
    assert f["sold"] == 1 + QUEUED, f
    report(capsys, f"the COMMIT's round trip lost ({action})", f | {"counters": d})


def test_another_event_never_waits_behind_a_leader(grouped, api, capsys):
    """A reservation of event X holds the lead while a row lock (another session's FOR UPDATE on
    X's shards, short of innodb_lock_wait_timeout) holds its commit. A reservation of event Y
    does not queue behind it: it commits alone, at once, while X's still waits."""
    x, y = new_event(api), new_event(api)
    led = Ledger(api)
    s = sql_session(grouped.env, autocommit=False)
    try:
        with s.cursor() as c:
            c.execute(f"SELECT available FROM event_inventory WHERE event_id = {x['id']} FOR UPDATE")
        x_call = rf"^CALL reserve_one_shard\({x['id']},"
        grouped.proxy.add_rule(x_call, "note", times=10)
        t = in_background(led.reserve, x["id"], f"x-{tag()}", 1)
        grouped.proxy.wait_noted(x_call)
        expect(led.reserve(y["id"], f"y-{tag()}", 1), 201)
        # X's first attempt still waits on the row lock (had Y queued behind X, X's wait would
        # have timed out first, innodb_lock_wait_timeout, and let Y lead)
        waits = api.sql_value("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
                              "'UPDATE event_inventory%' AND ID <> CONNECTION_ID()")
        assert t.is_alive() and waits == "1" and len(grouped.proxy.noted) == 1, \
            (waits, led.answers, grouped.proxy.noted)
    finally:
        s.rollback()
        s.close()
    t.join(60)
    assert sorted(led.statuses()) == [201, 201], led.answers
    fx, fy = check_invariants(api, led, x["id"]), check_invariants(api, led, y["id"])
    assert fx["sold"] == fy["sold"] == 1, (fx, fy)
    report(capsys, "another event's reservation while a leader waits", {"x": fx, "y": fy})


def log_since(d, offset):
    with open(d.env["BOXOFFICE_APP_LOG"], "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def test_a_leader_killed_while_its_batch_waits(grouped, api, capsys):
    """SIGKILL the lone leader while the lock holds it, then the batch's leader while the lock
    holds its UPDATE: its followers see it gone, fence its session (KILL: the server rolls its
    batch back), learn that their txn ids did not commit, and run alone. The batch's leader
    committed nothing; the lone one's CALL, which nobody fenced, may still commit once the lock
    goes (a killed worker's request, as without group commit); every other request did."""
    ev = new_event(api)
    led = Ledger(api)
    before = counters(api)
    offset = os.path.getsize(grouped.env["BOXOFFICE_APP_LOG"])
    grouped.proxy.add_rule(BATCH_TALLY, "note")
    names = users("killed")
    b = Batch(grouped, led, ev["id"], names)
    try:
        os.kill(grouped.proxy.sender_pid(b.lone_port), signal.SIGKILL)
        leader = grouped.proxy.sender_pid(grouped.proxy.wait_noted(BATCH_TALLY))
        wait_followers(grouped, QUEUED - 1)
        os.kill(leader, signal.SIGKILL)
        # its followers fence its session, then run alone (blocked by the lock again)
        deadline = time.monotonic() + 15
        while delta(api, before)["db_fences"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        b.join()
    d = delta(api, before)
    log = log_since(grouped, offset)
    assert re.search(r"group commit: leader \d+ died", log), log[-2000:]
    assert d["db_fences"] >= 1, d
    statuses = sorted(map(str, led.statuses()))
    assert statuses.count("201") == QUEUED - 1, led.answers
    answered = {body["data"]["userId"] for status, body in led.answers.values() if status == 201}
    committed = {u for (u,) in api.sql(f"SELECT user_id FROM reservations WHERE event_id = {ev['id']}")}
    assert committed - answered <= {names[0]}, (committed, answered)
    f = check_invariants(api, led, ev["id"], lost_answers=1)
    assert f["sold"] == len(committed), f
    grouped.stack.wait_workers(8)        # the master replaced both
    report(capsys, "two leaders SIGKILLed before their COMMIT", f | {"counters": d})


def test_a_leader_killed_after_its_commit(grouped, api, capsys):
    """The batch commits and the leader is SIGKILLed before its answer arrives (delayed by the
    proxy): its followers fence the dead session, find their own txn ids committed and answer 201
    with their rows. The leader's own row is committed with no answer: the one lost answer a
    killed worker may leave."""
    ev = new_event(api)
    led = Ledger(api)
    before = counters(api)
    grouped.proxy.add_rule(BATCH_TALLY, "note")
    grouped.proxy.add_rule(BATCH_COMMIT, "delay_reply", delay=5)
    b = Batch(grouped, led, ev["id"], users("after"))
    try:
        b.release()
        leader = grouped.proxy.sender_pid(grouped.proxy.wait_noted(BATCH_TALLY))
        deadline = time.monotonic() + 15
        while not grouped.proxy.fired and time.monotonic() < deadline:
            time.sleep(0.02)
        assert grouped.proxy.fired, "the batch's COMMIT was not sent"
        time.sleep(0.5)         # the server commits at once; the answer waits in the proxy
        os.kill(leader, signal.SIGKILL)
    finally:
        b.join()
    d = delta(api, before)
    statuses = sorted(map(str, led.statuses()))
    assert statuses.count("201") == QUEUED, led.answers
    assert d["db_fences"] >= 1, d
    f = check_invariants(api, led, ev["id"], lost_answers=1)
    assert f["sold"] == 1 + QUEUED, f
    assert f.get("committed, not answered") == 1, f
    report(capsys, "a leader SIGKILLed after its COMMIT", f | {"counters": d})
