#!/usr/bin/python3
"""Upgrade converge under load (issue 15, item 6), run by tests/ansible/in-netns.

Release N is converged and serving (boxoffice-fcgi and nginx started by node-services, a
MariaDB on a unix socket, a Redis; auth_mode jwt, so every reservation carries a token from
the test's identity provider, tests/ansible/idp.py). While a bounded load of reads and
reservations goes through nginx, this script:

  1. converges release N+1 (tests/ansible/make-dist ... upgrade: the same tree, version
     bumped, plus a throw-away migration) with ansible/site.yml. The migration is applied
     while release N serves. The play notifies "Reload boxoffice." (the config names the
     release); systemd does not run in the chroot, so this script does what the unit's
     ExecReload does: SIGHUP to the master, which rolls the workers;
  2. rotates the daemon's MySQL password the way production does: ALTER USER in the
     database, a new value in "Secrets Manager" (a stand-in aws CLI inside the chroot),
     then boxoffice-refresh-credentials (installed by the role) rewrites the secret file,
     and a SIGHUP rolls the workers onto it. The waiting room's admission secret rotates in
     the same refresh run: a ticket the daemon signed before is refused after the HUP, and
     the tickets it signs are then under the new value (the test recomputes the HMAC);
  3. stops the load: no request may have failed during either rolling HUP.

Then, without load: every MySQL connection of the app user is killed, and requests must
still succeed (the workers log in again with the rotated password); a control run shows
that the same check fails when the database and the file disagree. Last, the daemon is
restarted into release N+1's binary (in production an instance refresh replaces the
instance instead), which must report N+1 and see the new migration.

Each check prints "ok <name>" or "FAIL <name>" and is appended to WORK/upgrade.results.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import idp

M = os.environ["BOXOFFICE_CHROOT"]
W = os.environ["BOXOFFICE_TEST_WORK"]
HERE = os.path.dirname(os.path.abspath(__file__))
ANSIBLE = os.path.join(HERE, "..", "..", "ansible")
VERSION_N1 = os.environ["BOXOFFICE_UPGRADE_VERSION"]
TARBALL_N1 = os.environ["BOXOFFICE_UPGRADE_TARBALL"]
BASE = "http://127.0.0.1:8080"
ADMIN = {"Authorization": "Bearer ci-admin-token"}
SOCK = os.path.join(M, "run/mysqld/mysqld.sock")
APP_USER = "boxoffice_app"
RESULTS = os.path.join(W, "upgrade.results")
LOG = os.path.join(W, "logs")
DEADLINE = time.monotonic() + 1200  # the whole script, load included, is bounded
# The node runs auth_mode jwt (the role's default): reservations carry a token signed by the
# test's identity provider, one user per reservation (no per-user limit is reached).
ISSUER = idp.Issuer.from_environment()
# The admission secret the converge wrote (tests/ansible/vars/chroot.yml) and the value the
# rotation below puts in its place.
ADMISSION_SECRET = "ci-admission-secret-0123456789abcdef"
ADMISSION_ROTATED = "rotated-admission-" + secrets.token_hex(16)

failures = 0


def check(name, ok, detail=""):
    global failures
    line = f"{'ok  ' if ok else 'FAIL'} {name}" + (f" ({detail})" if detail else "")
    print(line, flush=True)
    with open(RESULTS, "a", encoding="utf-8") as f:
        f.write(line + "\n")
    if not ok:
        failures += 1
    return ok


def http(method, path, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def sql(statement, user="root", password=None):
    cmd = ["mariadb", "--no-defaults", f"--socket={SOCK}", f"-u{user}", "-N", "-B", "boxoffice", "-e", statement]
    if password is not None:
        cmd.insert(4, f"-p{password}")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def master_pid():
    with open(os.path.join(W, "boxoffice.pid"), encoding="ascii") as f:
        return int(f.read())


def workers(ppid):
    """The master's FastCGI responders (children that are not its housekeeper)."""
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat", encoding="ascii", errors="replace") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            # The FastCGI responders only, not the master's housekeeping child.
            if int(fields[1]) == ppid and fields[0] != "Z" and stat[stat.index("(") + 1:stat.rindex(")")] != "bo-housekeeper":
                kids.append(int(d))
    return set(kids)


