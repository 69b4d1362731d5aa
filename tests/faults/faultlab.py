"""The fault matrix under load (issue 14, item 2): a reservation surge through the balancer of a
two-instance stack (scripts/stack up --instances 2) while one fault strikes, then the checks.

A run, for one strategy and one fault:
  1. a fresh event; every instance's counters are scraped (GET /api/metrics on its own nginx);
  2. the surge: C clients, each a loop of "reserve 1..3 seats as a new user, with an
     Idempotency-Key" or "cancel one of my reservations", through the balancer. Cancels give the
     seats back, so the event hovers at sold out for as long as the run lasts: the gate rejects
     and the database commits at the same time, whatever the machine's speed;
  3. the fault (FAULTS below), while the surge goes on;
  4. the surge goes on until the admission state is right again (or a bound), then stops;
  5. checks: faultkit.check_invariants (SUM(CONFIRMED+HELD) <= total, sold + SUM(shards) =
     total, tallies, every 201 a committed row, every committed row answered 201 or 503
     "outcome unknown"), every cancel answered 200 is a CANCEL in the audit, the counters of
     both instances agree with SQL, every instance ready with all its workers, one live holder
     of the housekeeping lease (a new one when the fault killed the holder).

The admission state is measured by a prober that stops the surge for a moment (no request in
flight), then compares: under `gate`, the Redis counter with SUM(event_inventory.available)
(a counter below it is a false "sold out"); under `event-lock`, the event's lock must be free
(a lock left by a killed worker refuses everyone with CONCURRENT_RESERVATION until its TTL).
"right again after" is the time from the end of the fault to the first probe that found it
right and after which every probe did.

Answers that say nothing (a transport error, a 502/504 of nginx: the worker was SIGKILLed) are
"lost": with resolve (the long profile) each is sent again with the same Idempotency-Key until
it gets a real answer, and every committed row must then have been answered 201; without, only
the worker-kill fault may leave as many committed rows unanswered as it killed workers.
"""
import os
import random
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter, deque
from contextlib import contextmanager
from pathlib import Path

import pymysql
import requests

