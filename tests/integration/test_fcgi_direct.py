"""The daemon's own answers, straight over its FastCGI socket (no nginx in between)."""
import json
import re

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