def hup_and_wait_roll(what):
    """SIGHUP the master (systemctl reload) and wait until no worker of before is left."""
    master = master_pid()
    before = workers(master)
    os.kill(master, signal.SIGHUP)
    deadline = time.monotonic() + 45
    after = set()
    while time.monotonic() < deadline:
        after = workers(master)
        if len(after) >= 4 and not after & before:
            break
        time.sleep(0.1)
    return check(f"{what}: SIGHUP rolled every worker ({len(before)} old -> {len(after)} new)",
                 len(after) >= 4 and not after & before, f"before {sorted(before)}, after {sorted(after)}")


class Load:
    """A few clients sending reads and reservations through nginx until stopped."""

    def __init__(self, event_id, clients=3):
        self.event_id = event_id
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results = []  # (monotonic time, phase, status or error)
        self.phase = "before"
        self.threads = [threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(clients)]

    def client(self, n):
        i = 0
        while not self.stop.is_set() and time.monotonic() < DEADLINE:
            i += 1
            kind = i % 4
            try:
                if kind == 0:
                    status, _ = http("POST", "/api/reservations", {"eventId": self.event_id, "quantity": 1},
                                     headers=ISSUER.bearer(f"load-{n}-{i}"))
                    ok = status == 201
                elif kind == 1:
                    status, _ = http("GET", "/api/ready")
                    ok = status == 200
                elif kind == 2:
                    status, _ = http("GET", f"/api/events/{self.event_id}")
                    ok = status == 200
                else:
                    status, _ = http("GET", "/api/events?page=0&size=5")
                    ok = status == 200
            except Exception as exc:  # connection refused, reset, timeout: all failures
                status, ok = repr(exc), False
            with self.lock:
                self.results.append((time.monotonic(), self.phase, status, ok))
            time.sleep(0.01)

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def converge_n1():
    cmd = ["ansible-playbook", "-i", f"{M},", "-c", "community.general.chroot", os.path.join(ANSIBLE, "site.yml"),
           "-e", "ansible_become=false", "-e", f"@{os.path.join(HERE, 'vars', 'chroot.yml')}",
           "-e", f"@{os.environ['BOXOFFICE_JWT_VARS']}",
           "-e", f"boxoffice_release_version={VERSION_N1}", "-e", f"boxoffice_release_tarball_src={TARBALL_N1}"]
    t0 = time.monotonic()
    with open(os.path.join(LOG, "converge-upgrade.log"), "w", encoding="utf-8") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=900).returncode
    with open(os.path.join(LOG, "converge-upgrade.log"), encoding="utf-8", errors="replace") as f:
        text = f.read()
    recap = re.search(r"^\S+\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", text, re.M)
    check(f"converge release {VERSION_N1} over the running release ({time.monotonic() - t0:.0f} s)",
          rc == 0 and recap is not None, f"rc={rc}, log: {LOG}/converge-upgrade.log")
    applied = sql("SELECT COUNT(*) FROM schema_migrations WHERE version = 900").stdout.strip()
    check("the N+1 converge applied the new migration while N served", applied == "1", f"recorded: {applied}")
    check("the N+1 converge notified the HUP reload (systemd's ExecReload, sent below)",
          "RUNNING HANDLER [boxoffice : Reload boxoffice.]" in text)


def signed_with(secret, ticket):
    """Whether a waiting-room ticket's signature is the HMAC-SHA256 of its body under secret."""
    body, _, sig = ticket.rpartition(".")
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"=").decode(), sig)


def join_queue(event_id, user):
    """POST /api/events/{id}/queue as user: (status, ticket or None)."""
    status, body = http("POST", f"/api/events/{event_id}/queue", {}, headers=ISSUER.bearer(user))
    ticket = json.loads(body)["data"]["ticket"] if status == 201 else None
    return status, ticket