HERE = Path(__file__).resolve().parent
for _p in (HERE.parent / "integration", HERE.parent / "lib"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import fcgi_client  # noqa: E402  (tests/integration: the daemon's socket, without nginx)
from conftest import Stack  # noqa: E402  (tests/integration/conftest.py)
from faultkit import Ledger, check_invariants, not_answered, outcome_unknown, sql_session  # noqa: E402

LEASE_KEY = "bo:lease:housekeeping"     # fcgi-app/housekeeping.h
STRATEGIES = ("gate", "event-lock")

# The short profile runs in scripts/test; the long one is scripts/faults.
PROFILES = {
    "short": dict(clients=10, seats=60, before=1.0, after_min=1.0, settle_max=25.0, kills=2,
                  redis_down=0.5, redis_stall=1.5, mysql_stall=3.0, kill_rounds=3, resolve=False),
    "long": dict(clients=24, seats=150, before=4.0, after_min=6.0, settle_max=40.0, kills=4,
                 redis_down=3.0, redis_stall=4.0, mysql_stall=8.0, kill_rounds=8, resolve=True),
}


def profile():
    name = os.environ.get("BOXOFFICE_FAULTS_PROFILE", "short")
    if name not in PROFILES:
        raise SystemExit(f"BOXOFFICE_FAULTS_PROFILE={name}: short or long")
    return dict(PROFILES[name], name=name)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_until(what, pred, timeout, interval=0.1):
    """pred() until true, at most timeout seconds; returns the seconds it took."""
    t0 = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


# ---------------------------------------------------------------- metrics and Redis

def parse_metrics(text):
    """Prometheus text -> {"name{labels}": value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


CONFIRMED = 'boxoffice_reservations_total{outcome="confirmed"}'
CREATED_201 = 'boxoffice_http_requests_total{route="reservation_create",status="201"}'
CANCELLED_200 = 'boxoffice_http_requests_total{route="reservation_cancel",status="200"}'
COUNTED = (CONFIRMED, CREATED_201, CANCELLED_200)


def redis_call(port, *args, timeout=1.0):
    """One Redis command on a connection of its own, bounded by timeout (a stalled Redis must
    not stall the prober): the reply as str, int or None; OSError on a timeout or a closed
    connection, RuntimeError on an error reply."""
    parts = [str(a).encode() for a in args]
    req = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    with socket.create_connection(("127.0.0.1", int(port)), timeout=timeout) as s:
        s.sendall(req)
        f = s.makefile("rb")
        line = f.readline().rstrip(b"\r\n")
        if not line:
            raise OSError("redis closed the connection")
        kind, rest = line[:1], line[1:].decode()
        if kind == b"-":
            raise RuntimeError(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:n].decode()
        return rest


# ---------------------------------------------------------------- the stack

class Instance:
    """One app instance: its daemon (master, workers, housekeeper) and its nginx."""

    def __init__(self, cluster, k):
        self.cluster, self.k = cluster, k

    def env(self, key):
        return self.cluster.env[f"BOXOFFICE_INSTANCE_{self.k}_{key}"]

    @property
    def url(self):
        return self.env("URL")

    def master(self):
        pid = Stack.read_pid(self.env("APP_PID_FILE")) or Stack.read_pid(self.env("APP_LAUNCH_PID_FILE"))
        return pid if pid and Stack.alive(pid) else None

    def _children(self, housekeeper):
        m = self.master()
        return [p for p in Stack.children(m) if (Stack.comm(p) == "bo-housekeeper") == housekeeper] if m else []

    def workers(self):
        return self._children(False)

    def housekeeper(self):
        kids = self._children(True)
        return kids[0] if kids else None

    def nginx(self):
        pid = Stack.read_pid(self.env("NGINX_PID_FILE"))
        return pid if pid and Stack.alive(pid) else None

    def metrics(self, timeout=5.0):
        """The instance's counters (its own nginx: /api/metrics refuses the balancer), or None."""
        try:
            r = requests.get(self.url + "/api/metrics", timeout=timeout)
        except requests.RequestException:
            return None
        return parse_metrics(r.text) if r.status_code == 200 else None

    def metrics_direct(self):
        """The counters straight from the daemon's socket (its nginx may be stopped)."""
        r = fcgi_client.request(self.env("APP_SOCKET"), "GET", "/api/metrics", timeout=10)
        assert r.status == 200, r.body[:300]
        return parse_metrics(r.body.decode())

    def ready(self):
        try:
            return requests.get(self.url + "/api/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def leader(self):
        m = self.metrics()
        return bool(m and m.get("boxoffice_housekeeping_leader") == 1)


def conf_workers(path):
    """The `workers` key of a rendered daemon config."""
    for line in Path(path).read_text().splitlines():
        key, eq, value = line.partition("=")
        if eq and key.strip() == "workers" and not line.lstrip().startswith(("#", ";")):
            return int(value.strip())
    return 16       # conf/boxoffice.conf.example's default


class Cluster(Stack):
    """The stack of scripts/stack up --instances K (tests/integration's Stack, per instance)."""

    def __init__(self, env):
        super().__init__(env)
        self.instances = [Instance(self, k) for k in range(1, int(env.get("BOXOFFICE_INSTANCES", "1")) + 1)]
        self.workers_each = conf_workers(self.instances[0].env("APP_CONF"))

    def pid(self, what):
        """The pid of "mysql" or "redis" (what scripts/stack started)."""
        pid = self.read_pid(self.env[f"BOXOFFICE_{what.upper()}_PID_FILE"])
        assert pid and self.alive(pid), f"{what} is not running"
        return pid

    def redis(self, *args, timeout=1.0):
        return redis_call(self.env["BOXOFFICE_REDIS_PORT"], *args, timeout=timeout)

    def lease(self):
        """The housekeeping lease's token, or None (also when Redis does not answer)."""
        try:
            return self.redis("GET", LEASE_KEY)
        except (OSError, RuntimeError):
            return None

    def leaders(self):
        return [i for i in self.instances if i.leader()]

    def healthy(self):
        """Every instance ready with all its workers, one leader, the lease held."""
        return (all(i.ready() and len(i.workers()) >= self.workers_each and i.housekeeper()
                    for i in self.instances)
                and len(self.leaders()) == 1 and self.lease() is not None)

    def wait_healthy(self, timeout=90.0):
        return wait_until("every instance ready, all workers, one lease holder", self.healthy, timeout, 0.25)


def set_strategy(cluster, strategy):
    """Every daemon restarted (QUIT, then scripts/stack up) with reservation_strategy =
    strategy (None: the config's default). The environment keeps it, so that an instance the
    matrix restarts later comes back with the same."""
    if strategy is None:
        os.environ.pop("BOXOFFICE_RESERVATION_STRATEGY", None)
    else:
        os.environ["BOXOFFICE_RESERVATION_STRATEGY"] = strategy
    masters = [i.master() for i in cluster.instances]
    for pid in masters:
        if pid:
            os.kill(pid, signal.SIGQUIT)
    for pid in masters:
        if pid:
            wait_until(f"daemon {pid} stopped", lambda: not Stack.alive(pid), 60)
    cluster.up()
    cluster.wait_healthy()


def running_cluster():
    """The stack of $BOXOFFICE_RUN_DIR, healthy; pytest stops when it has only one instance."""
    import pytest
    from conftest import load_stack_env
    c = Cluster(load_stack_env())
    if len(c.instances) < 2:
        pytest.exit("tests/faults need scripts/stack up --instances 2", returncode=2)
    c.wait_healthy()
    return c


# ---------------------------------------------------------------- the surge

class Quiescence:
    """Lets the prober stop the surge for a moment: no request in flight while it looks."""

    def __init__(self):
        self.cv = threading.Condition()
        self.inflight = 0
        self.paused = False

    @contextmanager
    def request(self, stop):
        with self.cv:
            while self.paused and not stop.is_set():
                self.cv.wait(0.05)
            self.inflight += 1
        try:
            yield
        finally:
            with self.cv:
                self.inflight -= 1
                self.cv.notify_all()

    @contextmanager
    def quiet(self, timeout):
        """Pause new requests and wait (at most timeout) for those in flight: yields True when
        none is left."""
        deadline = time.monotonic() + timeout
        with self.cv:
            self.paused = True
            while self.inflight > 0 and time.monotonic() < deadline:
                self.cv.wait(0.02)
            ok = self.inflight == 0
        try:
            yield ok
        finally:
            with self.cv:
                self.paused = False
                self.cv.notify_all()


class Surge:
    """C clients through the balancer: reserve (a new user each time, 1..3 seats, an
    Idempotency-Key) or cancel one of their own reservations, half and half."""

    def __init__(self, api, ledger, event_id, clients, quiet, tag):
        self.api, self.ledger, self.event_id = api, ledger, event_id
        self.clients, self.quiet, self.tag = clients, quiet, tag
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.sent = []          # (kind, rid, user, qty, key, status, code) in order of answers
        self.threads = []

    def start(self):
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True)
                        for n in range(self.clients)]
        for t in self.threads:
            t.start()

    def stop(self, timeout=60.0):
        self.stop_flag.set()
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), "surge clients still running"

    def _record(self, kind, rid, user, qty, key, r):
        if r is not None:
            status = r.status_code
        else:                   # the Ledger's "exception ConnectionError": the name alone
            with self.ledger.lock:
                status = str(self.ledger.answers.get(rid, ("exception",))[0]).split()[-1]
        code = self._code(r) if r is not None and status not in (200, 201) else None
        with self.lock:
            self.sent.append((kind, rid, user, qty, key, status, code))
        return status

    def _client(self, n):
        rng = random.Random(f"{self.tag}-{n}")
        mine = deque()
        i = 0
        while not self.stop_flag.is_set():
            with self.quiet.request(self.stop_flag):
                if self.stop_flag.is_set():
                    break
                rid = "fault-" + uuid.uuid4().hex
                if mine and rng.random() < 0.5:
                    res_id = mine.popleft()
                    r = self.ledger.call("DELETE", f"/api/reservations/{res_id}", rid=rid)
                    self._record("cancel", rid, None, None, None, r)
                else:
                    user, qty, key = f"{self.tag}-{n}-{i}", rng.randint(1, 3), uuid.uuid4().hex
                    r = self.ledger.reserve(self.event_id, user, qty, key=key, rid=rid)
                    if self._record("reserve", rid, user, qty, key, r) == 201:
                        mine.append(r.json()["data"]["id"])
            i += 1

    def ambiguous(self):
        """The reservations whose answer said nothing of their outcome."""
        with self.ledger.lock:
            answers = dict(self.ledger.answers)
        return [s for s in self.sent if s[0] == "reserve" and
                (not_answered(s[5]) or outcome_unknown(*answers.get(s[1], (None, None))))]

    def resolve(self, timeout=60.0):
        """Send each ambiguous reservation again with the same key, user and body until it gets a
        real answer (a replay of the committed row, or a first commit, or a refusal): what a
        client does. The in-flight marker of a killed worker's request answers 409 with
        Retry-After until it expires. Returns how many were resolved."""
        todo = self.ambiguous()
        deadline = time.monotonic() + timeout
        done = 0
        for _kind, first, user, qty, key, _status, _code in todo:
            while True:
                r = self.ledger.reserve(self.event_id, user, qty, key=key, retry_of=first)
                code = r is not None and r.status_code == 409 and self._code(r)
                # a real answer: anything but "no answer", 503 and "the same request is in flight"
                if r is not None and r.status_code not in (502, 503, 504) and code != "CONCURRENT_RESERVATION":
                    done += 1
                    break
                assert time.monotonic() < deadline, f"request {first} still ambiguous after {timeout:.0f}s"
                time.sleep(min(2.0, float((r is not None and r.headers.get("Retry-After")) or 1)))
        return done

    @staticmethod
    def _code(r):
        try:
            return ((r.json() or {}).get("error") or {}).get("code")
        except ValueError:
            return None

    def counts(self):
        with self.lock:
            sent = list(self.sent)
        res = [s for s in sent if s[0] == "reserve"]
        c = Counter(s[5] for s in res)
        codes = Counter(s[6] for s in res if s[5] == 409)
        other = {str(k): v for k, v in c.items() if k not in (201, 409, 503)}
        return {"requests": len(res), "201": c[201], "409": c[409], "503": c[503],
                "other": " ".join([str(sum(other.values()))] + [f"{k}x{v}" for k, v in sorted(other.items())]),
                "409 codes": dict(codes),
                "cancels": sum(1 for s in sent if s[0] == "cancel"),
                "cancels 200": sum(1 for s in sent if s[0] == "cancel" and s[5] == 200)}


