"""Validate HTTP responses against docs/api/openapi.yaml.

    from openapi_check import expect, validate
    body = expect(resp, 201)                         # status, OpenAPI schema, envelope; returns the JSON
    body = expect(resp, 409, "INSUFFICIENT_SEATS")   # ... and the error code
    validate(resp)                                   # schema only, whatever the status

The operation is found from the response's request (method + path, matched against the path
templates, literal segments winning over {params} as the daemon's router does). The status must be
documented for that operation; the body is validated against the response's schema (OpenAPI 3.0
translated to JSON Schema draft 4: `nullable` becomes `anyOf [..., {type: null}]`, $refs resolve
into the document), the media type must match, and every header the response declares required
(X-Request-Id, Retry-After, X-Cache, Allow) must be present and valid. A path that matches no
template validates against components/responses/RouteNotFound, a known path with another method
against MethodNotAllowed; a 502/504, 503 or 429 that an operation does not list is nginx's own
(GatewayUnavailable, AtCapacity, RateLimited), which any route can get.

Uses Debian's python3-yaml and python3-jsonschema only.
"""
import contextlib
import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "docs" / "api" / "openapi.yaml"

# keywords that OpenAPI 3.0 schema objects have and JSON Schema draft 4 does not know
_OAS_ONLY = {"nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs",
             "example", "deprecated"}


class ContractError(AssertionError):
    pass


