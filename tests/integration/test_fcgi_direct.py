"""The daemon's own answers, straight over its FastCGI socket (no nginx in between)."""
import json
import re
import socket

from fcgi_client import request

ISO_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _json(resp):
    return json.loads(resp.body.decode())


def test_health_direct_has_envelope_and_request_id(stack):
    r = request(stack.env["BOXOFFICE_APP_SOCKET"], "GET", "/api/health")
    assert r.status == 200, r.body
    assert r.header("Content-Type").startswith("application/json")
    body = _json(r)
    assert body["success"] is True and body["data"]["status"] == "UP"
    assert ISO_TS.match(body["timestamp"]), body
    # the daemon makes up an id when nginx passes none
    assert r.header("X-Request-Id"), r.headers


def test_a_kept_connection_serves_request_after_request(stack):
    """With FCGI_KEEP_CONN (nginx's fastcgi_keep_conn) the worker that holds
    the connection reads the next request from it, not a new connection."""
    path = stack.env["BOXOFFICE_APP_SOCKET"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        for i in range(3):
            r = request(path, "GET", "/api/health", conn=conn, timeout=5.0,
                        headers={"X-Request-Id": f"kept-{i}"})
            assert r.status == 200, (i, r.body)
            assert r.header("X-Request-Id") == f"kept-{i}"


def test_silent_connections_do_not_hold_the_workers(stack):
    """A peer that connects to the daemon and sends nothing is dropped after
    2 s, so that as many such peers as there are workers cannot stop it."""
    path = stack.env["BOXOFFICE_APP_SOCKET"]
    workers = len(stack.wait_workers(1))
    silent = []
    try:
        for _ in range(workers + 2):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(path)
            silent.append(c)
        r = request(path, "GET", "/api/health", timeout=30.0)
        assert r.status == 200, r.body
        for c in silent[:workers]:
            c.settimeout(10.0)
            assert c.recv(1) == b"", "the daemon should close a silent connection"
    finally:
        for c in silent:
            c.close()


def test_request_id_from_nginx_is_echoed(stack):
    r = request(stack.env["BOXOFFICE_APP_SOCKET"], "GET", "/api/nope",
                headers={"X-Request-Id": "abc123-direct"})
    assert r.status == 404
    assert r.header("X-Request-Id") == "abc123-direct"
    assert _json(r)["error"]["code"] == "NOT_FOUND"


def test_daemon_refuses_a_body_over_max_body_bytes(stack):
    """nginx normally stops these first; the daemon enforces max_body_bytes itself too."""
    body = b"{" + b" " * 70000 + b"}"
    r = request(stack.env["BOXOFFICE_APP_SOCKET"], "GET", "/api/health", body=body,
                content_type="application/json")
    assert r.status == 413, r.body
    assert _json(r)["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert r.header("X-Request-Id")


def test_405_direct_has_allow(stack):
    r = request(stack.env["BOXOFFICE_APP_SOCKET"], "DELETE", "/api/ready")
    assert r.status == 405
    assert "GET" in r.header("Allow")


def test_head_direct_has_gets_headers_and_no_body(stack):
    """RFC 3875 4.3.3: the script itself sends no body for HEAD (not only nginx dropping it)."""
    sock = stack.env["BOXOFFICE_APP_SOCKET"]
    got = request(sock, "GET", "/api/events/upcoming")
    head = request(sock, "HEAD", "/api/events/upcoming")
    assert got.status == head.status == 200
    assert got.body and head.body == b"", head.body[:200]
    assert head.header("Content-Length") == got.header("Content-Length") == str(len(got.body))
    assert head.header("Content-Type") == got.header("Content-Type")
    assert head.header("X-Request-Id")