# ---------------------------------------------------------------- the prober

class Prober:
    """Every `interval`, with the surge paused and nothing in flight: is the admission state
    right? Samples (monotonic time, right, detail)."""

    def __init__(self, cluster, quiet, event_id, strategy, interval=0.25):
        self.cluster, self.quiet, self.event_id, self.strategy = cluster, quiet, event_id, strategy
        self.interval = interval
        self.samples = []
        self.leases = []        # (monotonic time, the housekeeping lease's token or None)
        self.stop_flag = threading.Event()
        self.thread = None
        self.db = None

    def start(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_flag.set()
        self.thread.join(30)
        if self.db is not None:
            self.db.close()

    def _available(self):
        if self.db is None:
            self.db = sql_session(self.cluster.env, connect_timeout=2, read_timeout=2, write_timeout=2)
        with self.db.cursor() as c:
            c.execute("SELECT COALESCE(SUM(available), 0) FROM event_inventory WHERE event_id = %s",
                      (self.event_id,))
            return int(c.fetchone()[0])

    def probe(self):
        """(right, detail), or None when it could not look (requests still in flight, a server
        that does not answer)."""
        ev = self.event_id
        with self.quiet.quiet(timeout=2.0) as calm:
            if not calm:
                return None
            try:
                if self.strategy == "event-lock":
                    lock = self.cluster.redis("EXISTS", f"bo:{{ev:{ev}}}:lock")
                    return lock == 0, f"lock {'held' if lock else 'free'}"
                counter = self.cluster.redis("GET", f"bo:{{ev:{ev}}}:avail")
            except (OSError, RuntimeError):     # Redis stalled or restarting
                return None
            try:
                available = self._available()
            except pymysql.Error:               # MariaDB stalled or restarting
                try:
                    self.db.close()
                except Exception:
                    pass
                self.db = None
                return None
        # Right: not below the database (a false "sold out"). A counter above it is allowed
        # (the database refuses what the gate over-admits; a reconcile racing a cancel leaves
        # one, by design: redis_gate.h), and so is a missing one (rebuilt at its first use).
        return counter is None or int(counter) >= available, f"gate {counter} db {available}"

    def _run(self):
        while not self.stop_flag.is_set():
            self.leases.append((time.monotonic(), self.cluster.lease()))
            r = self.probe()
            if r is not None:
                self.samples.append((time.monotonic(), *r))
            self.stop_flag.wait(self.interval)

    def right_after(self, t, until=None):
        """Seconds from t until the state was right and stayed right, up to until (the next
        fault of a soak; default: now); None when it was still wrong at the end."""
        after = [s for s in self.samples if s[0] >= t and (until is None or s[0] < until)]
        if not after or not after[-1][1]:
            return None
        wrong = [s for s in after if not s[1]]
        if not wrong:
            return 0.0
        first_ok = next(s for s in after if s[0] > wrong[-1][0])
        return first_ok[0] - t

    def lease_moved_after(self, t, old):
        """Seconds from t until another token held the lease (None: not seen)."""
        return next((ts - t for ts, token in self.leases if ts >= t and token not in (None, old)), None)

    def wrong_detail(self, t):
        return [d for ts, ok, d in self.samples if ts >= t and not ok][-3:]


# ---------------------------------------------------------------- the faults

class Run:
    """What a fault gets: the cluster and profile, and where it notes what it did."""

    def __init__(self, cluster, prof, strategy):
        self.cluster, self.prof, self.strategy = cluster, prof, strategy
        self.notes = []
        self.kills = 0              # workers SIGKILLed (each may lose one answer)
        self.epochs = []            # (instance, counters) of a daemon that stopped during the run
        self.holder_killed = None   # monotonic time the lease holder died, if it did

    def note(self, text):
        self.notes.append(text)
        log(f"  fault: {text}")


def _leader(run):
    leaders = run.cluster.leaders()
    return leaders[0] if leaders else run.cluster.instances[-1]


def fault_worker_kill(run):
    """SIGKILL random workers of every instance, and the lease holder's housekeeper."""
    rng = random.Random()
    holder = _leader(run)
    killed = 0
    for n in range(run.prof["kills"]):
        for inst in run.cluster.instances:
            workers = inst.workers()
            if workers:
                pid = rng.choice(workers)
                os.kill(pid, signal.SIGKILL)
                killed += 1
        time.sleep(0.3)
    run.kills += killed
    hk = holder.housekeeper()
    if hk:
        os.kill(hk, signal.SIGKILL)
        run.holder_killed = time.monotonic()
    run.note(f"{killed} workers and the housekeeper of instance {holder.k} (lease holder) SIGKILLed")
    for inst in run.cluster.instances:
        wait_until(f"instance {inst.k}'s workers respawned",
                   lambda: len(inst.workers()) >= run.cluster.workers_each, 30)


def fault_sighup(run):
    """SIGHUP to every master, one after the other: the workers roll."""
    for inst in run.cluster.instances:
        before = set(inst.workers())
        os.kill(inst.master(), signal.SIGHUP)
        wait_until(f"instance {inst.k}'s workers rolled", lambda: (
            len(inst.workers()) >= run.cluster.workers_each and not set(inst.workers()) & before), 60)
    run.note("SIGHUP to every master; all workers rolled")


def fault_instance_restart(run):
    """The lease holder's instance stops gracefully (nginx QUIT, then the daemon QUIT: the
    balancer sends everything to the other one meanwhile) and starts again."""
    inst = _leader(run)
    nginx, master = inst.nginx(), inst.master()
    os.kill(nginx, signal.SIGQUIT)
    wait_until(f"nginx {inst.k} stopped", lambda: not Stack.alive(nginx), 30)
    # nothing reaches the daemon now: its counters are final
    run.epochs.append((inst.k, inst.metrics_direct()))
    os.kill(master, signal.SIGQUIT)
    run.holder_killed = time.monotonic()
    wait_until(f"daemon {inst.k} stopped", lambda: not Stack.alive(master), 60)
    run.cluster.up()
    run.note(f"instance {inst.k} (lease holder) stopped with QUIT and started again")


def fault_redis_restart(run):
    run.cluster.stop_pid(run.cluster.env["BOXOFFICE_REDIS_PID_FILE"], signal.SIGTERM, timeout=30)
    time.sleep(run.prof["redis_down"])
    run.cluster.up()
    run.note(f"Redis stopped (TERM), down {run.prof['redis_down']}s, started again (empty)")


def _stall(run, what, seconds):
    pid = run.cluster.pid(what)
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)
    run.note(f"{what} stopped (SIGSTOP) for {seconds}s, then SIGCONT")


