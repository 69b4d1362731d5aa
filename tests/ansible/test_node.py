"""testinfra checks of a node converged by ansible/site.yml (run by tests/ansible/run).

Runs with pytest-3 --connection=chroot --hosts=<chroot> inside a private network
and PID namespace, after tests/ansible/node-services started boxoffice-fcgi under
the installed unit's user and config, and nginx, by hand (no systemd in a chroot).
The HTTP tests talk to nginx on port 8080.
"""
import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request

import pytest

import idp

ROOT = os.environ["BOXOFFICE_CHROOT"]
WORK = os.environ["BOXOFFICE_TEST_WORK"]
VERSION = os.environ["BOXOFFICE_RELEASE_VERSION"]
BIN = "/usr/local/sbin/boxoffice-fcgi"
CONF = "/etc/boxoffice/boxoffice.conf"
SOCK = "/run/boxoffice/boxoffice.sock"
BASE_URL = "http://127.0.0.1:8080"
ADMIN = {"Authorization": "Bearer ci-admin-token"}
ADMISSION_SECRET = "ci-admission-secret-0123456789abcdef"


def test_packages_installed(host):
    for name in ("nginx", "chrony", "logrotate", "stunnel4", "mariadb-client", "libfcgi0ldbl"):
        assert host.package(name).is_installed, name


def test_daemon_built_from_the_release(host):
    out = host.check_output(f"{BIN} --version")
    assert out.strip() == f"boxoffice-fcgi {VERSION}"
    assert host.file("/usr/local/share/boxoffice/installed-release").content_string.strip() == VERSION
    assert "libfcgi" in host.check_output(f"ldd {BIN}")


def test_service_user(host):
    user = host.user("boxoffice")
    assert user.exists and user.shell == "/usr/sbin/nologin"
    assert "boxoffice" in host.user("www-data").groups


def test_daemon_config(host):
    conf = host.file(CONF)
    assert conf.user == "root" and conf.group == "boxoffice" and conf.mode == 0o640
    text = conf.content_string
    assert 'listen = "unix:/run/boxoffice/boxoffice.sock"' in text
    assert "workers = 4" in text
    assert f"release {VERSION}" in text
    # Redis TLS on: the daemon talks to the local stunnel end.
    assert 'redis_host = "127.0.0.1"' in text
    # The daemon's own least-privilege user; its secrets in files it re-reads on HUP.
    assert 'mysql_user = "boxoffice_app"' in text
    assert 'mysql_password_file = "/etc/boxoffice/secrets/mysql_password"' in text
    assert 'redis_password_file = "/etc/boxoffice/secrets/redis_password"' in text
    assert 'admin_token_file = "/etc/boxoffice/secrets/admin_token"' in text
    assert 'admission_secret_file = "/etc/boxoffice/secrets/admission_secret"' in text
    for secret in ("ci-db-password", "ci-redis-password", "ci-admin-token", ADMISSION_SECRET):
        assert secret not in text, "boxoffice.conf must not hold a secret"
    # Identity as in production: the role's default auth_mode jwt, with the IdP's key file.
    for line in ("auth_mode = jwt", "jwt_algorithm = RS256", 'jwt_key_file = "/etc/boxoffice/jwt-public-key.pem"',
                 'jwt_issuer = "https://idp.boxoffice-ci.test/"', 'jwt_audience = "boxoffice-ci"'):
        assert line in text.splitlines(), line
    cmd = host.run(f"setpriv --reuid=boxoffice --regid=boxoffice --init-groups {BIN} --config {CONF} --check-config")
    assert cmd.rc == 0, cmd.stderr