def _translate(node):
    """OpenAPI 3.0 schema objects (anywhere in the document) -> JSON Schema draft 4."""
    if isinstance(node, list):
        return [_translate(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in _OAS_ONLY:
            continue
        if k in ("properties", "patternProperties", "definitions"):
            out[k] = {name: _translate(s) for name, s in v.items()}
        elif k == "format" and v in ("int64", "int32", "date-time"):
            continue   # jsonschema would (or would not) check these; patterns/ranges do instead
        else:
            out[k] = _translate(v)
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Spec:
    def __init__(self, path=SPEC_PATH):
        self.path = Path(path)
        self.raw = yaml.safe_load(self.path.read_text())
        self.doc = _translate(copy.deepcopy(self.raw))
        self.resolver = jsonschema.RefResolver(base_uri="", referrer=self.doc)
        self.templates = []
        for tpl, item in self.raw["paths"].items():
            parts = tpl.strip("/").split("/")
            rx = "^/" + "/".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
            literals = sum(1 for p in parts if not p.startswith("{"))
            self.templates.append((re.compile(rx), literals, tpl))

    # ---- lookups
    def deref(self, node):
        """Follow a local $ref (components/responses, headers, parameters, schemas)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ContractError(f"non-local $ref {ref}")
            node = self.raw
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
            if seen > 20:
                raise ContractError(f"$ref loop at {ref}")
        return node

    def match_path(self, path):
        best = None
        for rx, literals, tpl in self.templates:
            if rx.match(path) and (best is None or literals > best[0]):
                best = (literals, tpl)
        return best[1] if best else None

    def operation(self, method, path):
        """(template, operation dict) or (template, None) for a bad method, or (None, None)."""
        tpl = self.match_path(path)
        if tpl is None:
            return None, None
        return tpl, self.raw["paths"][tpl].get(method.lower())

    def response_spec(self, method, path, status):
        tpl, op = self.operation(method, path)
        where = f"{method} {path}"
        if tpl is None:
            if status != 404:
                raise ContractError(f"{where}: no such path in the OpenAPI document, and status {status} != 404")
            return "RouteNotFound", self.deref({"$ref": "#/components/responses/RouteNotFound"})
        if op is None:
            if status == 404:   # a nginx 404 for an odd method, or a daemon answer
                return "RouteNotFound", self.deref({"$ref": "#/components/responses/RouteNotFound"})
            if status != 405:
                raise ContractError(f"{where}: {method} is not documented for {tpl}, and status {status} != 405")
            return "MethodNotAllowed", self.deref({"$ref": "#/components/responses/MethodNotAllowed"})
        responses = op["responses"]
        key = str(status)
        if key not in responses:
            if status in (502, 504):
                return "GatewayUnavailable", self.deref({"$ref": "#/components/responses/GatewayUnavailable"})
            if status == 503:   # nginx at capacity, on any route
                return "AtCapacity", self.deref({"$ref": "#/components/responses/AtCapacity"})
            if status == 429:   # nginx's per-address rate, on any route
                return "RateLimited", self.deref({"$ref": "#/components/responses/RateLimited"})
            raise ContractError(f"{where} ({op.get('operationId')}): status {status} is not documented "
                                f"(documented: {', '.join(sorted(responses))})")
        return f"{op.get('operationId')} {key}", self.deref(responses[key])

    def validate_json(self, instance, schema, what):
        schema = _translate(copy.deepcopy(schema))
        validator = jsonschema.Draft4Validator(schema, resolver=self.resolver)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            lines = []
            for e in errors[:8]:
                loc = "/".join(str(p) for p in e.path) or "(root)"
                lines.append(f"  at {loc}: {e.message[:300]}")
                for sub in (e.context or [])[:4]:
                    sloc = "/".join(str(p) for p in sub.path) or "(root)"
                    lines.append(f"      - {sloc}: {sub.message[:200]}")
            raise ContractError(f"{what}: body does not match the OpenAPI schema:\n" + "\n".join(lines)
                                + f"\nbody: {json.dumps(instance)[:1500]}")

    def schema_of(self, name):
        return {"$ref": f"#/components/schemas/{name}"}


@lru_cache(maxsize=1)
def spec():
    return Spec()


def _path_of(resp):
    return urlsplit(resp.request.url).path


def validate(resp):
    """Check resp (a requests.Response) against the OpenAPI document; returns the parsed body
    (None for an empty body). Raises ContractError (an AssertionError) on any mismatch."""
    s = spec()
    method = resp.request.method.upper()
    path = _path_of(resp)
    status = resp.status_code
    label, rspec = s.response_spec(method, path, status)
    what = f"{method} {path} -> {status} [{label}]"

    # headers the response declares required
    for name, h in (rspec.get("headers") or {}).items():
        h = s.deref(h)
        value = resp.headers.get(name)
        if h.get("required") and value is None:
            raise ContractError(f"{what}: required header {name} is missing (headers: {dict(resp.headers)})")
        if value is not None and "schema" in h:
            hs = s.deref(h["schema"])
            inst = value
            if hs.get("type") == "integer":
                if not re.fullmatch(r"\d+", value.strip()):
                    raise ContractError(f"{what}: header {name}={value!r} is not an integer")
                inst = int(value)
            s.validate_json(inst, hs, f"{what} header {name}")

    content = rspec.get("content")
    if not content:
        if resp.content not in (b"",):
            raise ContractError(f"{what}: expected no body, got {resp.content[:200]!r}")
        return None
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype not in content:
        raise ContractError(f"{what}: Content-Type {ctype!r} not in {sorted(content)}; body {resp.text[:300]!r}")
    media = content[ctype]
    if ctype == "application/json":
        try:
            body = resp.json()
        except ValueError as e:
            raise ContractError(f"{what}: body is not JSON ({e}): {resp.text[:300]!r}")
    else:
        body = resp.text
    if "schema" in media:
        s.validate_json(body, media["schema"], what)
    return body


def expect(resp, status, code=None):
    """Assert the status (and the error code, for errors), validate against the OpenAPI document,
    and return the parsed body."""
    if resp.status_code != status:
        raise AssertionError(f"{resp.request.method} {_path_of(resp)}: expected {status}"
                             f"{' ' + code if code else ''}, got {resp.status_code}: {resp.text[:600]}")
    body = validate(resp)
    if code is not None:
        got = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
        if got != code:
            raise AssertionError(f"{resp.request.method} {_path_of(resp)}: expected code {code}, got {got}: "
                                 f"{json.dumps(body)[:600]}")
    return body


def lint():
    """Problems in the document itself: unresolvable $refs, operations without responses,
    responses without X-Request-Id, schemas that are not valid draft-4 schemas."""
    s = spec()
    problems = []

    def walk(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                try:
                    s.deref(node)
                except (KeyError, ContractError) as e:
                    problems.append(f"{where}: unresolvable $ref {node['$ref']} ({e})")
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    walk(s.raw, "#")
    for tpl, item in s.raw["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            if not op.get("responses"):
                problems.append(f"{method.upper()} {tpl}: no responses")
                continue
            for status, r in op["responses"].items():
                r = s.deref(r)
                if "X-Request-Id" not in (r.get("headers") or {}):
                    problems.append(f"{method.upper()} {tpl} {status}: no X-Request-Id header")
                for media in (r.get("content") or {}).values():
                    if "schema" in media:
                        try:
                            jsonschema.Draft4Validator.check_schema(_translate(copy.deepcopy(media["schema"])))
                        except jsonschema.SchemaError as e:
                            problems.append(f"{method.upper()} {tpl} {status}: bad schema: {e.message}")
    for name, sch in s.raw["components"]["schemas"].items():
        try:
            jsonschema.Draft4Validator.check_schema(_translate(copy.deepcopy(sch)))
        except jsonschema.SchemaError as e:
            problems.append(f"components/schemas/{name}: {e.message}")
    return problems



# ----------------------------------------------------------------------------------------------
# A client for the tests: every response it returns has been validated against the document.

import os
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import stacklib  # tests/lib/stacklib.py: event creation, shared with the load tools

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def iso(dt):
    """A datetime as the API writes it (UTC, milliseconds, Z)."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def future(days=30, minutes=0):
    return iso(datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days, minutes=minutes))


def past(days=1):
    return iso(datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=days))