def fault_redis_stall(run):
    _stall(run, "redis", run.prof["redis_stall"])


def fault_mysql_restart(run):
    run.cluster.stop_pid(run.cluster.env["BOXOFFICE_MYSQL_PID_FILE"], signal.SIGTERM, timeout=90)
    run.cluster.up()
    run.note("MariaDB stopped (TERM) and started again")


def fault_mysql_stall(run):
    _stall(run, "mysql", run.prof["mysql_stall"])


def fault_kill_connection(run):
    """KILL CONNECTION of the daemons' database sessions, busy ones first, a few rounds."""
    killed = 0
    with sql_session(run.cluster.env, connect_timeout=5, read_timeout=10) as s:
        for _ in range(run.prof["kill_rounds"]):
            with s.cursor() as c:
                c.execute("SELECT ID, INFO IS NOT NULL FROM information_schema.PROCESSLIST "
                          "WHERE USER = %s AND ID <> CONNECTION_ID()", (run.cluster.env["BOXOFFICE_MYSQL_USER"],))
                rows = c.fetchall()
            busy = [r[0] for r in rows if r[1]] or [r[0] for r in rows]
            for cid in random.sample(busy, min(2, len(busy))):
                with s.cursor() as c:
                    try:
                        c.execute(f"KILL CONNECTION {int(cid)}")
                        killed += 1
                    except Exception:   # it ended meanwhile
                        pass
            time.sleep(0.25)
    run.note(f"{killed} database connections of the daemons KILLed")