def test_secret_files(host):
    d = host.file("/etc/boxoffice/secrets")
    assert d.is_directory and d.user == "root" and d.group == "boxoffice" and d.mode == 0o750
    for name, value in (("mysql_password", "ci-db-password"), ("redis_password", "ci-redis-password"),
                        ("admin_token", "ci-admin-token"), ("admission_secret", ADMISSION_SECRET)):
        f = host.file(f"/etc/boxoffice/secrets/{name}")
        assert f.user == "root" and f.group == "boxoffice" and f.mode == 0o640, name
        assert f.content_string == value + "\n", name
    # The daemon, as its own user, can read them (--check-config reads every secret file).
    cmd = host.run(f"setpriv --reuid=boxoffice --regid=boxoffice --init-groups {BIN} --config {CONF} --check-config")
    assert cmd.rc == 0, cmd.stderr


def test_jwt_public_key_file(host):
    key = host.file("/etc/boxoffice/jwt-public-key.pem")
    assert key.user == "root" and key.group == "boxoffice" and key.mode == 0o644
    with open(os.environ["BOXOFFICE_JWT_VARS"], encoding="utf-8") as f:
        assert key.content_string == json.loads(f.read())["boxoffice_jwt_public_key"].strip() + "\n"
    # The daemon's user can read it (the directory is 0750 root:boxoffice).
    cmd = host.run("setpriv --reuid=boxoffice --regid=boxoffice --init-groups head -c 26 /etc/boxoffice/jwt-public-key.pem")
    assert cmd.rc == 0 and cmd.stdout == "-----BEGIN PUBLIC KEY-----", cmd.stderr


def test_credential_refresh_installed(host):
    script = host.file("/usr/local/sbin/boxoffice-refresh-credentials")
    assert script.mode == 0o755 and script.user == "root"
    assert host.run("bash -n /usr/local/sbin/boxoffice-refresh-credentials").rc == 0
    env = host.file("/etc/boxoffice/credentials.env")
    assert env.mode == 0o640 and "BOXOFFICE_SECRETS_DIR=/etc/boxoffice/secrets" in env.content_string
    timer = host.file("/etc/systemd/system/boxoffice-credentials.timer").content_string
    assert "OnUnitActiveSec=15min" in timer and "RandomizedDelaySec=2min" in timer
    unit = host.file("/etc/systemd/system/boxoffice-credentials.service").content_string
    assert "ExecStart=/usr/local/sbin/boxoffice-refresh-credentials" in unit and "Type=oneshot" in unit
    # No ARN in this converge: the script has nothing to read and says so.
    run = host.run("/usr/local/sbin/boxoffice-refresh-credentials")
    assert run.rc == 0 and "no secret changed" in run.stdout, run.stdout + run.stderr


def test_cloudwatch_agent_config(host):
    cfg = json.loads(host.file("/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json").content_string)
    files = {f["file_path"]: f["log_group_name"] for f in cfg["logs"]["logs_collected"]["files"]["collect_list"]}
    streams = {f["file_path"]: f["log_stream_name"] for f in cfg["logs"]["logs_collected"]["files"]["collect_list"]}
    assert streams["/var/log/nginx/boxoffice.shed.log"] == "{instance_id}-shed"   # ShedRequests counts it
    assert files == {
        "/var/log/boxoffice-journal/journal.json": "/boxoffice-ci/journal",
        "/var/log/nginx/boxoffice.access.log": "/boxoffice-ci/nginx-access",
        "/var/log/nginx/boxoffice.shed.log": "/boxoffice-ci/nginx-access",     # its own stream
        "/var/log/nginx/error.log": "/boxoffice-ci/nginx-error",
        "/var/log/boxoffice-bootstrap.log": "/boxoffice-ci/bootstrap",
    }
    prom = cfg["logs"]["metrics_collected"]["prometheus"]
    assert prom["log_group_name"] == "/boxoffice-ci/metrics"
    emf = prom["emf_processor"]
    assert emf["metric_namespace"] == "boxoffice"
    decl = emf["metric_declaration"][0]
    assert decl["dimensions"] == [["Stack"]]
    assert "^boxoffice_db_errors_total$" in decl["metric_selectors"]
    assert "^boxoffice_gate_compensations_total$" in decl["metric_selectors"]
    scrape = host.file(prom["prometheus_config_path"]).content_string
    assert "metrics_path: /api/metrics" in scrape and '"127.0.0.1:8080"' in scrape
    assert 'Stack: "boxoffice-ci"' in scrape
    export = host.file("/etc/systemd/system/boxoffice-journal-export.service").content_string
    assert "journalctl --follow --output=json --cursor-file=" in export
    assert ">> /var/log/boxoffice-journal/journal.json" in export
    assert host.run("logrotate -d /etc/logrotate.d/boxoffice-journal-export").rc == 0


