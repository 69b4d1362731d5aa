"""Fault injection on the real stack: a MySQL-protocol-aware TCP proxy that cuts the daemon's
database connection at a chosen statement, SQL sessions that hold locks and KILL connections, a
way to run the daemon against the proxy, and the invariant checks every fault test ends with.

Nothing here mocks a server: the proxy forwards bytes to the real MariaDB, and a cut is a real
closed socket, exactly what the daemon sees when a network path or a failover drops it."""
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pymysql

from conftest import load_stack_env

COM_QUERY = 0x03


class Rule:
    """Cut the connection that sends a statement matching `pattern`.

    action "cut_before":      the statement never reaches the server (the client has sent it,
                              so from its side the outcome is unknown);
    action "cut_after_reply": the server runs it to the end and answers, and the answer is
                              dropped: the work is done but the client never hears of it;
    action "delay_reply":     the server runs it at once; its answer reaches the client `delay`
                              seconds later (a slow network, a stalled client);
    action "note":            nothing happens to it; the proxy remembers which client connection
                              sent it (FaultProxy.noted, for FaultProxy.sender_pid)."""

    def __init__(self, pattern, action, times=1, delay=1.5, then_refuse=0.0):
        assert action in ("cut_before", "cut_after_reply", "delay_reply", "note"), action
        self.delay = delay
        self.then_refuse = then_refuse     # seconds the server then looks down (new connections refused)
        self.regex = re.compile(pattern, re.S)
        self.action = action
        self.left = times


class FaultProxy:
    """127.0.0.1:<port> -> MariaDB's unix socket. Each client connection gets a fresh upstream
    connection; client packets are parsed (3-byte length, 1-byte sequence) so that each command's
    SQL text (COM_QUERY, sequence 0) can be matched against the rules."""

    def __init__(self, upstream_socket):
        self.upstream = upstream_socket
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(512)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.rules = []
        self.fired = []          # (action, sql) of every cut, in order
        self.noted = []          # (sql, the client's port) of every "note", in order
        self.closing = False
        self.refuse_until = 0.0
        self.conns = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def add_rule(self, pattern, action, times=1, delay=1.5, then_refuse=0.0):
        with self.lock:
            self.rules.append(Rule(pattern, action, times, delay, then_refuse))

    def clear(self):
        with self.lock:
            self.rules = []
            self.noted = []
            fired, self.fired = self.fired, []
        return fired

    def close(self):
        self.closing = True
        try:
            self.lsock.close()
        except OSError:
            pass
        for s in list(self.conns):
            _close(s)

    # ---- internals
    def wait_noted(self, pattern, timeout=15.0):
        """The client port of the first noted statement that matches `pattern`, once it was sent."""
        regex = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for sql, port in self.noted:
                    if regex.search(sql):
                        return port
            time.sleep(0.02)
        raise AssertionError(f"no noted statement matched {pattern!r} within {timeout}s")

    def sender_pid(self, port):
        """The process that owns the client side of the proxy connection from `port`."""
        out = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{port} and "
                              f"dport = :{self.port} )"], capture_output=True, text=True, check=True).stdout
        m = re.search(r"pid=(\d+)", out)
        assert m, f"no process owns 127.0.0.1:{port} -> :{self.port}: {out!r}"
        return int(m.group(1))

    def _match(self, sql, port=None):
        with self.lock:
            for r in self.rules:
                if r.left > 0 and r.regex.search(sql):
                    r.left -= 1
                    if r.action == "note":
                        self.noted.append((sql, port))
                        return None
                    self.fired.append((r.action, sql))
                    if r.then_refuse:
                        self.refuse_until = time.monotonic() + r.then_refuse
                    return r
        return None

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            if time.monotonic() < self.refuse_until:
                _close(c)       # a server that is restarting
                continue
            try:
                u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                u.connect(self.upstream)
            except OSError:
                _close(c)       # the server is down: so is the path to it
                continue
            self.conns.update((c, u))
            state = {"mute": False}
            threading.Thread(target=self._client_to_server, args=(c, u, state), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(u, c, state), daemon=True).start()

    def _client_to_server(self, c, u, state):
        buf = b""
        try:
            port = c.getpeername()[1]
            while True:
                data = c.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 4:
                    length = buf[0] | buf[1] << 8 | buf[2] << 16
                    if len(buf) < 4 + length:
                        break
                    packet, buf = buf[:4 + length], buf[4 + length:]
                    seq, payload = packet[3], packet[4:]
                    rule = None
                    if seq == 0 and payload[:1] == bytes([COM_QUERY]):
                        rule = self._match(payload[1:].decode("utf-8", "replace"), port)
                    action = rule.action if rule else None
                    if action == "delay_reply":
                        state["delay_until"] = time.monotonic() + rule.delay
                    if action == "cut_before":
                        return
                    u.sendall(packet)
                    if action == "cut_after_reply":
                        state["mute"] = True
                        state["last"] = time.monotonic()
                        state["got"] = False
                        # Let the server finish and answer (it sees a healthy peer), then drop
                        # the client side without passing the answer on.
                        deadline = time.monotonic() + 30
                        while time.monotonic() < deadline:
                            time.sleep(0.02)
                            if state["got"] and time.monotonic() - state["last"] > 0.3:
                                break
                        return
        except OSError:
            pass
        finally:
            _close(c)
            _close(u)
            self.conns.discard(c)
            self.conns.discard(u)

    def _server_to_client(self, u, c, state):
        try:
            while True:
                data = u.recv(65536)
                if not data:
                    break
                if state["mute"]:
                    state["got"] = True
                    state["last"] = time.monotonic()
                    continue
                wait = state.get("delay_until", 0) - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                c.sendall(data)
        except OSError:
            pass
        finally:
            if not state["mute"]:
                _close(c)
                _close(u)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def in_background(fn, *args):
    """fn(*args) in a daemon thread, started; join it."""
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


