"""The edge speaks the API's language for every bad request (issue 14, item 4).

A corpus of raw requests, sent on plain sockets as an attacker would (malformed request lines,
%00 and raw NUL in the path, oversized URI and headers, unknown HTTP versions, bad methods,
hostile headers and bodies), each with the status and error code it must get. Every answer,
whether nginx produces it before routing or the daemon does, must be the JSON error envelope
with an X-Request-Id header, and no bad input may get a 500. HEAD on every GET resource
answers like GET, without a body.
"""
import json
import re
import socket
from pathlib import Path

import pytest

from conftest import ISO_TS
from openapi_check import spec

# The schemas that pin each error code in docs/api/openapi.yaml.
CODE_SCHEMAS = {
    "INVALID_REQUEST": "CodeInvalidRequest",
    "NOT_FOUND": "CodeNotFound",
    "EVENT_NOT_FOUND": "CodeEventNotFound",
    "METHOD_NOT_ALLOWED": "CodeMethodNotAllowed",
    "FORBIDDEN": "CodeForbidden",
    "UNAUTHORIZED": "CodeUnauthorized",
    "PAYLOAD_TOO_LARGE": "CodePayloadTooLarge",
    "UNSUPPORTED_MEDIA_TYPE": "CodeUnsupportedMediaType",
    "SERVICE_UNAVAILABLE": "CodeServiceUnavailable",
}
SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HOST = b"Host: edge.test"
JSON_CT = b"Content-Type: application/json"


def req(line, *headers, body=b""):
    """A raw HTTP/1.1 request: the request line, headers (bytes, each without CRLF), body."""
    head = line + b"\r\n" + b"".join(h + b"\r\n" for h in headers)
    return head + b"\r\n" + body


def chunked(*parts):
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def post(path, body, *headers):
    return req(b"POST " + path + b" HTTP/1.1", b"Host: edge.test", b"Content-Type: application/json",
               b"Content-Length: %d" % len(body), *headers, body=body)