def test_systemd_unit(host):
    unit = host.file("/etc/systemd/system/boxoffice.service")
    assert unit.mode == 0o644
    assert f"ExecStart={BIN} --config {CONF}" in unit.content_string
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit.content_string


def test_stunnel_client(host):
    text = host.file("/etc/stunnel/boxoffice-redis.conf").content_string
    assert "accept = 127.0.0.1:6379" in text
    assert "connect = cache.boxoffice.internal:6379" in text
    assert "verifyChain = yes" in text


def test_kernel_limits_and_rotation(host):
    sysctl = host.file("/etc/sysctl.d/60-boxoffice.conf").content_string
    assert "net.core.somaxconn = 4096" in sysctl
    assert "net.ipv4.tcp_tw_reuse = 1" in sysctl
    assert "fs.file-max = 2097152" in sysctl
    assert "copytruncate" in host.file("/etc/logrotate.d/boxoffice").content_string
    assert host.run("logrotate -d /etc/logrotate.d/boxoffice").rc == 0
    assert "169.254.169.123" in host.file("/etc/chrony/sources.d/boxoffice.sources").content_string


def test_nginx_site(host):
    assert host.file("/etc/nginx/sites-enabled/boxoffice.conf").is_symlink
    assert not host.file("/etc/nginx/sites-enabled/default").exists
    cmd = host.run("nginx -t")
    assert cmd.rc == 0, cmd.stderr


def test_migrations_applied(host):
    # As root: the app user may not read schema_migrations (it is no application table).
    out = host.check_output(
        "mariadb --socket=/run/mysqld/mysqld.sock -uroot boxoffice -N -e 'SELECT COUNT(*) FROM schema_migrations'")
    assert int(out) >= 1


def test_app_user_has_dml_on_app_tables_only(host):
    """The migration step (as root, the master's stand-in) created the daemon's user."""
    grants = host.check_output(
        "mariadb --socket=/run/mysqld/mysqld.sock -uroot -N -e \"SHOW GRANTS FOR 'boxoffice_app'@'localhost'\"")
    lines = [g for g in grants.splitlines() if g.strip()]
    assert lines[0].startswith("GRANT USAGE ON *.* TO `boxoffice_app`@`localhost`"), lines[0]
    tables = host.check_output(
        "mariadb --socket=/run/mysqld/mysqld.sock -uroot -N boxoffice -e \"SELECT table_name FROM "
        "information_schema.tables WHERE table_schema = 'boxoffice' AND table_name <> 'schema_migrations'\"").split()
    procedures = host.check_output(
        "mariadb --socket=/run/mysqld/mysqld.sock -uroot -N boxoffice -e \"SELECT routine_name FROM "
        "information_schema.routines WHERE routine_schema = 'boxoffice' AND routine_type = 'PROCEDURE'\"").split()
    assert "reserve_one_shard" in procedures, procedures
    assert sorted(lines[1:]) == sorted(
        [f"GRANT SELECT, INSERT, UPDATE, DELETE ON `boxoffice`.`{t}` TO `boxoffice_app`@`localhost`" for t in tables]
        + [f"GRANT EXECUTE ON PROCEDURE `boxoffice`.`{p}` TO `boxoffice_app`@`localhost`" for p in procedures])
    denied = host.run("mariadb --socket=/run/mysqld/mysqld.sock -uboxoffice_app -pci-db-password boxoffice "
                      "-e 'CREATE TABLE not_allowed (a INT)'")
    assert denied.rc != 0 and "denied" in denied.stderr


