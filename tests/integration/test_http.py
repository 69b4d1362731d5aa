"""The HTTP surface through nginx: envelopes, status codes, request ids."""
import uuid

import pytest
import requests

from conftest import assert_error_envelope, assert_success_envelope, debug_endpoints_expected


def test_health_is_up(stack):
    body = assert_success_envelope(stack.get("/api/health"))
    assert body["data"]["status"] == "UP"


def test_ready_reports_components(stack):
    body = assert_success_envelope(stack.get("/api/ready"))
    data = body["data"]
    assert data["status"] == "UP", data
    for name in ("db", "redis"):
        comp = data["components"][name]
        assert comp["status"] == "UP", data
        assert isinstance(comp["latencyMs"], (int, float)) and comp["latencyMs"] >= 0, comp


def test_unknown_route_is_404(stack):
    assert_error_envelope(stack.get("/api/no-such-route"), 404, "NOT_FOUND")
    assert_error_envelope(stack.get("/api/health/extra"), 404, "NOT_FOUND")


def test_outside_api_is_404_from_nginx(stack):
    # / is the on-sale page (web/); a file that is not there is nginx's JSON 404
    assert_error_envelope(stack.get("/no-such-page.html"), 404, "NOT_FOUND")


def test_wrong_method_is_405_with_allow(stack):
    for method in ("POST", "DELETE", "PUT"):
        r = stack.request(method, "/api/health", json={} if method != "DELETE" else None)
        assert_error_envelope(r, 405, "METHOD_NOT_ALLOWED")
        allow = r.headers.get("Allow", "")
        assert "GET" in [m.strip() for m in allow.split(",")], f"Allow: {allow!r}"


def test_body_over_limit_is_413(stack):
    # 64 KiB is the limit (nginx client_max_body_size = daemon max_body_bytes = 65536)
    r = stack.request("POST", "/api/_debug/echo", data=b"x" * 70000,
                      headers={"Content-Type": "application/json"})
    body = assert_error_envelope(r, 413, "PAYLOAD_TOO_LARGE")
    assert "error" in body


def test_wrong_content_type_is_415(stack):
    """POST with a non-JSON body. No route of this issue accepts POST except the debug echo
    route (debug_endpoints), or the daemon checks the media type before routing."""
    r = stack.request("POST", "/api/_debug/echo", data=b"hello",
                      headers={"Content-Type": "text/plain"})
    assert r.status_code != 404, (
        "415 is unreachable: no route accepts POST (daemon: add a POST debug route, e.g. "
        "POST /api/_debug/echo, or check the media type of POST/PUT bodies before routing)")
    assert_error_envelope(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_every_response_has_a_request_id(stack):
    seen = set()
    responses = [
        stack.get("/api/health"),                       # daemon 200
        stack.get("/api/ready"),                        # daemon 200
        stack.get("/api/nope"),                         # daemon 404
        stack.request("DELETE", "/api/health"),         # daemon 405
        stack.get("/elsewhere"),                        # nginx 404
        stack.request("POST", "/api/health", data=b"x" * 70000,
                      headers={"Content-Type": "application/json"}),   # nginx 413
        stack.get("/api/metrics", headers={"X-Forwarded-For": "203.0.113.9"}),  # nginx 403
    ]
    for r in responses:
        rid = r.headers.get("X-Request-Id")
        assert rid, f"{r.status_code} {r.url}: no X-Request-Id"
        assert "," not in rid, f"X-Request-Id sent twice: {rid!r}"
        seen.add(rid)
    assert len(seen) == len(responses), "request ids must be unique per request"


def test_client_request_id_is_kept(stack):
    rid = "test-" + uuid.uuid4().hex
    r = stack.get("/api/health", headers={"X-Request-Id": rid})
    assert r.headers.get("X-Request-Id") == rid
    r = stack.get("/api/does-not-exist", headers={"X-Request-Id": rid})
    assert r.status_code == 404 and r.headers.get("X-Request-Id") == rid
    # an unsafe id is replaced, never echoed
    r = stack.get("/api/health", headers={"X-Request-Id": "bad id\twith spaces"})
    assert r.headers.get("X-Request-Id") and " " not in r.headers["X-Request-Id"]


def test_metrics_refused_through_a_proxy(stack):
    """/api/metrics is internal: a request that came through the ALB (X-Forwarded-For) gets 403."""
    r = stack.get("/api/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert_error_envelope(r, 403, "FORBIDDEN")


def test_debug_sleep(stack):
    if not debug_endpoints_expected():
        pytest.skip("debug endpoints are off in this stack")
    body = assert_success_envelope(stack.get("/api/_debug/sleep?ms=10"))
    assert body["data"]["sleptMs"] == 10
    assert_error_envelope(stack.get("/api/_debug/sleep?ms=abc"), 400, "INVALID_REQUEST")


def test_http_keepalive_to_nginx(stack):
    """Many requests on one client connection (nginx keeps client connections alive)."""
    with requests.Session() as s:
        for _ in range(50):
            r = s.get(stack.url + "/api/health", timeout=10)
            assert r.status_code == 200
