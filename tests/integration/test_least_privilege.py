"""A daemon whose database user may not run reserve_one_shard still reserves.

Production's user has DML on the tables and EXECUTE on each procedure (scripts/migrate). A
daemon that meets a schema where the grant is missing (a deploy that ran the migration as
another user, or restarted the daemon before the grant) gets error 1370 (execute command
denied), not 1305 (no such procedure): it must take the two batches, say so once in its log,
and never fail the buyer. A second daemon instance runs here with such a user (DML only) on a
socket of its own, beside the stack's, and is driven with the FastCGI client.
"""
import json
import os
import secrets
import signal
import subprocess
from pathlib import Path

from conftest import render_daemon_conf, wait_until
from fcgi_client import request
from openapi_check import admin_sql, api, tag  # noqa: F401 (api is a fixture)

USER = "bo_noexec"


def test_without_execute_on_the_procedure_the_batches_reserve(stack, api):
    env = stack.env
    db = env["BOXOFFICE_MYSQL_DB"]
    password = secrets.token_hex(16)
    work = Path(stack.run_dir) / "noexec"
    work.mkdir(parents=True, exist_ok=True)
    sock, log = work / "noexec.sock", work / "daemon.log"
    for p in (sock, log):
        p.unlink(missing_ok=True)
    ev = api.create_event(totalSeats=40, maxPerRequest=4, perUserLimit=4)

    admin_sql(env, f"DROP USER IF EXISTS '{USER}'@'localhost'; "
                    f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{password}'; "
                    f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{db}`.* TO '{USER}'@'localhost'")
    conf = work / "boxoffice.conf"
    render_daemon_conf(env["BOXOFFICE_APP_CONF"], conf, {
        "listen": f"unix:{sock}",
        "pid_file": str(work / "noexec.pid"),
        "log_file": str(log),
        "workers": "1",
        "mysql_user": USER,
        "mysql_password": password,
        "mysql_password_file": "",
        "log_level": "info",
    })
    daemon_env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    proc = subprocess.Popen([env["BOXOFFICE_BIN"], "--config", str(conf)], env=daemon_env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_until(lambda: sock.exists() or proc.poll() is not None, 30, "the second daemon's socket")
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        for i in range(3):
            body = json.dumps({"eventId": ev["id"], "userId": f"noexec-{i}-{tag()}", "quantity": 2})
            r = request(str(sock), "POST", "/api/reservations", body=body.encode(),
                        content_type="application/json", timeout=30)
            assert r.status == 201, (r.status, r.body[:500])
            assert json.loads(r.body)["data"]["quantity"] == 2
        text = log.read_text(errors="replace")
        warnings = [ln for ln in text.splitlines() if "reserve_one_shard is missing or not granted" in ln]
        assert len(warnings) == 1, text[-3000:]     # once per worker, not once per request
        assert "denied" in warnings[0].lower(), warnings[0]
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        admin_sql(env, f"DROP USER IF EXISTS '{USER}'@'localhost'")
    # the batches took the seats exactly as the call would have
    assert api.assert_consistent(ev["id"]) == (34, 6)