def rotate_secrets(new_password):
    """ALTER USER in MariaDB, new secret values, then the role's refresh script."""
    r = sql(f"ALTER USER '{APP_USER}'@'localhost' IDENTIFIED BY '{new_password}'")
    if not check("ALTER USER in MariaDB (the database side of the rotation)", r.returncode == 0, r.stderr.strip()):
        return
    fake = os.path.join(M, "usr/local/bin/boxoffice-test-aws")
    with open(fake, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\n# tests/ansible/upgrade.py: the rotated secrets, as Secrets Manager would answer\n"
                'case "$*" in\n'
                f"  *:secret:db-app*) printf '%s\\n' '{json.dumps({'username': APP_USER, 'password': new_password})}' ;;\n"
                f"  *:secret:admission*) printf '%s\\n' '{ADMISSION_ROTATED}' ;;\n"
                '  *) echo "ResourceNotFoundException: $*" >&2; exit 254 ;;\n'
                "esac\n")
    os.chmod(fake, 0o755)
    env_src = os.path.join(M, "etc/boxoffice/credentials.env")
    with open(env_src, encoding="utf-8") as f:
        env_text = f.read()
    env_text = re.sub(r"^BOXOFFICE_AWS_CLI=.*$", "BOXOFFICE_AWS_CLI=/usr/local/bin/boxoffice-test-aws", env_text, flags=re.M)
    env_text = re.sub(r"^BOXOFFICE_MYSQL_SECRET_ARN=.*$",
                      "BOXOFFICE_MYSQL_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-app",
                      env_text, flags=re.M)
    env_text = re.sub(r"^BOXOFFICE_ADMISSION_SECRET_ARN=.*$",
                      "BOXOFFICE_ADMISSION_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:admission",
                      env_text, flags=re.M)
    with open(os.path.join(M, "tmp/credentials-test.env"), "w", encoding="utf-8") as f:
        f.write(env_text)
    run = ["chroot", M, "env", "BOXOFFICE_CREDENTIALS_ENV=/tmp/credentials-test.env",
           "/usr/local/sbin/boxoffice-refresh-credentials"]
    r = subprocess.run(run, capture_output=True, text=True, timeout=60)
    check("boxoffice-refresh-credentials rewrote the changed secrets and checked the config",
          r.returncode == 0 and "changed: mysql_password admission_secret" in r.stdout,
          (r.stdout + r.stderr).strip()[-300:])
    check("it names what changed and prints no value",
          new_password not in r.stdout + r.stderr and ADMISSION_ROTATED not in r.stdout + r.stderr)
    with open(os.path.join(M, "etc/boxoffice/secrets/mysql_password"), encoding="utf-8") as f:
        check("the secret file holds the rotated password", f.read() == new_password + "\n")
    with open(os.path.join(M, "etc/boxoffice/secrets/admission_secret"), encoding="utf-8") as f:
        check("the admission secret file holds the rotated value", f.read() == ADMISSION_ROTATED + "\n")
    st = os.stat(os.path.join(M, "etc/boxoffice/secrets/mysql_password"))
    check("the secret file stays 0640 root:boxoffice", (st.st_mode & 0o777) == 0o640 and st.st_uid == 0,
          f"mode {oct(st.st_mode & 0o777)}, uid {st.st_uid}")
    again = subprocess.run(run, capture_output=True, text=True, timeout=60)
    check("a second refresh changes nothing", again.returncode == 0 and "no secret changed" in again.stdout,
          again.stdout.strip()[-200:])


def kill_app_connections():
    ids = sql(f"SELECT id FROM information_schema.processlist WHERE user = '{APP_USER}'").stdout.split()
    for i in ids:
        sql(f"KILL CONNECTION {i}")
    return len(ids)