def fault_nginx_reload(run):
    """SIGHUP to every instance's nginx and to the balancer."""
    pids = [i.nginx() for i in run.cluster.instances] + [run.cluster.read_pid(run.cluster.env["BOXOFFICE_BALANCER_PID_FILE"])]
    for pid in pids:
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.3)
    run.note(f"SIGHUP to {len(pids)} nginx masters (2 instances, the balancer)")


FAULTS = {
    "worker-kill": fault_worker_kill,
    "sighup": fault_sighup,
    "instance-restart": fault_instance_restart,
    "redis-restart": fault_redis_restart,
    "redis-stall": fault_redis_stall,
    "mysql-restart": fault_mysql_restart,
    "mysql-stall": fault_mysql_stall,
    "kill-connection": fault_kill_connection,
    "nginx-reload": fault_nginx_reload,
}


# ---------------------------------------------------------------- one run

def counters_delta(base, final, epochs):
    """Counters summed over the instances, from base to final; a daemon that stopped during the
    run counted from base to its last scrape, then from zero."""
    total = Counter()
    base = {k: dict(v) for k, v in base.items()}
    for k, scrape in epochs:
        for name in COUNTED:
            total[name] += scrape.get(name, 0) - base[k].get(name, 0)
        base[k] = {}
    for k, scrape in final.items():
        for name in COUNTED:
            total[name] += scrape.get(name, 0) - base[k].get(name, 0)
    return total