# ---------------------------------------------------------------- SQL sessions

def sql_session(env, autocommit=True, **kw):
    """A session as the application's database user (it may KILL the daemon's own connections);
    kw goes to pymysql.connect (e.g. read_timeout)."""
    return pymysql.connect(unix_socket=env["BOXOFFICE_MYSQL_SOCKET"], user=env["BOXOFFICE_MYSQL_USER"],
                           password=env["BOXOFFICE_MYSQL_PASSWORD"], database=env["BOXOFFICE_MYSQL_DB"],
                           autocommit=autocommit, charset="utf8mb4", **kw)


class TableLock:
    """LOCK TABLES <table> WRITE in a session of its own, until release(): every statement of the
    daemon that touches the table waits (on the metadata lock, which no innodb timeout ends)."""

    def __init__(self, env, table):
        self.s = sql_session(env)
        with self.s.cursor() as c:
            c.execute(f"LOCK TABLES {table} WRITE")

    def release(self):
        if self.s is not None:
            with self.s.cursor() as c:
                c.execute("UNLOCK TABLES")
            self.s.close()
            self.s = None


def waiting_connection(env, info_prefix, timeout=15.0):
    """The id of the daemon's connection that runs a statement starting with info_prefix."""
    deadline = time.monotonic() + timeout
    with sql_session(env) as s:
        while time.monotonic() < deadline:
            with s.cursor() as c:
                c.execute("SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE INFO LIKE %s "
                          "AND ID <> CONNECTION_ID()", (info_prefix + "%",))
                rows = c.fetchall()
            if rows:
                return rows[0][0]
            time.sleep(0.02)
    raise AssertionError(f"no connection ran {info_prefix!r} within {timeout}s")


def kill_connection(env, conn_id):
    with sql_session(env) as s, s.cursor() as c:
        c.execute(f"KILL CONNECTION {int(conn_id)}")


# ---------------------------------------------------------------- the daemon behind the proxy