def main():
    open(RESULTS, "w").close()
    status, body = http("POST", "/api/events", {"eventName": "upgrade drill", "totalSeats": 1000000,
                                                "eventDate": "2099-01-01T20:00:00Z", "perUserLimit": 10},
                        headers=ADMIN)
    if not check("an event for the load (admin API, as the app user)", status == 201, f"{status} {body[:200]}"):
        return 1
    event_id = json.loads(body)["data"]["id"]
    status, body = http("POST", "/api/events", {"eventName": "upgrade drill, waiting room", "totalSeats": 100,
                                                "eventDate": "2099-01-01T20:00:00Z",
                                                "waitingRoom": {"enabled": True, "admitPerSecond": 1000}},
                        headers=ADMIN)
    check("an event with a waiting room", status == 201, f"{status} {body[:200]}")
    room_id = json.loads(body)["data"]["id"] if status == 201 else 0
    status, ticket_before = join_queue(room_id, "queue-before")
    check("the daemon signs waiting-room tickets with the admission secret file's value",
          status == 201 and signed_with(ADMISSION_SECRET, ticket_before), f"{status} {ticket_before}")

    load = Load(event_id)
    load.start()
    try:
        time.sleep(2)
        load.phase = "converge N+1"
        converge_n1()
        load.phase = "HUP after the converge"
        hup_and_wait_roll("release N+1's config")
        time.sleep(2)
        load.phase = "credential rotation"
        rotated = "rotated-" + secrets.token_hex(12)
        status, _ = http("POST", f"/api/events/{room_id}/queue/admission", {"ticket": ticket_before})
        check("control: before the rotation the ticket is the room's own (201 admitted or 409 not yet)",
              status in (201, 409), str(status))
        rotate_secrets(rotated)
        hup_and_wait_roll("rotated credentials")
        load.phase = "after"
        time.sleep(3)
    finally:
        load.finish()

    phases = {}
    for _, phase, status, ok in load.results:
        p = phases.setdefault(phase, [0, 0, []])
        p[0] += 1
        if not ok:
            p[1] += 1
            p[2].append(status)
    for phase, (n, bad, sample) in phases.items():
        print(f"     load during {phase}: {n} requests, {bad} failed {sample[:5] if bad else ''}", flush=True)
    total = sum(p[0] for p in phases.values())
    failed = sum(p[1] for p in phases.values())
    check(f"no failed request through the upgrade converge and both rolling HUPs ({total} requests)",
          failed == 0 and total >= 100 and all(phases.get(p, [0])[0] > 0 for p in
                                               ("converge N+1", "HUP after the converge", "credential rotation")),
          f"{failed} failed")

    # The workers hold the rotated admission secret: the old ticket is no longer theirs.
    status, body = http("POST", f"/api/events/{room_id}/queue/admission", {"ticket": ticket_before})
    check("after the HUP a ticket signed with the old admission secret is refused (403)",
          status == 403 and json.loads(body)["error"]["code"] == "FORBIDDEN", f"{status} {body[:200]}")
    status, ticket_after = join_queue(room_id, "queue-after")
    check("after the HUP the daemon signs tickets with the rotated admission secret",
          status == 201 and signed_with(ADMISSION_ROTATED, ticket_after)
          and not signed_with(ADMISSION_SECRET, ticket_after), f"{status} {ticket_after}")

    # Without load: the workers really hold the rotated password.
    n = kill_app_connections()
    time.sleep(0.5)
    results = [http("GET", "/api/ready")[0] for _ in range(12)]
    status, body = http("POST", "/api/reservations", {"eventId": event_id, "quantity": 1},
                        headers=ISSUER.bearer("after-rotation"))
    check(f"after killing the app user's {n} connections, the workers log in again with the rotated password",
          n > 0 and all(s == 200 for s in results) and status == 201, f"ready {results}, reservation {status}")

    # Control: the same check fails when MariaDB and the file disagree.
    sql(f"ALTER USER '{APP_USER}'@'localhost' IDENTIFIED BY 'not-in-the-file'")
    kill_app_connections()
    time.sleep(0.5)
    bad = [http("GET", "/api/ready")[0] for _ in range(12)]
    sql(f"ALTER USER '{APP_USER}'@'localhost' IDENTIFIED BY '{rotated}'")
    check("control: with a password the file does not hold, /api/ready fails (503)", 503 in bad, f"ready {bad}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and http("GET", "/api/ready")[0] != 200:
        time.sleep(0.5)
    check("back to 200 once the database holds the file's password again", http("GET", "/api/ready")[0] == 200)

    # Release N+1's binary: a restart (an instance refresh in production, where no request meets it).
    r = subprocess.run([os.path.join(HERE, "node-services"), "restart-app", M, W], capture_output=True, text=True,
                       timeout=120)
    check("restart into release N+1's binary", r.returncode == 0, (r.stdout + r.stderr).strip()[-300:])
    status, metrics = http("GET", "/api/metrics")
    check(f"the running daemon is release {VERSION_N1}",
          status == 200 and f'boxoffice_build_info{{version="{VERSION_N1}"}} 1' in metrics,
          re.search(r"boxoffice_build_info\S*", metrics or "").group(0) if "build_info" in (metrics or "") else str(status))
    status, body = http("POST", "/api/reservations", {"eventId": event_id, "quantity": 1},
                        headers=ISSUER.bearer("on-n1"))
    check("release N+1 reserves on the migrated schema", status == 201, f"{status} {body[:200]}")
    probe = sql("SELECT note FROM upgrade_probe", user=APP_USER, password=rotated)
    check("the app user may use the new table (the migration step granted it)",
          probe.returncode == 0 and probe.stdout.strip() == "release N+1", (probe.stdout + probe.stderr).strip())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