def _wait(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get(path, headers=None, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE_URL + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


@pytest.fixture(scope="module")
def services():
    """Redis, boxoffice-fcgi and nginx, started by tests/ansible/node-services."""
    assert _port_open(8080), "nginx is not listening on 8080 (node-services start failed?)"
    with open(os.path.join(WORK, "boxoffice.pid"), encoding="ascii") as f:
        return {"boxoffice_pid": int(f.read())}


def test_http_health_through_nginx(services):
    status, headers, body = _get("/api/health")
    print(f"\nHTTP GET {BASE_URL}/api/health -> {status}")
    print(f"HTTP X-Request-Id: {headers.get('X-Request-Id')}")
    print(f"HTTP body: {body.strip()}")
    assert status == 200
    doc = json.loads(body)
    assert doc["success"] is True
    assert doc["data"]["status"] == "UP"
    assert headers.get("X-Request-Id")


def test_http_ready_sees_db_and_redis(services):
    status, _, body = _get("/api/ready")
    print(f"\nHTTP GET {BASE_URL}/api/ready -> {status}")
    print(f"HTTP body: {body.strip()}")
    assert status == 200
    doc = json.loads(body)
    assert doc["data"]["status"] == "UP"
    assert doc["data"]["components"]["db"]["status"] == "UP"
    assert doc["data"]["components"]["redis"]["status"] == "UP"


def test_http_unknown_route_is_json_404(services):
    status, _, body = _get("/nope")
    print(f"\nHTTP GET {BASE_URL}/nope -> {status} {body.strip()}")
    assert status == 404
    assert json.loads(body)["error"]["code"] == "NOT_FOUND"


def test_metrics_scrape_target_answers(services):
    """What the CloudWatch agent scrapes: /api/metrics through nginx from loopback."""
    status, _, body = _get("/api/metrics")
    assert status == 200
    for name in ("boxoffice_db_errors_total", "boxoffice_gate_compensations_total", "boxoffice_workers_alive"):
        assert f"\n{name} " in body or body.startswith(f"{name} "), name


def test_hup_reload_keeps_serving(services):
    master = services["boxoffice_pid"]
    os.kill(master, signal.SIGHUP)
    time.sleep(1.0)
    os.kill(master, 0)  # raises if the master exited on HUP
    status, _, body = _get("/api/health")
    print(f"\nHTTP after HUP: GET /api/health -> {status} {body.strip()}")
    assert status == 200 and json.loads(body)["success"] is True


def test_daemon_logs_to_its_file(host, services):
    log = host.file("/var/log/boxoffice/boxoffice.log")
    assert log.exists and log.user == "boxoffice"
    first = log.content_string.splitlines()[0]
    assert isinstance(json.loads(first), dict)


@pytest.fixture(scope="module")
def event_id(services):
    status, _, body = _get("/api/events", ADMIN, "POST", {"eventName": "jwt on the node", "totalSeats": 100,
                                                          "eventDate": "2099-01-01T20:00:00Z"})
    assert status == 201, body
    return json.loads(body)["data"]["id"]


@pytest.fixture(scope="module")
def issuer():
    return idp.Issuer.from_environment()


def _reserve(event_id, headers=None, user=None):
    body = {"eventId": event_id, "quantity": 1}
    if user is not None:
        body["userId"] = user
    return _get("/api/reservations", headers, "POST", body)


def test_http_reservation_without_a_token_is_401(event_id):
    status, headers, body = _reserve(event_id, user="anyone")
    print(f"\nHTTP POST {BASE_URL}/api/reservations (no token) -> {status} {body.strip()}")
    assert status == 401 and json.loads(body)["error"]["code"] == "UNAUTHORIZED"
    assert headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_http_reservation_with_the_identity_providers_token(event_id, issuer):
    status, _, body = _reserve(event_id, issuer.bearer("ci-user-1"))
    print(f"\nHTTP POST {BASE_URL}/api/reservations (RS256 token, sub ci-user-1) -> {status} {body.strip()}")
    assert status == 201, body
    res = json.loads(body)["data"]
    assert res["userId"] == "ci-user-1" and res["status"] == "CONFIRMED"
    status, _, body = _get(f"/api/reservations/{res['id']}", issuer.bearer("ci-user-1"))
    assert status == 200 and json.loads(body)["data"]["id"] == res["id"]
    # Another user's token does not see it.
    status, _, body = _get(f"/api/reservations/{res['id']}", issuer.bearer("ci-user-2"))
    assert status == 404 and json.loads(body)["error"]["code"] == "RESERVATION_NOT_FOUND"


@pytest.mark.parametrize("case", ["another key", "another issuer", "another audience", "expired"])
def test_http_tokens_the_node_refuses(event_id, issuer, case):
    headers = {
        "another key": lambda: issuer.impostor().bearer("ci-user-3"),
        "another issuer": lambda: issuer.bearer("ci-user-3", iss="https://evil.example/"),
        "another audience": lambda: issuer.bearer("ci-user-3", aud="someone-else"),
        "expired": lambda: issuer.bearer("ci-user-3", exp=int(time.time()) - 3600),
    }[case]()
    status, _, body = _reserve(event_id, headers)
    assert status == 401 and json.loads(body)["error"]["code"] == "UNAUTHORIZED", f"{case}: {status} {body}"


def _refresh_admission_secret(host, value):
    """boxoffice-refresh-credentials with a stand-in aws CLI that answers value for the admission secret."""
    fake = os.path.join(ROOT, "usr/local/bin/boxoffice-test-aws-admission")
    with open(fake, "w", encoding="utf-8") as f:
        f.write(f"#!/bin/sh\nprintf '%s\\n' '{value}'\n")
    os.chmod(fake, 0o755)
    with open(os.path.join(ROOT, "etc/boxoffice/credentials.env"), encoding="utf-8") as f:
        env = f.read()
    env = env.replace("BOXOFFICE_AWS_CLI=aws", "BOXOFFICE_AWS_CLI=/usr/local/bin/boxoffice-test-aws-admission")
    env = env.replace("BOXOFFICE_ADMISSION_SECRET_ARN=''",
                      "BOXOFFICE_ADMISSION_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:adm")
    with open(os.path.join(ROOT, "tmp/credentials-admission.env"), "w", encoding="utf-8") as f:
        f.write(env)
    return host.run("env BOXOFFICE_CREDENTIALS_ENV=/tmp/credentials-admission.env "
                    "/usr/local/sbin/boxoffice-refresh-credentials")


def test_admission_secret_refresh_puts_back_a_refused_value(host):
    """A rotated admission secret arrives like the others; one the daemon refuses never stays on disk."""
    path = "/etc/boxoffice/secrets/admission_secret"
    run = _refresh_admission_secret(host, "too-short-for-hmac")
    assert run.rc == 1 and "put the previous files back" in run.stdout, run.stdout + run.stderr
    assert host.file(path).content_string == ADMISSION_SECRET + "\n"
    assert not host.file("/etc/boxoffice/secrets/.admission_secret.prev").exists
    rotated = "rotated-admission-secret-0123456789abcdef"
    run = _refresh_admission_secret(host, rotated)
    assert run.rc == 0 and "changed: admission_secret" in run.stdout, run.stdout + run.stderr
    f = host.file(path)
    assert f.content_string == rotated + "\n" and f.mode == 0o640 and f.group == "boxoffice"
    assert not host.file("/etc/boxoffice/secrets/.admission_secret.prev").exists
    # Back to the converged value, for the tests that follow.
    run = _refresh_admission_secret(host, ADMISSION_SECRET)
    assert run.rc == 0 and host.file(path).content_string == ADMISSION_SECRET + "\n"