# (name, raw request, expected status, expected error code). {ADMIN} becomes the admin token.
CORPUS = [
    # ---- request line: nginx rejects these before it has a URI
    ("pct00-in-path", req(b"GET /api/events/%00 HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("raw-nul-in-path", req(b"GET /api/ev\x00ents HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("raw-nul-in-query", req(b"GET /api/events?x=\x00 HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("dot-dot-above-root", req(b"GET /../etc/passwd HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("bad-escape-in-path", req(b"GET /api/events/%zz HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("space-in-path", req(b"GET /api/he alth HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("uri-over-8k", req(b"GET /api/events?q=" + b"a" * 9000 + b" HTTP/1.1", HOST), 414,
     "INVALID_REQUEST"),
    ("http-2.0-as-text", req(b"GET /api/health HTTP/2.0", HOST), 505, "INVALID_REQUEST"),
    ("http-9.9", req(b"GET /api/health HTTP/9.9", HOST), 505, "INVALID_REQUEST"),
    ("http-0.9-with-headers", req(b"GET /api/health HTTP/0.9", HOST), 400, "INVALID_REQUEST"),
    ("protocol-not-http", req(b"GET /api/health FOO/1.1", HOST), 400, "INVALID_REQUEST"),
    ("method-with-symbol", req(b"G@T /api/health HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("method-lowercase", req(b"get /api/health HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("connect", req(b"CONNECT example.com:443 HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("options-asterisk", req(b"OPTIONS * HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "INVALID_REQUEST"),
    ("tls-client-hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
     400, "INVALID_REQUEST"),
    # ---- methods nginx or the daemon refuse
    ("trace", req(b"TRACE /api/health HTTP/1.1", HOST), 405, "METHOD_NOT_ALLOWED"),
    ("unknown-method", req(b"FOO /api/health HTTP/1.1", HOST), 405, "METHOD_NOT_ALLOWED"),
    ("delete-health", req(b"DELETE /api/health HTTP/1.1", HOST), 405, "METHOD_NOT_ALLOWED"),
    ("patch-event", req(b"PATCH /api/events/1 HTTP/1.1", HOST), 405, "METHOD_NOT_ALLOWED"),
    # ---- paths
    ("api-without-slash", req(b"GET /api HTTP/1.1", HOST), 404, "NOT_FOUND"),
    ("outside-api-missing-file", req(b"GET /no-such-page.html HTTP/1.1", HOST), 404, "NOT_FOUND"),
    ("error-page-uri-itself", req(b"GET /_boxoffice/error/400 HTTP/1.1", HOST), 404, "NOT_FOUND"),
    ("dot-dot-inside-api", req(b"GET /api/../api/health HTTP/1.1", HOST), 404, "NOT_FOUND"),
    ("non-utf8-path", req(b"GET /api/health\xff HTTP/1.1", HOST), 404, "NOT_FOUND"),
    ("pct00-in-query", req(b"GET /api/events?page=%00 HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    # used to read as size=5 (a decoded NUL cut the value short; found by fuzz_request)
    ("pct00-inside-query-value", req(b"GET /api/events?size=5%00abc HTTP/1.1", HOST), 400,
     "INVALID_REQUEST"),
    ("bad-escape-in-query", req(b"GET /api/events?page=%g1 HTTP/1.1", HOST), 400,
     "INVALID_REQUEST"),
    ("too-many-query-params",
     req(b"GET /api/health?" + b"&".join(b"k%d=1" % i for i in range(40)) + b" HTTP/1.1", HOST),
     400, "INVALID_REQUEST"),
    ("page-negative", req(b"GET /api/events?page=-1 HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("size-overflow", req(b"GET /api/events?size=99999999999999999999999 HTTP/1.1", HOST), 400,
     "INVALID_REQUEST"),
    ("id-overflow", req(b"GET /api/events/99999999999999999999 HTTP/1.1", HOST), 400,
     "INVALID_REQUEST"),
    ("id-negative", req(b"GET /api/events/-1 HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("id-hex", req(b"GET /api/reservations/0x10 HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("id-dot", req(b"GET /api/events/%2e HTTP/1.1", HOST), 400, "INVALID_REQUEST"),
    ("user-id-invalid-utf8", req(b"GET /api/reservations/user/%ff HTTP/1.1", HOST), 400,
     "INVALID_REQUEST"),
    # ---- headers
    ("header-line-over-8k", req(b"GET /api/health HTTP/1.1", HOST, b"X-Big: " + b"a" * 9000),
     400, "INVALID_REQUEST"),
    ("headers-over-32k",
     req(b"GET /api/health HTTP/1.1", HOST, *[b"X-H%d: %s" % (i, b"b" * 7000) for i in range(6)]),
     400, "INVALID_REQUEST"),
    ("no-host-http-1.1", req(b"GET /api/health HTTP/1.1"), 400, "INVALID_REQUEST"),
    ("two-hosts", req(b"GET /api/health HTTP/1.1", b"Host: a", b"Host: b"), 400, "INVALID_REQUEST"),
    ("host-with-slash", req(b"GET /api/health HTTP/1.1", b"Host: a/b"), 400, "INVALID_REQUEST"),
    ("nul-in-host", req(b"GET /api/health HTTP/1.1", b"Host: \x00"), 400, "INVALID_REQUEST"),
    ("nul-in-header", req(b"GET /api/health HTTP/1.1", HOST, b"X-A: a\x00b"), 400,
     "INVALID_REQUEST"),
    ("obs-fold", req(b"GET /api/health HTTP/1.1", HOST, b"X-A: a", b" b"), 400, "INVALID_REQUEST"),
    ("header-without-colon", req(b"GET /api/health HTTP/1.1", HOST, b"Host"), 400,
     "INVALID_REQUEST"),
    ("header-empty-name", req(b"GET /api/health HTTP/1.1", HOST, b": b"), 400, "INVALID_REQUEST"),
    ("idempotency-key-too-long",
     post(b"/api/reservations", b'{"eventId":1,"userId":"u","quantity":1}',
          b"Idempotency-Key: " + b"k" * 200), 400, "INVALID_REQUEST"),
    ("admin-bearer-malformed",
     post(b"/api/events", b'{}', b"Authorization: Basic Zm9vOmJhcg=="), 401, "UNAUTHORIZED"),
    ("admin-bearer-wrong", post(b"/api/events", b'{}', b"Authorization: Bearer nope"), 403,
     "FORBIDDEN"),
    ("metrics-through-proxy", req(b"GET /api/metrics HTTP/1.1", HOST, b"X-Forwarded-For: 1.2.3.4"),
     403, "FORBIDDEN"),
    # ---- body framing
    ("content-length-not-a-number",
     req(b"POST /api/reservations HTTP/1.1", HOST, b"Content-Length: abc"), 400, "INVALID_REQUEST"),
    ("two-content-lengths",
     req(b"POST /api/reservations HTTP/1.1", HOST, b"Content-Length: 1", b"Content-Length: 2",
         body=b"ab"), 400, "INVALID_REQUEST"),
    ("chunked-and-content-length",
     req(b"POST /api/reservations HTTP/1.1", HOST, JSON_CT, b"Content-Length: 3",
         b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"), 400, "INVALID_REQUEST"),
    ("chunk-size-not-hex",
     req(b"POST /api/reservations HTTP/1.1", HOST, JSON_CT, b"Transfer-Encoding: chunked",
         body=b"zz\r\n\r\n"), 400, "INVALID_REQUEST"),
    ("transfer-encoding-gzip",
     req(b"POST /api/reservations HTTP/1.1", HOST, b"Transfer-Encoding: gzip"), 501,
     "INVALID_REQUEST"),
    ("body-over-64k",
     req(b"POST /api/reservations HTTP/1.1", HOST, JSON_CT, b"Content-Length: 70000",
         body=b"x" * 70000), 413, "PAYLOAD_TOO_LARGE"),
    ("body-text-plain",
     req(b"POST /api/reservations HTTP/1.1", HOST, b"Content-Type: text/plain",
         b"Content-Length: 2", body=b"hi"), 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("body-without-content-type",
     req(b"POST /api/reservations HTTP/1.1", HOST, b"Content-Length: 2", body=b"{}"), 415,
     "UNSUPPORTED_MEDIA_TYPE"),
    # ---- bodies the daemon parses
    ("json-truncated", post(b"/api/reservations", b'{"eventId":'), 400, "INVALID_REQUEST"),
    ("json-not-an-object", post(b"/api/reservations", b'[1,2]'), 400, "INVALID_REQUEST"),
    ("json-trailing-data", post(b"/api/reservations", b'{} {}'), 400, "INVALID_REQUEST"),
    ("json-raw-nul", post(b"/api/reservations", b'{"userId":"a\x00b"}'), 400, "INVALID_REQUEST"),
    ("json-escaped-nul", post(b"/api/reservations",
                              b'{"eventId":1,"userId":"a\\u0000b","quantity":1}'), 400,
     "INVALID_REQUEST"),
    ("json-lone-surrogate", post(b"/api/reservations",
                                 b'{"eventId":1,"userId":"\\ud800","quantity":1}'), 400,
     "INVALID_REQUEST"),
    ("json-invalid-utf8", post(b"/api/reservations", b'{"eventId":1,"userId":"\xff","quantity":1}'),
     400, "INVALID_REQUEST"),
    ("json-deep-nesting", post(b"/api/reservations", b"[" * 5000 + b"]" * 5000), 400,
     "INVALID_REQUEST"),
    ("json-int-overflow", post(b"/api/reservations",
                               b'{"eventId":99999999999999999999999,"userId":"u","quantity":1}'),
     400, "INVALID_REQUEST"),
    ("json-float-id", post(b"/api/reservations", b'{"eventId":1e3,"userId":"u","quantity":1}'), 400,
     "INVALID_REQUEST"),
    ("json-quantity-string", post(b"/api/reservations", b'{"eventId":1,"userId":"u","quantity":"1"}'),
     400, "INVALID_REQUEST"),
    ("json-user-id-too-long", post(b"/api/reservations",
                                   b'{"eventId":1,"userId":"' + b"u" * 65 + b'","quantity":1}'),
     400, "INVALID_REQUEST"),
    # 9999-12-31T23:00:00-05:00 is in year 10000 UTC: it used to reach MariaDB and answer 500
    # (found by tests/fuzz/fuzz_validate).
    ("event-date-past-9999-utc",
     post(b"/api/events", b'{"eventName":"x","totalSeats":5,"eventDate":"9999-12-31T23:00:00-05:00"}',
          b"Authorization: Bearer {ADMIN}"), 400, "INVALID_REQUEST"),
    # bytes that are not UTF-8 (json-c's check) and overlong UTF-8 (ours) in a text field: they
    # used to reach MariaDB, which refused them with a 500 (found by fuzz_validate)
    ("event-name-not-utf8",
     post(b"/api/events", b'{"eventName":"a\xff\xfe","totalSeats":5,"eventDate":"2030-01-01T00:00:00Z"}',
          b"Authorization: Bearer {ADMIN}"), 400, "INVALID_REQUEST"),
    ("event-name-overlong-utf8",
     post(b"/api/events", b'{"eventName":"a\xc0\xaf","totalSeats":5,"eventDate":"2030-01-01T00:00:00Z"}',
          b"Authorization: Bearer {ADMIN}"), 400, "INVALID_REQUEST"),
    ("venue-surrogate-utf8",
     post(b"/api/events", b'{"eventName":"a","venue":"\xed\xa0\x80","totalSeats":5,'
          b'"eventDate":"2030-01-01T00:00:00Z"}', b"Authorization: Bearer {ADMIN}"), 400,
     "INVALID_REQUEST"),
    ("queue-join-escaped-nul", post(b"/api/events/999999999/queue", b'{"userId":"a\\u0000b"}'), 400,
     "INVALID_REQUEST"),
    ("queue-admission-ticket-not-a-string",
     post(b"/api/events/999999999/queue/admission", b'{"ticket":{"a":[1]}}'), 400, "INVALID_REQUEST"),
    ("chunked-body-reaches-daemon",
     req(b"POST /api/reservations HTTP/1.1", HOST, JSON_CT, b"Transfer-Encoding: chunked",
         body=chunked(b'{"eventId":999999999,', b'"userId":"u","quantity":1}')),
     404, "EVENT_NOT_FOUND"),
]


class RawResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status, self.reason, self.headers, self.body, self.raw = status, reason, headers, body, raw

    def header(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


def send_raw(url, raw, timeout=10.0):
    """Send raw bytes to nginx and read one response. An HTTP/0.9 answer (no status line) comes
    back with status None and the whole reply as its body."""
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        want = None
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            if not data.startswith(b"HTTP/") or not sep:
                continue
            if want is None:
                m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
                if raw.startswith(b"HEAD ") or re.match(rb"HTTP/1\.\d (1\d\d|204|304)", head):
                    want = 0
                elif m:
                    want = int(m.group(1))
            if want is not None and len(rest) >= want:
                break
    if not data.startswith(b"HTTP/"):
        return RawResponse(None, "", [], data, data)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", lines[0])
    assert m, f"not a status line: {lines[0]!r}"
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    return RawResponse(int(m.group(1)), m.group(2), headers, body, data)


def check_envelope(resp, status, code, what):
    """The API's error envelope, with an X-Request-Id, and its code's schema from the OpenAPI
    document."""
    assert resp.status is not None, f"{what}: no status line: {resp.raw[:300]!r}"
    assert resp.status == status, f"{what}: expected {status} {code}, got {resp.raw[:600]!r}"
    ctype = resp.header("Content-Type")
    assert ctype and ctype[0].startswith("application/json"), f"{what}: {resp.raw[:400]!r}"
    ids = resp.header("X-Request-Id")
    assert len(ids) == 1 and SAFE_ID.match(ids[0]), f"{what}: X-Request-Id {ids}"
    try:
        body = json.loads(resp.body)
    except ValueError as e:
        raise AssertionError(f"{what}: body is not JSON ({e}): {resp.body[:300]!r}")
    assert body.get("success") is False, f"{what}: {body}"
    assert body["error"]["code"] == code, f"{what}: {body}"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert ISO_TS.match(body["timestamp"]), f"{what}: timestamp {body['timestamp']!r}"
    schema = {"allOf": [{"$ref": "#/components/schemas/ErrorEnvelope"},
                        {"$ref": f"#/components/schemas/{CODE_SCHEMAS[code]}"}]}
    spec().validate_json(body, schema, what)
    if status in (502, 503, 504):
        assert resp.header("Retry-After"), f"{what}: no Retry-After"
    return body


def _log_size(path):
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


@pytest.fixture(scope="module")
def nginx_log(stack):
    """The nginx error log's lines written while this module ran."""
    path = stack.env["BOXOFFICE_NGINX_ERROR_LOG"]
    start = _log_size(path)

    def new_lines():
        with open(path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace").splitlines()
    return new_lines


@pytest.mark.parametrize("name,raw,status,code", CORPUS, ids=[c[0] for c in CORPUS])
def test_raw_request_gets_the_error_envelope(stack, nginx_log, name, raw, status, code):
    raw = raw.replace(b"{ADMIN}", stack.env["BOXOFFICE_ADMIN_TOKEN"].encode())
    resp = send_raw(stack.url, raw)
    assert resp.status != 500, f"{name}: bad input answered 500: {resp.raw[:600]!r}"
    check_envelope(resp, status, code, name)


def test_corpus_left_no_named_location_failures(stack, nginx_log):
    """What used to turn a bad request into nginx's HTML 500 never shows in the error log.
    Runs after the corpus (pytest keeps file order)."""
    bad = [line for line in nginx_log() if "empty URI in redirect to named location" in line]
    assert not bad, "\n".join(bad[:5])


def test_http_0_9_gets_the_505_body_not_the_api(stack):
    """HTTP/0.9 has no status line and no headers: the client gets the 505 envelope's body."""
    resp = send_raw(stack.url, b"GET /api/health\r\n")
    assert resp.status is None, resp.raw[:300]
    body = json.loads(resp.body)
    assert body["success"] is False and body["error"]["code"] == "INVALID_REQUEST", body
    assert "version" in body["error"]["message"], body


def test_unsafe_client_request_id_is_replaced(stack):
    for rid in (b"<script>alert(1)</script>", b"a" * 8000, b"x y", b"short"):
        resp = send_raw(stack.url, req(b"GET /api/health HTTP/1.1", HOST, b"X-Request-Id: " + rid))
        assert resp.status == 200, resp.raw[:300]
        ids = resp.header("X-Request-Id")
        assert len(ids) == 1 and SAFE_ID.match(ids[0]) and ids[0].encode() != rid, ids


# ---- HEAD: every GET resource answers like GET, without a body

HEAD_PATHS = [
    "/api/health",
    "/api/ready",
    "/api/metrics",
    "/api/events",
    "/api/events?page=0&size=5",
    "/api/events/upcoming",
    "/api/events/available",
    "/api/events/999999999",          # 404 EVENT_NOT_FOUND: HEAD gets the same status
    "/api/events/abc",                # 400
    "/api/events/999999999/queue",    # the waiting room's shared poll
    "/api/reservations/999999999",
    "/api/reservations/user/edge-user",
    "/api/users/edge-user",
    "/api/no-such-route",             # the daemon's 404
    "/nowhere",                       # nginx's 404
]


@pytest.mark.parametrize("path", HEAD_PATHS)
def test_head_answers_like_get_without_a_body(stack, path):
    get = send_raw(stack.url, req(b"GET " + path.encode() + b" HTTP/1.1", HOST))
    head = send_raw(stack.url, req(b"HEAD " + path.encode() + b" HTTP/1.1", HOST))
    assert get.status is not None and get.status != 405, get.raw[:300]
    assert head.status == get.status, f"HEAD {path}: {head.raw[:300]!r} vs GET {get.status}"
    assert head.header("Content-Type") == get.header("Content-Type"), (head.headers, get.headers)
    assert len(head.header("X-Request-Id")) == 1
    assert head.body == b"", f"HEAD {path} sent a body: {head.body[:200]!r}"
    # The same Content-Length as GET, where GET's body cannot change between the two calls.
    if path == "/api/health":
        assert head.header("Content-Length") == get.header("Content-Length")


def test_head_on_a_path_without_get_is_405(stack):
    resp = send_raw(stack.url, req(b"HEAD /api/admin/reconcile HTTP/1.1", HOST))
    assert resp.status == 405, resp.raw[:300]
    assert resp.body == b""
    allow = [m.strip() for m in resp.header("Allow")[0].split(",")]
    assert "HEAD" not in allow and "POST" in allow, allow


def test_allow_lists_head_with_get(stack):
    resp = send_raw(stack.url, req(b"DELETE /api/health HTTP/1.1", HOST))
    check_envelope(resp, 405, "METHOD_NOT_ALLOWED", "DELETE /api/health")
    allow = [m.strip() for m in resp.header("Allow")[0].split(",")]
    assert allow == ["GET", "HEAD"], allow