def scrape_all(cluster, timeout=30.0):
    """Every instance's counters; waits (bounded) for an instance that does not answer yet."""
    out = {}
    for inst in cluster.instances:
        deadline = time.monotonic() + timeout
        while (m := inst.metrics()) is None:
            assert time.monotonic() < deadline, f"instance {inst.k}: no /api/metrics within {timeout:.0f}s"
            time.sleep(0.2)
        out[inst.k] = m
    return out


def check_run(cluster, api, surge, run, ev, base, resolved):
    """The checks after a surge on event ev (base: the counters before it): the invariants, the
    cancels, and the counters of every instance against SQL and the answers. A lost answer is
    allowed only for a killed worker, and only when the ambiguous answers were not resolved.
    Returns the figures."""
    ledger = surge.ledger
    figures = check_invariants(api, ledger, ev, lost_answers=0 if resolved else run.kills)
    # every cancel answered 200 is a CANCEL in the audit
    cancelled = {r for (r,) in api.sql(f"SELECT request_id FROM reservation_audit WHERE event_id = {ev} "
                                       f"AND action = 'CANCEL'")}
    ok_cancels = {s[1] for s in surge.sent if s[0] == "cancel" and s[5] == 200}
    assert ok_cancels <= cancelled, f"cancels answered 200 without a CANCEL row: {sorted(ok_cancels - cancelled)[:5]}"
    # the counters of every instance agree with SQL and with the answers; a worker killed
    # between its COMMIT (or its answer) and its count may leave each off by one
    delta = counters_delta(base, scrape_all(cluster), run.epochs)
    with ledger.lock:
        answers = dict(ledger.answers)
    created_rids = [r for (r,) in api.sql(f"SELECT request_id FROM reservation_audit WHERE event_id = {ev} "
                                          f"AND action = 'CREATE'")]
    unknown_committed = sum(1 for rid in created_rids if outcome_unknown(*answers.get(rid, (0, None))))
    creates = len(created_rids)
    confirmed = int(delta[CONFIRMED])
    slack = run.kills
    assert creates - unknown_committed - slack <= confirmed <= creates, \
        f"metrics: {confirmed} confirmed, SQL: {creates} created ({unknown_committed} answered 'unknown')"
    answered_201 = sum(1 for st, _ in answers.values() if st == 201)
    got_201 = int(delta[CREATED_201])
    assert answered_201 <= got_201 <= answered_201 + slack, \
        f"metrics: {got_201} reservations answered 201, the clients got {answered_201}"
    got_200 = int(delta[CANCELLED_200])
    assert len(ok_cancels) <= got_200 <= len(ok_cancels) + slack and got_200 <= len(cancelled), \
        f"metrics: {got_200} cancels answered 200, the clients got {len(ok_cancels)}, SQL has {len(cancelled)}"
    return {"total": figures["total"], "sold": figures["sold"], "available": figures["available"],
            "unknown": figures.get("outcome unknown (committed)", "0"),
            "lost": figures.get("committed, not answered", 0),
            "relearned": figures.get("committed, answer learned by a retry", 0),
            "metrics": f"{confirmed}/{creates}"}