def parse_ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def admin_sql(env, statement):
    """statement as the stack's MariaDB administrator (the OS user, over the socket); stdout"""
    r = subprocess.run(["mariadb", "--no-defaults", f"--socket={env['BOXOFFICE_MYSQL_SOCKET']}",
                        f"--user={env['BOXOFFICE_MYSQL_ADMIN_USER']}", "-N", "-B", "-e", statement],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"{statement[:60]}: {r.stderr}"
    return r.stdout


def tag():
    return uuid.uuid4().hex[:10]


class Api:
    """HTTP to the stack through nginx, with validation; SQL and Redis read-back for the checks."""

    def __init__(self, stack):
        self.stack = stack
        self.env = stack.env
        self.url = stack.url
        self.token = stack.env["BOXOFFICE_ADMIN_TOKEN"]
        self._local = threading.local()
        self.created = []       # event ids, closed by close_created()

    def _session(self):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = requests.Session()
        return s

    # ---- HTTP
    def call(self, method, path, *, json=None, data=None, headers=None, admin=False, timeout=20,
             check=True, **kw):
        h = dict(headers or {})
        if admin:
            h.setdefault("Authorization", f"Bearer {self.token}")
        r = self._session().request(method, self.url + path, json=json, data=data, headers=h,
                                    timeout=timeout, **kw)
        if check:
            validate(r)
        return r

    def expect(self, method, path, status, code=None, **kw):
        return expect(self.call(method, path, check=False, **kw), status, code)

    def admin(self, method, path, status, code=None, **kw):
        return self.expect(method, path, status, code, admin=True, **kw)

    # ---- fixtures of data
    def create_event(self, **fields):
        fields.setdefault("eventDate", future(1, minutes=len(fields)))
        r = stacklib.create_event(self.url, self.token, session=self._session(), **fields)
        ev = expect(r, 201)["data"]
        self.created.append(ev["id"])
        return ev

    def close_created(self):
        """Set the events this client created to CLOSED (best effort), so that they stop costing
        the reconciliation anything: the test stack's database outlives a test run."""
        for event_id in self.created:
            try:
                self.call("PUT", f"/api/events/{event_id}", admin=True, check=False, timeout=10,
                          json={"status": "CLOSED"})
            except requests.RequestException:
                pass
        self.created = []

    def event(self, event_id):
        """The event as the daemon has it now: read as the admin, which nginx's micro-cache
        never answers (a request with credentials always reaches the daemon), so availableSeats
        is live, not up to a second old. tests/integration/test_microcache.py covers the cache."""
        return self.expect("GET", f"/api/events/{event_id}", 200, admin=True)["data"]

    def reserve(self, event_id, user, quantity=1, key=None, **kw):
        h = {"Idempotency-Key": key} if key is not None else None
        return self.call("POST", "/api/reservations", json={"eventId": event_id, "userId": user,
                                                            "quantity": quantity}, headers=h, **kw)

    def reserved(self, event_id, user, quantity=1, key=None):
        return expect(self.reserve(event_id, user, quantity, key, check=False), 201)["data"]

    # ---- read-back
    def sql(self, query):
        env = dict(os.environ, MYSQL_PWD=self.env["BOXOFFICE_MYSQL_PASSWORD"])
        r = subprocess.run(["mariadb", "--no-defaults", f"--socket={self.env['BOXOFFICE_MYSQL_SOCKET']}",
                            f"--user={self.env['BOXOFFICE_MYSQL_USER']}", "--batch", "--skip-column-names",
                            self.env["BOXOFFICE_MYSQL_DB"], "-e", query],
                           env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"mariadb: {r.stderr.strip()} ({query})"
        return [line.split("\t") for line in r.stdout.splitlines()]

    def sql_value(self, query):
        rows = self.sql(query)
        return None if not rows or rows[0][0] == "NULL" else rows[0][0]

    def redis(self, *args):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.env["BOXOFFICE_REDIS_PORT"]),
                            "--raw", *[str(a) for a in args]], capture_output=True, text=True, timeout=15)
        assert r.returncode == 0, f"redis-cli {args}: {r.stderr.strip()}"
        return r.stdout.rstrip("\n")

    def sold(self, event_id):
        """Seats taken, from SQL: in CONFIRMED reservations and in holds not yet given back."""
        v = self.sql_value(f"SELECT COALESCE(SUM(quantity),0) FROM reservations "
                           f"WHERE event_id={int(event_id)} AND status IN ('CONFIRMED', 'HELD')")
        return int(v or 0)

    def inventory(self, event_id):
        """SUM(event_inventory.available), from SQL."""
        v = self.sql_value(f"SELECT COALESCE(SUM(available),0) FROM event_inventory WHERE event_id={int(event_id)}")
        return int(v or 0)

    def gate(self, event_id):
        v = self.redis("GET", f"bo:{{ev:{int(event_id)}}}:avail")
        return int(v) if v not in ("", None) else None

    def reconcile(self, attempts=10):
        """POST /api/admin/reconcile; a 503 (Redis just came back: each worker retries it after
        redis_retry_interval_ms) is retried after its Retry-After, a bounded number of times."""
        for _ in range(attempts - 1):
            r = self.call("POST", "/api/admin/reconcile", admin=True)
            if r.status_code != 503:
                break
            time.sleep(min(2.0, float(r.headers.get("Retry-After", "1"))))
        return expect(r, 200)["data"]

    def assert_consistent(self, event_id, total=None, reconcile=True):
        """API availableSeats == total - sold (SQL) == SUM(inventory) (SQL) == the gate counter
        (after a reconcile). Returns (available, sold)."""
        if reconcile:
            self.reconcile()
        ev = self.event(event_id)
        total = ev["totalSeats"] if total is None else total
        sold, inv = self.sold(event_id), self.inventory(event_id)
        gate = self.gate(event_id) if reconcile and ev["status"] == "ACTIVE" else None
        assert sold <= total, f"event {event_id}: OVERSOLD {sold} > {total}"
        assert inv == total - sold, f"event {event_id}: inventory {inv} != total {total} - sold {sold}"
        assert ev["availableSeats"] == total - sold, \
            f"event {event_id}: API availableSeats {ev['availableSeats']} != total {total} - sold {sold}"
        if gate is not None:
            assert gate == total - sold, f"event {event_id}: gate counter {gate} != {total - sold} after reconcile"
        return total - sold, sold