class ProxiedDaemon:
    """Runs the stack's daemon with its database connection through a FaultProxy (TCP) and with
    the given config overrides; the pid goes into the stack's launch.pid, so `scripts/stack down`
    stops it like its own. stop() brings the stack's own daemon back."""

    def __init__(self, stack, **overrides):
        self.stack = stack
        self.env = stack.env
        self.proxy = FaultProxy(self.env["BOXOFFICE_MYSQL_SOCKET"])
        self._stop_master()
        conf = Path(self.env["BOXOFFICE_APP_CONF"])
        self.conf = conf.with_name("boxoffice-faults.conf")
        values = {"mysql_socket": '""', "mysql_host": "127.0.0.1", "mysql_port": str(self.proxy.port)}
        values.update({k: str(v) for k, v in overrides.items()})
        lines, seen = [], set()
        for line in conf.read_text().splitlines():
            k = line.partition("=")[0].strip()
            if "=" in line and not line.lstrip().startswith(("#", ";")) and k in values:
                lines.append(f"{k} = {values[k]}")
                seen.add(k)
            else:
                lines.append(line)
        lines += [f"{k} = {v}" for k, v in values.items() if k not in seen]
        self.conf.write_text("\n".join(lines) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
        env["BOXOFFICE_DEBUG_ENDPOINTS"] = os.environ.get("BOXOFFICE_DEBUG_ENDPOINTS", "on")
        log = open(self.env["BOXOFFICE_APP_LOG"], "ab")
        p = subprocess.Popen([self.env["BOXOFFICE_BIN"], "--config", str(self.conf)], env=env,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.pid = p.pid
        Path(self.env["BOXOFFICE_APP_LAUNCH_PID_FILE"]).write_text(f"{p.pid}\n")
        self._popen = p
        stack.wait_status("/api/ready", lambda r: r.status_code == 200 and r.json()["data"]["status"] == "UP",
                          timeout=60)

    def _stop_master(self):
        master = self.stack.master_pid()
        os.kill(master, signal.SIGQUIT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.stack.alive(master):
            time.sleep(0.05)
        assert not self.stack.alive(master), "the daemon did not stop on SIGQUIT within 60s"

    def stop(self):
        self._stop_master()
        self._popen.wait(timeout=10)
        self.proxy.close()
        self.stack.up()
        self.stack.env.update(load_stack_env())


# ---------------------------------------------------------------- requests and invariants

def request_id():
    return "fault-" + uuid.uuid4().hex


class Ledger:
    """Every answer a fault test got, by the X-Request-Id it sent, so that the database can be
    held to it: each 201 is a committed row, each committed row was answered 201.

    A client that got no usable answer may send the same request again with the same
    Idempotency-Key (retry_of: the request id of the first attempt); the committed row of the
    first attempt is then answered by the retry's 201."""

    def __init__(self, api):
        self.api = api
        self.answers = {}       # request id -> (status, body or None)
        self.retry_of = {}      # request id of a retry -> request id of the first attempt
        self.lock = threading.Lock()

    def call(self, method, path, rid=None, retry_of=None, **kw):
        rid = rid or request_id()
        if retry_of is not None:
            with self.lock:
                self.retry_of[rid] = retry_of
        headers = dict(kw.pop("headers", None) or {})
        headers["X-Request-Id"] = rid
        try:
            r = self.api.call(method, path, headers=headers, check=False, **kw)
            status = r.status_code
            body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else None
        except Exception as e:      # a dropped connection is an answer too
            r, status, body = None, f"exception {type(e).__name__}", None
        with self.lock:
            self.answers[rid] = (status, body)
        return r

    def reserve(self, event_id, user, quantity=1, key=None, admin=False, rid=None, retry_of=None):
        h = {"Idempotency-Key": key} if key is not None else None
        return self.call("POST", "/api/reservations", headers=h, admin=admin, rid=rid,
                         retry_of=retry_of,
                         json={"eventId": event_id, "userId": user, "quantity": quantity})

    def statuses(self):
        with self.lock:
            return [a[0] for a in self.answers.values()]


def check_invariants(api, ledger, event_id, total=None, lost_answers=0):
    """The figures every fault test ends with; returns them as a dict.

    lost_answers: how many committed rows may have had no answer at all (a transport error, or a
    502/504 from nginx: the worker was SIGKILLed between COMMIT and its answer) and no retry
    that learned the outcome. Only a test that kills workers has any."""
    eid = int(event_id)
    if total is None:
        total = int(api.sql_value(f"SELECT total_seats FROM events WHERE id={eid}"))
    sold = api.sold(eid)
    held = int(api.sql_value(f"SELECT COALESCE(SUM(available),0) FROM event_inventory WHERE event_id={eid}") or 0)
    assert sold <= total, f"event {eid}: OVERSOLD {sold} > {total}"
    assert sold + held == total, f"event {eid}: sold {sold} + SUM(shards) {held} != total {total}"
    # every tally equals its user's CONFIRMED seats
    rows = api.sql(f"SELECT t.user_id, t.seats, COALESCE((SELECT SUM(r.quantity) FROM reservations r "
                   f"WHERE r.event_id = t.event_id AND r.user_id = t.user_id AND r.status IN ('CONFIRMED', "
                   f"'HELD')), 0) "
                   f"FROM user_event_tally t WHERE t.event_id = {eid}")
    for user, seats, confirmed in rows:
        assert int(seats) == int(confirmed), f"event {eid}: tally of {user!r} is {seats}, CONFIRMED+HELD seats {confirmed}"
    orphans = api.sql_value(f"SELECT COUNT(*) FROM reservations r WHERE r.event_id = {eid} AND r.status = "
                            f"'CONFIRMED' AND NOT EXISTS (SELECT 1 FROM user_event_tally t WHERE "
                            f"t.event_id = r.event_id AND t.user_id = r.user_id)")
    assert int(orphans) == 0, f"event {eid}: {orphans} CONFIRMED reservations without a tally row"
    # every 201 the client saw is a committed row created by that request
    created = {}
    for rid, res_id in api.sql(f"SELECT request_id, reservation_id FROM reservation_audit "
                               f"WHERE event_id = {eid} AND action = 'CREATE'"):
        created.setdefault(rid, []).append(int(res_id))
    answered_201 = {}
    with ledger.lock:
        answers = dict(ledger.answers)
    for rid, (status, body) in answers.items():
        if status == 201 and body and body.get("data", {}).get("eventId") == eid:
            answered_201[rid] = int(body["data"]["id"])
    rows = {int(i) for (i,) in api.sql(f"SELECT id FROM reservations WHERE event_id = {eid}")}
    for rid, res_id in answered_201.items():
        replayed = rid not in created
        assert replayed or created[rid] == [res_id], \
            f"201 for request {rid} said reservation {res_id}, the audit says {created[rid]}"
        assert res_id in rows, f"201 for request {rid}: reservation {res_id} is not in the database"
    # every committed row's request was answered 201, or 503 saying its outcome is unknown (the
    # daemon could not learn it within txn_lookup_wait_ms), or was not one of ours
    unknown = {rid for rid, (status, body) in answers.items() if outcome_unknown(status, body)}
    with ledger.lock:
        learned = {}            # first attempt -> reservation ids its retries were answered 201 with
        for retry, first in ledger.retry_of.items():
            if retry in answered_201:
                learned.setdefault(first, set()).add(answered_201[retry])
    lost, relearned = [], 0
    for rid, ids in created.items():
        assert len(ids) == 1, f"request {rid} created {len(ids)} reservations: {ids}"
        if rid in answers and rid not in answered_201 and rid not in unknown:
            if ids[0] in learned.get(ledger.retry_of.get(rid, rid), ()):
                relearned += 1  # a retry with the same key was answered 201 with this row
                continue
            status = answers[rid][0]
            assert not_answered(status), \
                f"reservation {ids[0]} was committed for request {rid}, which was answered {status}"
            lost.append(rid)
    assert len(lost) <= lost_answers, \
        f"{len(lost)} committed reservations got no answer (allowed: {lost_answers}): {lost[:5]}"
    counts = {}
    for st in ledger.statuses():
        counts[str(st)] = counts.get(str(st), 0) + 1
    figures = {"total": total, "sold": sold, "available": held, "answers": dict(sorted(counts.items()))}
    if unknown:
        figures["outcome unknown (committed)"] = f"{len(unknown)} ({len(unknown & set(created))})"
    if lost:
        figures["committed, not answered"] = len(lost)
    if relearned:
        figures["committed, answer learned by a retry"] = relearned
    return figures


def not_answered(status):
    """No answer from the daemon: the connection failed, or nginx said its upstream failed."""
    return not isinstance(status, int) or status in (502, 504)


def outcome_unknown(status, body):
    """A 503 that says the request may have committed (a lost COMMIT answer not yet learned)."""
    details = ((body or {}).get("error") or {}).get("details") or {}
    return status == 503 and details.get("outcome") == "unknown"


def cancel_audit_count(api, reservation_id):
    return int(api.sql_value(f"SELECT COUNT(*) FROM reservation_audit WHERE reservation_id = "
                             f"{int(reservation_id)} AND action = 'CANCEL'"))


def metric(api, name, labels=""):
    """Sum of a counter over the workers' shared metrics (GET /api/metrics)."""
    text = api.call("GET", "/api/metrics", check=False).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + (labels and "{")) or line.startswith(name + " "):
            if labels and labels not in line:
                continue
            total += float(line.rsplit(" ", 1)[1])
    return total