def run_fault(cluster, api, strategy, fault, prof):
    """One fault under the surge; asserts every invariant and returns the row of figures."""
    t_start = time.monotonic()
    tag = uuid.uuid4().hex[:6]
    ev = api.create_event(totalSeats=prof["seats"], maxPerRequest=4, perUserLimit=100,
                          eventName=f"fault {fault} {strategy} {tag}")["id"]
    ledger = Ledger(api)
    base = scrape_all(cluster)
    lease_before = cluster.lease()
    quiet = Quiescence()
    surge = Surge(api, ledger, ev, prof["clients"], quiet, f"f{tag}")
    prober = Prober(cluster, quiet, ev, strategy)
    run = Run(cluster, prof, strategy)
    log(f"{strategy} / {fault}: event {ev}, {prof['seats']} seats, {prof['clients']} clients")
    surge.start()
    prober.start()
    try:
        time.sleep(prof["before"])
        t_fault = time.monotonic()
        FAULTS[fault](run)
        t_end = time.monotonic()
        fault_s = t_end - t_fault
        # the surge goes on until the admission state is right again (bounded)
        deadline = t_end + prof["settle_max"]
        while time.monotonic() < deadline:
            if time.monotonic() - t_end >= prof["after_min"] and prober.right_after(t_end) is not None:
                break
            time.sleep(0.2)
    finally:
        surge.stop()
    # without traffic, the state must still come right (reconciliation, the lock's TTL)
    try:
        wait_until("the admission state right again", lambda: prober.right_after(t_end) is not None,
                   prof["settle_max"], 0.2)
        right_after = prober.right_after(t_end)
        log(f"  surge stopped; admission state right {right_after:.1f}s after the fault")
        if run.holder_killed is not None:
            # a killed holder's lease runs out (LEASE_TTL_MS), then someone takes it
            wait_until("the lease holder died: another holder", lambda: prober.lease_moved_after(
                run.holder_killed, lease_before) is not None, 60)
        cluster.wait_healthy()
    finally:
        prober.stop()
    lease_after = cluster.lease()
    lease = "kept" if lease_after == lease_before else "moved"
    if run.holder_killed is not None:
        lease = f"moved in {prober.lease_moved_after(run.holder_killed, lease_before):.1f}s"
    resolved = surge.resolve() if prof["resolve"] else 0
    counts = surge.counts()
    figures = check_run(cluster, api, surge, run, ev, base, resolved=prof["resolve"])
    row = {"strategy": strategy, "fault": fault, **counts, **figures, "resolved": resolved,
           "right_after": right_after, "lease": lease,
           "fault_s": fault_s, "secs": time.monotonic() - t_start, "notes": run.notes,
           "wrong": prober.wrong_detail(t_fault)}
    log(f"  {format_row(row)}")
    return row


# ---------------------------------------------------------------- the table

COLUMNS = [("strategy", "strategy", "{}"), ("fault", "fault", "{}"), ("requests", "requests", "{}"),
           ("201", "201", "{}"), ("409", "409", "{}"), ("503", "503", "{}"), ("other", "other", "{}"),
           ("cancels", "cancels", "{}"), ("sold", "sold", "{}"), ("available", "avail", "{}"),
           ("total", "total", "{}"), ("unknown", "unknown (committed)", "{}"), ("lost", "lost", "{}"),
           ("relearned", "learned by retry", "{}"),
           ("metrics", "metric/SQL", "{}"), ("right_after", "gate right after s", "{:.1f}"),
           ("lease", "lease", "{}"), ("secs", "run s", "{:.0f}")]


def format_row(row):
    return "  ".join(f"{title}={fmt.format(row[key]) if row.get(key) is not None else '-'}"
                     for key, title, fmt in COLUMNS)


def format_table(rows):
    """A Markdown table, one row per run."""
    head = [title for _, title, _ in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [fmt.format(row[key]) if row.get(key) is not None else "-" for key, _, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