@pytest.fixture
def api(stack):
    """The validated client (import it into a test module to use it as a fixture); the events
    it created are CLOSED after the test."""
    client = Api(stack)
    yield client
    client.close_created()


@contextlib.contextmanager
def scoped_environ(values):
    """os.environ with these variables set (None: unset) inside the block, as it was after."""
    saved = {var: os.environ.get(var) for var in values}
    try:
        for var, value in values.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = str(value)
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def restart_daemon(stack, **overrides):
    """Stop the daemon gracefully (SIGQUIT to the master) and start it again through
    scripts/stack up with BOXOFFICE_<KEY>=value for each key=value given (None: unset), e.g.
    restart_daemon(stack, reservation_strategy="event-lock"). Waits for ready=UP and checks that
    the rendered app config has the values. os.environ is left as it was."""
    import signal
    from conftest import load_stack_env
    master = stack.master_pid()
    os.kill(master, signal.SIGQUIT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and stack.alive(master):
        time.sleep(0.1)
    assert not stack.alive(master), "the daemon did not stop on SIGQUIT within 60s"
    with scoped_environ({"BOXOFFICE_" + key.upper(): value for key, value in overrides.items()}):
        stack.up()
    stack.env.update(load_stack_env())
    stack.wait_status("/api/ready", lambda r: r.status_code == 200 and r.json()["data"]["status"] == "UP",
                      timeout=60)
    conf = {}
    for line in open(stack.env["BOXOFFICE_APP_CONF"]):
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            k, _, v = line.partition("=")
            conf[k.strip()] = v.strip()
    for key, value in overrides.items():
        if value is not None:
            assert conf.get(key) == str(value), f"app config has {key} = {conf.get(key)!r}, wanted {value!r}"

def parallel(fn, args, barrier=True, timeout=60):
    """Run fn(*a) for each a in args on its own thread, released together; returns the results in
    order (an exception is returned in place of a result)."""
    n = len(args)
    gate = threading.Barrier(n) if barrier else None
    results = [None] * n

    def run(i):
        try:
            if gate:
                gate.wait(timeout=timeout)
            results[i] = fn(*args[i])
        except BaseException as e:  # reported to the caller
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results

if __name__ == "__main__":
    import sys
    p = lint()
    print("\n".join(p) if p else f"{SPEC_PATH}: OK")
    sys.exit(1 if p else 0)
