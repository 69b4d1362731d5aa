"""GET /api/metrics: Prometheus text whose counters move as requests are served."""
import re

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$')


def scrape(stack):
    r = stack.get("/api/metrics")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    samples, types = {}, {}
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not exposition format: {line!r}"
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(5))
    return samples, types


def test_format_and_types(stack):
    samples, types = scrape(stack)
    assert types["boxoffice_http_requests_total"] == "counter"
    assert types["boxoffice_http_request_duration_seconds"] == "histogram"
    for name in ("boxoffice_gate_admits_total", "boxoffice_gate_rejects_total",
                 "boxoffice_gate_compensations_total", "boxoffice_lock_acquired_total",
                 "boxoffice_lock_busy_total", "boxoffice_lock_expired_total",
                 "boxoffice_cache_hits_total", "boxoffice_cache_misses_total",
                 "boxoffice_db_errors_total", "boxoffice_db_reconnects_total",
                 "boxoffice_redis_errors_total", "boxoffice_redis_reconnects_total",
                 "boxoffice_worker_respawns_total", "boxoffice_group_commits_total",
                 "boxoffice_group_committed_reservations_total", "boxoffice_group_rollbacks_total"):
        assert types[name] == "counter", name
        assert name in samples, name
    for outcome in ("confirmed", "insufficient", "limit", "conflict", "error"):
        assert f'boxoffice_reservations_total{{outcome="{outcome}"}}' in samples
    # Every worker of the pool is counted alive.
    assert samples["boxoffice_workers_alive"] == len(stack.workers())


def test_counters_move(stack):
    before, _ = scrape(stack)
    key = 'boxoffice_http_requests_total{route="health",status="200"}'
    for _ in range(5):
        assert stack.get("/api/health").status_code == 200
    assert stack.get("/api/no-such-route").status_code == 404
    after, _ = scrape(stack)
    assert after[key] - before.get(key, 0) >= 5
    nf = 'boxoffice_http_requests_total{route="unmatched",status="404"}'
    assert after[nf] - before.get(nf, 0) >= 1
    count = 'boxoffice_http_request_duration_seconds_count{route="health"}'
    inf = 'boxoffice_http_request_duration_seconds_bucket{route="health",le="+Inf"}'
    assert after[count] - before.get(count, 0) >= 5
    assert after[inf] == after[count]


def test_reservation_outcomes_move(stack):
    admin = {"Authorization": "Bearer " + stack.env["BOXOFFICE_ADMIN_TOKEN"]}
    ev = stack.request("POST", "/api/events", headers=admin, json={
        "eventName": "metrics", "totalSeats": 2, "eventDate": "2031-01-01T00:00:00Z",
        "maxPerRequest": 2}).json()["data"]
    before, _ = scrape(stack)
    ok = stack.request("POST", "/api/reservations",
                       json={"eventId": ev["id"], "userId": "metrics-a", "quantity": 2})
    assert ok.status_code == 201, ok.text
    sold_out = stack.request("POST", "/api/reservations",
                             json={"eventId": ev["id"], "userId": "metrics-b", "quantity": 1})
    assert sold_out.status_code == 409, sold_out.text
    after, _ = scrape(stack)
    conf = 'boxoffice_reservations_total{outcome="confirmed"}'
    ins = 'boxoffice_reservations_total{outcome="insufficient"}'
    assert after[conf] - before[conf] >= 1
    assert after[ins] - before[ins] >= 1
