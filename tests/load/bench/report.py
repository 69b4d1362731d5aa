#!/usr/bin/python3
"""Turn one scripts/bench run's output into docs/PERFORMANCE.md and the gnuplot data file.

  report.py OUT_DIR DOC_PATH

OUT_DIR is the run's bench directory ($RUN/bench): meta.tsv, phases.tsv, commands.tsv,
results/*.json|csv|tsv, rss.tsv, metrics.txt. Writes DOC_PATH and OUT_DIR/plot.dat (which
tests/load/bench/plot.gp renders into performance.png next to DOC_PATH). Only numbers from
these files are written; a missing measurement is reported as missing.
"""
import csv
import json
import os
import re
import sys
import time
from collections import OrderedDict, defaultdict

out_dir, doc_path = sys.argv[1], sys.argv[2]
res = os.path.join(out_dir, "results")


def load_json(name):
    p = os.path.join(res, name)
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def tsv(path, ncols=None):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t") if ncols is None else line.split("\t", ncols - 1))
    except OSError:
        pass
    return rows


meta = OrderedDict((r[0], r[1] if len(r) > 1 else "") for r in tsv(os.path.join(out_dir, "meta.tsv"), 2))
phases = tsv(os.path.join(out_dir, "phases.tsv"))
commands = tsv(os.path.join(out_dir, "commands.tsv"), 2)


def redis_csv(name):
    p = os.path.join(res, name)
    c = cpu(name[:-4])
    try:
        with open(p) as f:
            rows = list(csv.reader(f))
        hdr, row = rows[0], rows[-1]
        d = dict(zip(hdr, row))
        return {"rps": float(d["rps"]), "p50": float(d.get("p50_latency_ms", "nan")),
                "p99": float(d.get("p99_latency_ms", "nan")), "cpu": c}
    except (OSError, IndexError, KeyError, ValueError):
        return None


def cpu(name):
    """'busy X % / foreign Y %' for a measurement, from cpusnap.py's NAME.cpu.json"""
    j = load_json(name + ".cpu.json")
    if not j:
        return "n/a"
    return f"{j['machine_busy_pct']:.0f} % / {j['foreign_pct_of_core']:.0f} %"


def foreign(name):
    j = load_json(name + ".cpu.json")
    return j["foreign_pct_of_core"] if j else None


def same_noise(*names):
    f = [foreign(n) for n in names]
    return None not in f and max(f) - min(f) <= 20


def fmt(x, nd=0):
    if x is None:
        return "n/a"
    if nd == 0:
        return f"{x:,.0f}"
    return f"{x:,.{nd}f}"


def pct(x):
    return "n/a" if x is None else f"{100 * x:.0f} %"


def wrk_stats(name):
    r = load_json(name + ".json")
    if r is None:
        return None
    dur = r["duration_us"] / 1e6
    st = {int(k): v for k, v in r["statuses"].items()}
    lat = r["latency_us"]
    s = {
        "raw": r, "dur": dur, "requests": r["requests"], "rps": r["requests"] / dur,
        "statuses": st, "c409": r["c409"], "sock": r["socket_errors"],
        "p50": lat["p50"] / 1000, "p99": lat["p99"] / 1000, "p999": lat["p999"] / 1000,
        "n201": st.get(201, 0), "n200": st.get(200, 0), "n409": st.get(409, 0),
        "connections": r.get("connections"), "la": (r.get("loadavg_before"), r.get("loadavg_after")),
        "cpu": cpu(name),
    }
    s["confirmed_ps"] = s["n201"] / dur
    sql = load_json(name + ".sql.json")
    if sql:
        s["sql"] = sql
        s["sql_confirmed"] = sql["after"][0] - sql["before"][0]
        s["seats_left"] = sql["total_seats"] - sql["after"][1]
    return s


def status_str(s, ok=(200, 201)):
    parts = [f"{k}: {v:,}" for k, v in sorted(s["statuses"].items())]
    sock = {k: v for k, v in s["sock"].items() if v}
    if sock:
        parts.append("socket " + ", ".join(f"{k} {v:,}" for k, v in sock.items()))
    return "; ".join(parts) if parts else "none"


# ---------------------------------------------------------------- data
def best(*names):
    """the HTTP ceilings are measured before and after the scenarios; the higher one is the ceiling"""
    runs = [(n, wrk_stats(n)) for n in names]
    runs = [(n, r) for n, r in runs if r]
    return runs, (max(runs, key=lambda nr: nr[1]["rps"])[1] if runs else None)


static_runs, c_static = best("ceil_static", "ceil_static_2")
fcgi_runs, c_fcgi = best("ceil_fcgi", "ceil_fcgi_2")
bare_runs, c_bare = best("ceil_bare", "ceil_bare_2")
# /api/health of the daemon against the bare libfcgi responder, each pair measured back to back
# (daemon, bare before the scenarios; bare, daemon after; then the short pairs, each in the other
# order): per pair, and all pairs pooled
health_pairs = []
pair_names = [("ceil_fcgi", "ceil_bare", "before the scenarios"),
              ("ceil_fcgi_2", "ceil_bare_2", "after the scenarios")]
i = 1
while load_json(f"health_{i}_fcgi.json") is not None:
    pair_names.append((f"health_{i}_fcgi", f"health_{i}_bare", f"short pair {i}"))
    i += 1
health_runs = {}
for f_, b_, when in pair_names:
    fs, bs = (dict(fcgi_runs).get(f_) or wrk_stats(f_)), (dict(bare_runs).get(b_) or wrk_stats(b_))
    if fs and bs and bs["rps"]:
        health_pairs.append((when, fs["rps"], bs["rps"]))
        health_runs[when] = (f_, fs, b_, bs)
health_ratio = (sum(p[1] for p in health_pairs) / sum(p[2] for p in health_pairs)) if health_pairs else None


def comm_cpu(name, comm):
    """% of one core that comm's processes used during run name (cpusnap.py), or None"""
    j = load_json(name + ".cpu.json")
    if not j:
        return None
    return sum(v for c, v in j.get("ours_by_comm", []) if c == comm)


def worker_us(name, comm, requests):
    """CPU of the responders per request (µs), from the run's CPU snapshots"""
    c, pct_ = load_json(name + ".cpu.json"), comm_cpu(name, comm)
    return pct_ / 100 * c["seconds"] * 1e6 / requests if pct_ and requests else None


RESPONDER = {"fcgi": "bo-worker", "bare": "bare_fcgi"}


def pooled_us(side):
    """the responders' CPU per request over all the pairs, side "fcgi" (daemon) or "bare": µs, or None"""
    us = n = 0
    for f_, fs, b_, bs in health_runs.values():
        name, st_ = (f_, fs) if side == "fcgi" else (b_, bs)
        u = worker_us(name, RESPONDER[side], st_["requests"])
        if u is not None:
            us, n = us + u * st_["requests"], n + st_["requests"]
    return us / n if n else None
r1 = redis_csv("redis_evalsha_P1.csv")
r16 = redis_csv("redis_evalsha_P16.csv")
tx = {}
for t in (4, 8, 16):
    j = load_json(f"tx_text_{t}.json")
    if j:
        tx[t] = j
for t in (4, 8, 16):
    j = load_json(f"tx_text_{t}_2.json")
    if j:
        j["again"] = True
        tx[f"{t} again"] = j
tx_best = max(tx.values(), key=lambda j: j["tps"]) if tx else None
tx_ceiling = tx_best["tps"] if tx_best else None
fcgi_ceiling = c_fcgi["rps"] if c_fcgi else None
static_ceiling = c_static["rps"] if c_static else None

S = OrderedDict()
S["get_cached"] = ("cached GET /api/events/{id}", wrk_stats("get_cached"))
S["surge_gate"] = ("surge, gate", wrk_stats("surge_gate"))
S["surge_event_lock"] = ("surge, event-lock", wrk_stats("surge_event_lock"))
S["surge_gate_noredis"] = ("surge, gate, Redis stopped", wrk_stats("surge_gate_noredis"))
S["soldout"] = ("sold-out surge (gate)", wrk_stats("soldout"))
S["soak_gate"] = (f"memory soak: gate surge, {meta.get('soak_seconds', '?')} s", wrk_stats("soak_gate"))
# issue 13's second crowd size (not run when --connections is 256)
for _k, _l in (("surge_gate_c256", "surge, gate, c=256"), ("surge_event_lock_c256", "surge, event-lock, c=256")):
    if wrk_stats(_k):
        S[_k] = (_l, wrk_stats(_k))


def useful(key, s):
    """the scenario's useful answers per second, and which ceiling it is compared with"""
    if s is None:
        return None, None, None
    if key == "get_cached":
        return s["n200"] / s["dur"], fcgi_ceiling, "200 OK/s vs nginx→FastCGI"
    if key == "soldout":
        return s["c409"]["INSUFFICIENT_SEATS"] / s["dur"], fcgi_ceiling, "sold-out 409/s vs nginx→FastCGI"
    return s["confirmed_ps"], tx_ceiling, "confirmed/s vs bare MariaDB hot row"


def false_rejections(key, s):
    if s is None or key in ("get_cached", "soldout"):
        return None
    # every 409 on an event that still had seats left after the surge is a false rejection
    if s.get("seats_left", 1) > 0:
        return s["n409"]
    return None


# ---------------------------------------------------------------- document
L = []
w = L.append
w("# boxoffice performance")
w("")
w("Generated by `scripts/bench` from the output of one run; every number below comes from that run "
  "(raw files: `$RUN/bench/` of the run, see *Reproduce*). Nothing here is hand-edited.")
w("")
w("## Machine and run")
w("")
w("| | |")
w("|---|---|")
for k, label in (("date", "date (UTC)"), ("git", "commit"), ("command", "command"), ("nproc", "CPUs (nproc)"),
                 ("cpu", "CPU model (/proc/cpuinfo, count × model)"), ("memory", "memory"), ("kernel", "kernel"),
                 ("virt", "virtualization"), ("versions", "versions"), ("mariadb_flush", "MariaDB durability"),
                 ("nofile", "ulimit -n"), ("somaxconn", "net.core.somaxconn"), ("workers", "daemon workers"),
                 ("app_conf", "daemon config (rendered)"), ("connections", "wrk connections"),
                 ("durations", "durations"), ("loadavg_before", "loadavg before the run"),
                 ("loadavg_after", "loadavg after the run"), ("foreign_top", "top CPU users at the start (ps)"),
                 ("wall_seconds_before_report", "wall time of the run (s, without the report step)")):
    if k in meta:
        w(f"| {label} | {meta[k].replace('|', '/')} |")
w("")
w("**Noise warning.** This machine has 2 vCPUs shared with other engineers' test runs (other stacks, "
  "MariaDB instances, pytest and node suites were running during this benchmark: see the load averages "
  "above and per scenario below). The load generator (wrk, redis-benchmark, txbench) runs on the same two "
  "cores as nginx, the daemon, Redis and MariaDB. Every scenario figure is one run, not a median; treat differences "
  "under ~30 % as noise. The ceilings were measured in the same run, minutes apart from the scenarios, "
  "under similar (not identical) foreign load.")
w("")
w("Phase wall times:")
w("")
w("| phase | seconds |")
w("|---|---|")
tot = 0.0
for p in phases:
    w(f"| {p[0]} | {p[1]} |")
    tot += float(p[1])
tun_t = sum(float(p[1]) for p in phases if p[0].startswith("tuning-"))
if tun_t:
    w(f"| default phases (everything but tuning-*) | {tot - tun_t:.1f} |")
    w(f"| tuning phases (`--tuning` only) | {tun_t:.1f} |")
w(f"| **total (without the report step)** | **{tot:.1f}** |")
w("")

# ---- ceilings
w("## Ceilings (same run)")
w("")
w("CPU column: machine busy (100 % = both vCPUs busy) / CPU time of processes that are not the bench's "
  "during that measurement, in % of ONE core (tests/load/bench/cpusnap.py: /proc/stat and /proc/<pid>/stat "
  "snapshots; a lower bound, since processes that exit during the measurement are not counted). "
  "With foreign at 50-100 % of a core, the bench's servers and its load generator got roughly half of the "
  "machine: the ceilings below are far under what this machine kind does when it is quiet "
  "(/work/shared/reference/machine-ceilings.md measured ~120-150k req/s static, ~18-30k req/s "
  "nginx→FastCGI, ~90-110k/s Redis gate script, ~5-6.5k tx/s durable hot row on a quiet box).")
w("")
w("| ceiling | throughput | p50 | p99 | p99.9 | errors | ratio | CPU busy / foreign |")
w("|---|---|---|---|---|---|---|---|")
WHEN = {"ceil_static": "before the scenarios", "ceil_static_2": "after the scenarios",
        "ceil_fcgi": "before the scenarios", "ceil_fcgi_2": "after the scenarios",
        "ceil_bare": "before the scenarios", "ceil_bare_2": "after the scenarios"}
BARE_OF = {"ceil_fcgi": "ceil_bare", "ceil_fcgi_2": "ceil_bare_2"}
for n, r in static_runs:
    mark_ = " **(ceiling)**" if r is c_static else ""
    w(f"| nginx `return 200` + 80-byte JSON, c={r['connections']}, {WHEN[n]}{mark_} | {fmt(r['rps'])} req/s | "
      f"{r['p50']:.2f} ms | {r['p99']:.2f} ms | {r['p999']:.2f} ms | {status_str(r)} | 1 | {r['cpu']} |")
for n, r in bare_runs:
    w(f"| nginx → bare libfcgi responder `GET /api/health` (tests/load/bench/bare_fcgi.c, "
      f"{meta.get('workers', '?')} workers; the same nginx location settings), c={r['connections']}, {WHEN[n]} | "
      f"{fmt(r['rps'])} req/s | {r['p50']:.2f} ms | {r['p99']:.2f} ms | {r['p999']:.2f} ms | {status_str(r)} | "
      f"{pct(r['rps'] / static_ceiling) if static_ceiling else 'n/a'} of the nginx static ceiling | {r['cpu']} |")
for n, r in fcgi_runs:
    mark_ = " **(ceiling)**" if r is c_fcgi else ""
    b = dict(bare_runs).get(BARE_OF[n])
    vs_bare = f"; **{pct(r['rps'] / b['rps'])} of the bare responder** beside it" if b and b["rps"] else ""
    w(f"| nginx → FastCGI `GET /api/health` of the daemon (the bench's nginx, no in-flight limit), c={r['connections']}, {WHEN[n]}{mark_} | {fmt(r['rps'])} req/s | "
      f"{r['p50']:.2f} ms | {r['p99']:.2f} ms | {r['p999']:.2f} ms | {status_str(r)} | "
      f"{pct(r['rps'] / static_ceiling) if static_ceiling else 'n/a'} of the nginx static ceiling{vs_bare} | {r['cpu']} |")
for lab, r in (("Redis gate script (EVALSHA, one key), 50 clients, no pipeline", r1),
               ("Redis gate script (EVALSHA, one key), 50 clients, -P 16", r16)):
    if r:
        w(f"| {lab} | {fmt(r['rps'])} ops/s | {r['p50']:.2f} ms | {r['p99']:.2f} ms | n/a | 0 | | {r['cpu']} |")
for t, j in tx.items():
    best_ = " **(ceiling)**" if j is tx_best else ""
    again = j.get("again")
    cname = f"tx_text_{j['threads']}_2" if again else f"tx_text_{t}"
    w(f"| bare MariaDB hot-row reservation tx (UPDATE+INSERT+COMMIT, durable), {j['threads']} clients"
      f"{', after the scenarios' if again else ''}{best_} | "
      f"{fmt(j['tps'])} tx/s | {j['p50_ms']:.2f} ms | {j['p99_ms']:.2f} ms | {j['p999_ms']:.2f} ms | "
      f"{j['errors']} | | {cpu(cname)} |")
w("")
w("The HTTP ceilings and the best transaction concurrency are measured twice, before and after the scenarios; "
  "the higher figure is the ceiling (the stricter choice for the ratio targets). The spread between the two "
  "measurements of the same thing is a direct reading of this run's noise.")
w("")
if health_pairs:
    ratios = [f_ / b_ for _, f_, b_ in health_pairs]
    w("**The daemon's `/api/health` against a bare libfcgi responder** (issue 13: ≥ 90 %). Both sit behind the "
      "bench's nginx with the same FastCGI location (same params, `fastcgi_keep_conn off`: one connection per "
      "request), the same number of prefork workers and listen backlog; the bare responder answers the same "
      "headers and JSON body, ends each connection as the daemon does (stdin read to its end, then closed without "
      "libfcgi's lingering close) and does nothing else. Measured back to back in pairs: the two ceiling runs "
      "(daemon then bare before the scenarios, bare then daemon after them), then "
      f"{len(health_pairs) - 2 if len(health_pairs) > 2 else 0} short pairs of {meta.get('health_run_s', '?')} s each, "
      "each in the other order, so that a drift of the machine falls on both sides. The ratio of one pair "
      f"ranged from {pct(min(ratios))} to {pct(max(ratios))} in this run; pooled over all "
      f"{len(health_pairs)} pairs: **{pct(health_ratio)}**.")
    w("")
    w("| pair | daemon | bare | ratio | daemon's responders, CPU per request | bare's |")
    w("|---|---|---|---|---|---|")
    for when, f_, b_ in health_pairs:
        fn, fs, bn, bs = health_runs[when]
        fu, bu = worker_us(fn, RESPONDER["fcgi"], fs["requests"]), worker_us(bn, RESPONDER["bare"], bs["requests"])
        w(f"| {when} | {fmt(f_)} req/s | {fmt(b_)} req/s | {pct(f_ / b_)} | "
          f"{f'{fu:.1f} µs' if fu is not None else 'n/a'} | {f'{bu:.1f} µs' if bu is not None else 'n/a'} |")
    fu, bu = pooled_us("fcgi"), pooled_us("bare")
    if fu is not None and bu is not None:
        w("")
        w(f"CPU per request of the responder processes alone (`bo-worker` against `bare_fcgi`, from the CPU "
          f"snapshots, pooled): {fu:.1f} µs against {bu:.1f} µs: the daemon's own work on this path is "
          f"{fu - bu:.1f} µs a request.")
    w("")

# ---- scenarios
w(f"## Scenarios at {meta.get('connections', '?')} concurrent connections")
w("")
w("Ratios: reservations (confirmed/s) against the bare MariaDB hot-row ceiling; cached GETs and "
  "sold-out rejections against the nginx → FastCGI ceiling. *False rejections* are 409s on an event "
  "that still had seats after the surge (all surge events had 1,000,000 or 10,000,000 seats).")
w("")
w("| scenario | req/s | useful/s | ratio to ceiling | p50 | p99 | p99.9 | answers by status | false rejections | CPU busy / foreign | loadavg before→after |")
w("|---|---|---|---|---|---|---|---|---|---|---|")
plot_rows = []
for key, (label, s) in S.items():
    if s is None:
        w(f"| {label} | not measured (no result file) | | | | | | | | | |")
        continue
    u, ceil, what = useful(key, s)
    fr = false_rejections(key, s)
    frs = "n/a" if fr is None else f"{fr:,}"
    if key.startswith("surge_event_lock") and fr:
        frs += f" (CONCURRENT_RESERVATION {s['c409']['CONCURRENT_RESERVATION']:,}, by design)"
    ratio = f"{pct(u / ceil)} ({what})" if (u is not None and ceil) else "n/a"
    w(f"| {label} | {fmt(s['rps'])} | {fmt(u)} | {ratio} | {s['p50']:.1f} ms | {s['p99']:.1f} ms | "
      f"{s['p999']:.1f} ms | {status_str(s)} | {frs} | {s['cpu']} | {s['la'][0]}→{s['la'][1]} |")
    plot_rows.append((key, s["rps"], u or 0, s["p99"], s["p50"]))
w("")
w("SQL cross-check (CONFIRMED rows of the scenario's event, counted in MariaDB before and after; "
  "a few more than wrk's 201s is normal: requests still in flight when wrk stops are committed but not counted):")
w("")
w("| scenario | event | 201s seen by wrk | CONFIRMED rows added (SQL) | seats left after |")
w("|---|---|---|---|---|")
for key, (label, s) in S.items():
    if s and "sql" in s:
        w(f"| {label} | {s['sql']['event']} | {s['n201']:,} | {s['sql_confirmed']:,} | {s['seats_left']:,} |")
w("")

# CPU breakdown per measurement
cpu_rows = []
for key in ["ceil_static", "ceil_fcgi", f"tx_text_{tx_best['threads'] if tx_best else 8}"] + list(S.keys()):
    j = load_json(key + ".cpu.json")
    if j:
        label = S[key][0] if key in S else key
        cpu_rows.append((label, j))
if cpu_rows:
    w("Where the CPU went (% of ONE core, averaged over each measurement; the machine has 2): the bench's "
      "processes by name (\"load client\" = wrk/txbench/redis-benchmark), and the largest foreign consumers:")
    w("")
    w("| measurement | machine busy | bench processes | foreign (top) |")
    w("|---|---|---|---|")
    for label, j in cpu_rows:
        mine = ", ".join(f"{c} {v:.0f}" for c, v in j.get("ours_by_comm", [])[:6])
        fo = ", ".join(f"{c} {v:.0f}" for c, v in j.get("foreign_top", [])[:4])
        w(f"| {label} | {j['machine_busy_pct']:.0f} % | {mine} | {j['foreign_pct_of_core']:.0f} total: {fo} |")
    w("")

# metrics deltas per scenario (if the daemon serves /api/metrics)
MRE = re.compile(r"^([a-z_]+)(\{[^}]*\})?\s+([0-9.eE+-]+)$")


def metrics(path):
    d = {}
    try:
        for ln in open(path):
            m = MRE.match(ln.strip())
            if m:
                d[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    except OSError:
        return None
    return d


MCOLS = [("confirmed", 'boxoffice_reservations_total{outcome="confirmed"}'),
         ("insufficient", 'boxoffice_reservations_total{outcome="insufficient"}'),
         ("conflict", 'boxoffice_reservations_total{outcome="conflict"}'),
         ("error", 'boxoffice_reservations_total{outcome="error"}'),
         ("gate admits", "boxoffice_gate_admits_total"), ("gate rejects", "boxoffice_gate_rejects_total"),
         ("compensations", "boxoffice_gate_compensations_total"),
         ("lock acquired", "boxoffice_lock_acquired_total"), ("lock busy", "boxoffice_lock_busy_total"),
         ("db errors", "boxoffice_db_errors_total"), ("redis errors", "boxoffice_redis_errors_total")]
mrows = []
for key, (label, s) in S.items():
    a, b = metrics(os.path.join(res, key + ".metrics.before")), metrics(os.path.join(res, key + ".metrics.after"))
    if a is not None and b is not None:
        mrows.append((label, [fmt(b[m] - a.get(m, 0)) if m in b else "–" for _, m in MCOLS]))
if mrows:
    w("Cross-check with the daemon's own counters (`GET /api/metrics` scraped just before and after each "
      "reservation scenario, deltas; after includes the requests still queued when wrk stopped):")
    w("")
    w("| scenario | " + " | ".join(c for c, _ in MCOLS) + " |")
    w("|---|" + "---|" * len(MCOLS))
    for label, vals in mrows:
        w(f"| {label} | " + " | ".join(vals) + " |")
    w("")

# invariants
inv = tsv(os.path.join(res, "invariants.tsv"))
rc = dict((r[0], r[1] if len(r) > 1 else "") for r in tsv(os.path.join(res, "redis_counters.tsv")))
if inv:
    w("Invariant after the run, per bench event (sold = SUM of CONFIRMED quantities; "
      "the inventory shards must hold total − sold; Redis counter after the admin reconcile):")
    w("")
    w("| event | total seats | sold | SUM(shards) | shards | total − sold = SUM(shards)? | oversold? | Redis counter |")
    w("|---|---|---|---|---|---|---|---|")
    for r in inv:
        ev, total, sold, avail, k = r[0], int(r[1]), int(r[2]), int(r[3]), r[4]
        w(f"| {ev} | {total:,} | {sold:,} | {avail:,} | {k} | {'yes' if total - sold == avail else '**NO**'} | "
          f"{'**YES**' if sold > total else 'no'} | {rc.get(ev, '') or '(none)'} |")
    w("")

w("![Throughput and p99 per scenario and ceiling](performance.png)")
w("")

# ---------------------------------------------------------------- targets
w("## Targets (issue 6)")
w("")
g, el, nr, so, gc = (S[k][1] for k in ("surge_gate", "surge_event_lock", "surge_gate_noredis", "soldout", "get_cached"))


def mark(ok):
    return "**MET**" if ok else "**NOT MET**"


rows = []
if g and el:
    fr = false_rejections("surge_gate", g) or 0
    ratio = g["confirmed_ps"] / el["confirmed_ps"] if el["confirmed_ps"] else float("inf")
    rows.append(("`gate` confirms ≥ 10× more reservations/s than `event-lock`, with zero false rejections",
                 ratio >= 10 and fr == 0,
                 f"gate {fmt(g['confirmed_ps'])}/s vs event-lock {fmt(el['confirmed_ps'])}/s = "
                 f"{ratio:.1f}×; gate false rejections: {fr:,}"))
if g and tx_ceiling:
    r = g["confirmed_ps"] / tx_ceiling
    rows.append(("Full-stack confirmed reservations/s ≥ 50 % of the bare MariaDB hot-row ceiling",
                 r >= 0.5, f"gate {fmt(g['confirmed_ps'])}/s = {pct(r)} of {fmt(tx_ceiling)} tx/s"
                 + (" (passes 100 %: sharded inventory)" if r >= 1 else " (does not pass 100 %)")))
if so and fcgi_ceiling:
    u = useful("soldout", so)[0]
    rows.append(("Sold-out rejections/s ≥ 70 % of the nginx → FastCGI ceiling", u / fcgi_ceiling >= 0.7,
                 f"{fmt(u)}/s = {pct(u / fcgi_ceiling)} of {fmt(fcgi_ceiling)} req/s"))
if gc and fcgi_ceiling:
    u = useful("get_cached", gc)[0]
    rows.append(("Cached GETs ≥ 60 % of the nginx → FastCGI ceiling", u / fcgi_ceiling >= 0.6,
                 f"{fmt(u)}/s = {pct(u / fcgi_ceiling)} of {fmt(fcgi_ceiling)} req/s"))
p99s = [(lab, s["p99"]) for lab, s in (("gate", g), ("event-lock", el), ("gate, Redis stopped", nr),
                                      ("sold-out", so), ("gate soak", S["soak_gate"][1])) if s]
if p99s:
    rows.append(("p99 < 50 ms for reservations at 1,000 concurrent connections (every reservation scenario)",
                 all(p < 50 for _, p in p99s), "; ".join(f"{lab} {p:.1f} ms" for lab, p in p99s)))

# RSS
rss = tsv(os.path.join(out_dir, "rss.tsv"))
per = defaultdict(list)  # pid -> [(label, t, kB)]
for r in rss:
    if len(r) >= 4:
        per[r[2]].append((r[0], int(r[1]), int(r[3] or 0)))
RSS_LIMIT_KB = 1024
rss_rows = []
for pid, samples in per.items():
    st = next((x for x in samples if x[0] == "start"), None)
    en = next((x for x in samples if x[0] == "end"), None)
    mid = [x for x in samples if x[0] not in ("start", "end")]
    rss_rows.append((pid, st, en, mid))
if rss_rows:
    both = [x for x in rss_rows if x[1] and x[2]]
    flat = bool(both) and len(both) == len(rss_rows) and all(x[2][2] - x[1][2] <= RSS_LIMIT_KB for x in both)
    growth = [x[2][2] - x[1][2] for x in both]
    rows.append((f"Each worker's RSS is flat over a {meta.get('soak_seconds', '?')}-s gate surge (the soak) "
                 f"(criterion: end − start ≤ {RSS_LIMIT_KB} kB for every worker, same pid start to end)",
                 flat, f"{len(both)} of {len(rss_rows)} workers sampled at start and end; growth "
                 f"min {min(growth) if growth else 'n/a'} kB, max {max(growth) if growth else 'n/a'} kB"))

w("| target | result | numbers |")
w("|---|---|---|")
for t, ok, num in rows:
    w(f"| {t} | {mark(ok)} | {num} |")
w("")
fl = [(lab, foreign(n)) for lab, n in (("nginx→FastCGI ceiling", "ceil_fcgi_2" if c_fcgi is not None and
                                        c_fcgi is dict(fcgi_runs).get("ceil_fcgi_2") else "ceil_fcgi"),
                                       ("cached GET", "get_cached"), ("gate", "surge_gate"),
                                       ("event-lock", "surge_event_lock"), ("gate, Redis stopped", "surge_gate_noredis"),
                                       ("sold-out", "soldout"), ("gate soak", "soak_gate"))]
fl = [(lab, v) for lab, v in fl if v is not None]
if fl:
    w("Foreign CPU (other people's jobs, % of one core) while each compared figure was measured: "
      + "; ".join(f"{lab} {v:.0f} %" for lab, v in fl)
      + ". A target that compares two figures taken under very different foreign load is a statement about "
      "this run, not about the design; see *Reading the numbers*.")
    w("")

w("### Reading the numbers")
w("")
conns = int(meta.get("connections", "1000") or 1000)
lit = []
for key, (label, s) in S.items():
    if s and s["rps"]:
        lit.append(f"{label} {s['p50']:.0f} vs {(s['connections'] or conns) / s['rps'] * 1000:.0f} ms")
if lit:
    w("- p50 against Little's law (connections / req/s): " + "; ".join(lit) + ". Where the two "
      "are close, latency at this concurrency is queueing (nginx holds the client connections, the daemon's "
      "listen backlog the FastCGI connects, while the responders are busy), not service time: p99 < 50 ms "
      "at 1,000 connections needs well over 20,000 answers/s.")
if g and c_fcgi:
    w(f"- The gate surge served {fmt(g['rps'])} req/s, {pct(g['rps'] / c_fcgi['rps'])} of what the same nginx → "
      f"FastCGI path does for `/api/health` (no work at all) and {pct(g['rps'] / tx_ceiling) if tx_ceiling else 'n/a'} "
      "of the bare hot-row transaction. Each reservation costs one Redis round trip (the user's token bucket and the "
      "gate's script, which checks the worker's memo of the event against its cache entry), a durable "
      "transaction of 6 statements in one `CALL reserve_one_shard` (START + event row + per-user tally upsert + shard "
      "UPDATE + INSERT reservation + INSERT audit + COMMIT; the bare transaction is an UPDATE and an INSERT) and the "
      "JSON work, on the same 2 vCPUs as wrk, nginx, Redis and MariaDB.")
if g and tx_best:
    db_g = comm_cpu("surge_gate", "mariadbd")
    db_t = comm_cpu(f"tx_text_{tx_best['threads']}", "mariadbd")
    app_g = comm_cpu("surge_gate", "boxoffice-fcgi")
    if db_g and db_t and g["confirmed_ps"] and tx_best["tps"]:
        per_g = db_g / 100 / g["confirmed_ps"] * 1000
        per_t = db_t / 100 / tx_best["tps"] * 1000
        w(f"- MariaDB CPU per confirmed reservation: {per_g:.2f} ms in the gate surge against {per_t:.2f} ms per "
          f"bare hot-row transaction ({per_g / per_t:.1f}×)"
          + (f"; the daemon's workers used {app_g / 100 / g['confirmed_ps'] * 1000:.2f} ms of CPU per reservation"
             if app_g else "") + "."
          + (" With both vCPUs busy during the surge, CPU (shared with wrk, nginx, Redis and other jobs), "
             "rather than the row lock, is the likely limit of the full stack on this machine."
             if (load_json("surge_gate.cpu.json") or {}).get("machine_busy_pct", 0) >= 95 else ""))
if el:
    tot409 = el["n409"]
    w(f"- event-lock: {tot409:,} of {el['requests']:,} answers ({pct(tot409 / el['requests']) if el['requests'] else 'n/a'}) "
      f"were 409 CONCURRENT_RESERVATION: the per-event lock lets one request per event through at a time and "
      "fails the rest fast, so its confirmed/s is bounded by one transaction at a time.")
if g and nr and not same_noise("surge_gate", "surge_gate_noredis"):
    w(f"- With Redis stopped the gate strategy confirmed {fmt(nr['confirmed_ps'])}/s against {fmt(g['confirmed_ps'])}/s "
      f"with Redis, with {(false_rejections('surge_gate_noredis', nr) or 0):,} false rejections. The two ran under "
      f"different foreign load ({foreign('surge_gate_noredis'):.0f} vs {foreign('surge_gate'):.0f} % of a core), "
      "so this run cannot say which path is faster; it does show that the DB-only path is correct under the surge.")
elif g and nr:
    w(f"- With Redis stopped the gate strategy still confirmed {fmt(nr['confirmed_ps'])}/s "
      f"({pct(nr['confirmed_ps'] / g['confirmed_ps']) if g['confirmed_ps'] else 'n/a'} of the gate surge) with "
      f"{(false_rejections('surge_gate_noredis', nr) or 0):,} false rejections"
      + (": the DB-only path is slower, but correct." if nr["confirmed_ps"] < g["confirmed_ps"] else
         ". It was not slower here: on a hot event with plenty of seats the gate only adds Redis round trips "
         "(the admission script) in front of the same transaction; the gate pays off when the "
         "event sells out (the sold-out surge never reaches MariaDB)."))
w("")

w(f"### Memory: worker RSS over the {meta.get('soak_seconds', '?')}-s gate soak")
w("")
w("VmRSS from `/proc/<pid>/status` of every child of the master (`$RUN/app/boxoffice.pid`), sampled "
  "at the start of the surge, every 30 s, and at the end. The bench runs the daemon with "
  "`max_requests = 0` so that no worker is recycled during the soak (a recycled worker would hide a leak).")
w("")
if rss_rows:
    mids = sorted({x[0] for r in rss_rows for x in r[3]}, key=lambda s: int(s[1:]))
    w("| worker pid | start kB | " + " | ".join(f"{m[1:]} s" for m in mids) + " | end kB | end − start |")
    w("|---|---|" + "---|" * len(mids) + "---|---|")
    for pid, st, en, mid in sorted(rss_rows, key=lambda x: int(x[0])):
        md = {x[0]: x[2] for x in mid}
        w(f"| {pid} | {st[2] if st else 'gone'} | " + " | ".join(str(md.get(m, '-')) for m in mids) +
          f" | {en[2] if en else 'gone'} | {(en[2] - st[2]) if (st and en) else 'n/a'} |")
else:
    w("No RSS samples were taken.")
w("")

# ---- metrics
ms = meta.get("metrics_status", "")
w("### `GET /api/metrics` after the run")
w("")
mpath = os.path.join(out_dir, "metrics.txt")
if ms == "200" and os.path.exists(mpath):
    keep = re.compile(r"^boxoffice_(reservations_total|gate_(admits|rejects|compensations)_total|lock_(acquired|busy)"
                      r"_total|cache_(hits|misses)_total|db_errors_total|redis_errors_total|workers_alive|"
                      r"worker_respawns_total)")
    lines = [ln for ln in open(mpath).read().splitlines() if keep.match(ln)]
    w("Scraped once right after the sold-out surge (the selected series). The counters live in the master's "
      "shared memory, so they cover only what this daemon instance served since its last restart (the bench "
      "restarts it before the event-lock and the Redis-stopped scenarios): the Redis-stopped and the "
      "sold-out surges. Per-scenario deltas are in the cross-check table above.")
    w("")
    w("```")
    L.extend(lines[:60])
    w("```")
else:
    w(f"Not available in this run (HTTP status {ms or 'none'}); nothing was cross-checked against it.")
w("")

# ---------------------------------------------------------------- open loop (issue 13)
OL = OrderedDict()
for mode in ("reserve", "get"):
    for p_ in (50, 80):
        j = load_json(f"openloop_{mode}_{p_}.json")
        if j:
            OL[(mode, p_)] = j


def ol_answers(j):
    parts = [f"{k}: {v:,}" for k, v in sorted(j["statuses"].items(), key=lambda kv: int(kv[0]))]
    return "; ".join(parts) if parts else "none"


w("## Open-loop latency (issue 13)")
w("")
if not OL:
    w("Not measured in this run (no `openloop_*.json` results).")
    w("")
else:
    w("The closed-loop scenarios above keep 1,000 connections busy, so their latency is queueing by Little's law "
      "and says nothing about a service running below its capacity. Here requests arrive on a fixed schedule "
      "(`tests/load/bench/openloop.c`: request i at t0 + i / rate, whatever happened to the earlier ones, on "
      "keep-alive connections opened as needed, up to 2,000), at 50 % and 80 % of the capacity this run measured "
      "closed loop (reservations: the gate surge's confirmed/s; cached GETs: the cached-GET scenario's req/s), "
      f"{next(iter(OL.values()))['seconds']:.0f} s each. Every latency counts from the request's "
      "**scheduled** time, so a request that waited for a connection or behind a slow one is not forgiven "
      "(no coordinated omission); requests still unanswered 10 s after the schedule ended count as timeouts, "
      "with their latency so far. Reservations go to a fresh event of 10,000,000 seats, a distinct user each; "
      "the GETs to the same event (nginx's micro-cache). *Sent* is the rate the client achieved and *answered* "
      "the answers per second that came back before the schedule ended. *Client lag* is how late the client "
      "sent (p99): either it waited for a connection (all 2,000 busy: the service was behind) or the client "
      "itself was short of CPU.")
    w("")
    w("| requests | load | rate: target → sent, answered | answers by status | p50 | p90 | p99 | p99.9 | max | "
      "timeouts / socket errors | client lag p99 | connections | CPU busy / foreign |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for mode, key, label in (("reserve", "surge_gate", "reservations"), ("get", "get_cached", "cached GET /api/events/{id}")):
        c = S[key][1]
        if c:
            lat = c["raw"]["latency_us"]
            extra = f" ({fmt(c['confirmed_ps'])} confirmed/s)" if mode == "reserve" else ""
            w(f"| {label} | closed loop, wrk c={c['connections']} (the scenario above) | {fmt(c['rps'])} req/s{extra} | "
              f"{status_str(c)} | {c['p50']:.2f} ms | {lat['p90'] / 1000:.2f} ms | {c['p99']:.2f} ms | "
              f"{c['p999']:.2f} ms | {lat['max'] / 1000:.0f} ms | {sum(c['sock'].values()):,} socket errors | | "
              f"{c['connections']} | {c['cpu']} |")
        for (m, p_), j in OL.items():
            if m != mode:
                continue
            lt = j["latency_us"]
            se = j["socket_errors"]
            ans = j.get("answered_in_schedule_per_s")
            w(f"| {label} | **open loop, {p_} %** of {fmt(j.get('capacity'))}/s | {fmt(j['rate'])} → "
              f"{fmt(j['achieved_rate'])}, {fmt(ans)}/s | {ol_answers(j)} | {lt['p50'] / 1000:.2f} ms | {lt['p90'] / 1000:.2f} ms | "
              f"**{lt['p99'] / 1000:.2f} ms** | {lt['p999'] / 1000:.2f} ms | {lt['max'] / 1000:.0f} ms | "
              f"{se['timeout']:,} / {se['connect'] + se['read'] + se['write']:,} | "
              f"{j['send_lag_us']['p99'] / 1000:.2f} ms | {j['connections']['max_open']:,} open at most, "
              f"{j['connections']['opened']:,} opened; {j['waited_for_connection'] + j['unsent']:,} requests waited "
              f"for one | {cpu(f'openloop_{m}_{p_}')} |")
    w("")
    shed = [(m, p_, j["statuses"].get("503", 0), j["completed"]) for (m, p_), j in OL.items() if j["statuses"].get("503")]
    if shed:
        lim = re.search(r"boxoffice_inflight_api (\d+)", meta.get("nginx_limits", ""))
        w("503 answers in the open-loop runs: " + "; ".join(
            f"{'reservations' if m == 'reserve' else 'GETs'} at {p_} %: {n:,} of {c:,} ({100 * n / c:.1f} %)"
            for m, p_, n, c in shed)
          + ". They are nginx's shed answers: a burst of arrivals took more requests in flight than its limit ("
          + (f"`limit_conn boxoffice_inflight_api {lim.group(1)}`" if lim else "the in-flight limit")
          + f"), and each shed answer is held {meta.get('nginx_shed_hold_s') or '?'} s before it is sent (nginx_shed_hold_s). "
          "Where they are more than 0.1 % (1 %) of the answers, p99.9 (p99) is that hold, not service time.")
        w("")
    # the reservation runs, closed loop and open, from the daemon's counters around each and its CPU
    # snapshots: group commit's batches (their size follows the load: a batch is what queued during the
    # last commit), and what a confirmed reservation cost in CPU by process; the per-request costs grow
    # below capacity, so the closed-loop rate is not what the machine serves at its CPU's 80 %
    COST = [("bo-worker", "workers"), ("mariadbd", "MariaDB"), ("nginx", "nginx"),
            ("redis-server", "Redis"), ("load client", "load client")]
    closed = S["surge_gate"][1]
    bs, crows = [], []
    for key, label, cost_label, rate in [
            ("surge_gate", "the gate surge (closed loop)", "the gate surge, closed loop",
             closed["confirmed_ps"] if closed else None)] + [
            (f"openloop_reserve_{p_}", f"the open loop at {p_} %", f"open loop, {p_} %", j["rate"])
            for (m, p_), j in OL.items() if m == "reserve"]:
        a, b = (metrics(os.path.join(res, f"{key}.metrics.{x}")) for x in ("before", "after"))
        if a is None or b is None:
            continue
        nb = b.get("boxoffice_group_commits_total", 0) - a.get("boxoffice_group_commits_total", 0)
        nr_ = (b.get("boxoffice_group_committed_reservations_total", 0)
               - a.get("boxoffice_group_committed_reservations_total", 0))
        nc = (b.get('boxoffice_reservations_total{outcome="confirmed"}', 0)
              - a.get('boxoffice_reservations_total{outcome="confirmed"}', 0))
        if nc <= 0:
            continue
        if nb > 0:
            db_us = worker_us(key, "mariadbd", nc)
            bs.append(f"{label}: {fmt(nr_)} of {fmt(nc)} confirmed in {fmt(nb)} batches, {nr_ / nb:.1f} a batch"
                      + (f", MariaDB {db_us:.0f} µs of CPU per reservation" if db_us else ""))
        cj = load_json(key + ".cpu.json")
        if cj and rate:
            per = [worker_us(key, comm, nc) or 0.0 for comm, _ in COST]
            total = cj["ours_pct_of_core"] / 100 * cj["seconds"] * 1e6 / nc
            crows.append((cost_label, rate, per, total, cj))
    if bs:
        w("Group commit's batches (the daemon's counters around each run): " + "; ".join(bs) + ". A batch is "
          "what queued while the previous one committed: below capacity batches are small, and each "
          "reservation carries more of a transaction's cost.")
        w("")
    if len(crows) > 1:
        w("What a confirmed reservation cost in CPU, by process (µs: the run's CPU snapshots over the confirmed "
          "reservations of the daemon's counters), and the share of the machine that cost takes at the run's rate "
          "(confirmed/s closed loop, the schedule's rate open loop; the machine has "
          f"{crows[0][4]['ncpu']} vCPUs). *CPU busy* is over the whole window, which for the open loop includes "
          "the answers still out after the schedule ended:")
        w("")
        w("| run | rate | " + " | ".join(n for _, n in COST)
          + " | all of the bench's processes | against the closed loop | the machine at that rate | CPU busy / foreign |")
        w("|---|---|" + "---|" * len(COST) + "---|---|---|---|")
        base = crows[0][3]
        for label, rate, per, total, cj in crows:
            w(f"| {label} | {fmt(rate)}/s | " + " | ".join(f"{u:.0f}" for u in per)
              + f" | **{total:.0f}** | {total / base:.2f}× | **{rate * total / 1e6 / cj['ncpu'] * 100:.0f} %** | "
              f"{cj['machine_busy_pct']:.0f} % / {cj['foreign_pct_of_core']:.0f} % |")
        w("")
        wp = load_json("wakeprobe.json")
        w("Below capacity every process spends more on each reservation: fewer requests share a wakeup, a "
          "batch, a read of the socket. The closed-loop rate is not bound by the CPU (it is the commit chain's: "
          "one batch commits at a time), so a fraction of that rate needs more than that fraction of the CPU."
          + (f" A reservation wakes about ten processes in turn (client, nginx, a worker, Redis, the batch's "
             f"leader, MariaDB, and back), and on this machine a wakeup round trip between two processes took "
             f"**{wp['same_cpu_us']:.1f} µs on one vCPU and {wp['cross_cpu_us']:.1f} µs across two** "
             f"(`tests/load/bench/wakeprobe.c`, a pipe ping-pong, median of {wp['runs']} runs of "
             f"{wp['round_trips']:,} at the start of the run): below capacity a vCPU is often idle, and "
             "waking it costs what the hypervisor charges."
             if wp and wp.get("cross_cpu_us") is not None else ""))
        w("")
    sqlr = [(p_, load_json(f"openloop_reserve_{p_}.sql.json"), j) for (m, p_), j in OL.items() if m == "reserve"]
    sqlr = [(p_, q, j) for p_, q, j in sqlr if q]
    if sqlr:
        w("SQL cross-check of the open-loop reservations: " + "; ".join(
            f"{p_} %: {j['statuses'].get('201', 0):,} 201s seen, {q['after'][0] - q['before'][0]:,} CONFIRMED rows added"
            for p_, q, j in sqlr) + f" (event {sqlr[0][1]['event']}).")
        w("")

# ---------------------------------------------------------------- the machine's stalls
# tests/load/bench/stallprobe.c, one line per second for the whole run, and windows.tsv, when
# each measurement ran: a slow second of the open loop is set beside what the machine did then
STALLS = {}
stall_timer = ""
try:
    with open(os.path.join(out_dir, "stalls.tsv")) as f:
        for line in f:
            if line.startswith("#"):
                stall_timer = "SCHED_FIFO" if "SCHED_FIFO" in line else "SCHED_OTHER"
                continue
            v = line.split()
            if len(v) == 6:
                STALLS[int(v[0])] = {"late": int(v[1]) / 1000, "fsyncs": int(v[2]), "fsync": int(v[3]) / 1000,
                                     "steal": int(v[4]), "busy": int(v[5])}
except (OSError, ValueError):
    STALLS = {}
WINDOWS = OrderedDict()
for r in tsv(os.path.join(out_dir, "windows.tsv")):
    if len(r) == 3:
        WINDOWS[r[0]] = (float(r[1]), float(r[2]))
STALL_MS = 50   # a second counts as stalled when the timer woke or an fsync took this long


def stall_secs(t0, t1):
    return [STALLS[u] for u in range(int(t0), int(t1) + 1) if u in STALLS]


def stalled(r):
    return r["fsync"] >= STALL_MS or r["late"] >= STALL_MS


def stall_summary(rows):
    if not rows:
        return None
    return {"secs": len(rows), "fsync": max(r["fsync"] for r in rows), "late": max(r["late"] for r in rows),
            "stalled": sum(1 for r in rows if stalled(r)),
            "steal": sum(r["steal"] for r in rows) / len(rows),
            "fsync_med": sorted(r["fsync"] for r in rows)[len(rows) // 2]}


w("### The machine's stalls during the open loop")
w("")
if not STALLS:
    w("Not measured in this run (no `stalls.tsv`: the stall probe came with a later `scripts/bench`).")
    w("")
else:
    allsum = stall_summary(list(STALLS.values()))
    w("`tests/load/bench/stallprobe.c` ran for the whole bench, one line a second: how late a timer of "
      f"10 ms woke ({stall_timer}, so its lateness is a stall of the whole guest, not the bench's load), "
      "the slowest 4-KB write + `fdatasync` (one every 20 ms, on the filesystem of MariaDB's data: what a "
      "durable commit's log flush waits for), and the hypervisor's steal time (ms per second, both vCPUs). "
      f"A second is *stalled* when either reached {STALL_MS} ms. Over the whole run ({allsum['secs']:,} s): "
      f"fsync median of the per-second worst {allsum['fsync_med']:.1f} ms, worst {allsum['fsync']:,.0f} ms; "
      f"timer worst {allsum['late']:,.0f} ms; {allsum['stalled']:,} stalled seconds; steal "
      f"{allsum['steal']:.0f} ms/s on average.")
    # a probe that writes nothing for seconds: the guest, or the disk its file is on, stood still
    ts = sorted(STALLS)
    gaps = [(a, b) for a, b in zip(ts, ts[1:]) if b - a > 2]
    if gaps:
        def during(a, b):
            hit = [n for n, (t0, t1) in WINDOWS.items() if t0 < b and t1 > a]
            return f" (during {', '.join(hit)})" if hit else " (between measurements)"
        w("")
        w("**The machine stood still**: the probe wrote no line for "
          + "; ".join(f"{b - a - 1} s after {time.strftime('%H:%M:%S', time.gmtime(a))} UTC{during(a, b)}"
                      for a, b in gaps)
          + ". Its timer runs SCHED_FIFO and its lines go to a file on the disk it measures, so the guest or "
          "that disk stopped (nginx's logs and cache are on it too), and a measurement running then lost that "
          "time.")
    st = [r for r in tsv(os.path.join(out_dir, "settle.tsv")) if len(r) == 4]
    if st:
        slow_disk = [r[0] for r in st if int(r[3]) >= 10]
        w("")
        w(f"Before each of its {len(st)} measurements the bench waited for the machine to settle (under 15 % busy, "
          f"and the probe's last fdatasync under 10 ms; 30 s at most): {sum(int(r[1]) for r in st):,} s in all. "
          + (f"The disk was still slow when {len(slow_disk)} began: {', '.join(slow_disk[:8])}"
             f"{', …' if len(slow_disk) > 8 else ''}." if slow_disk else "Every one began on a settled disk."))
    w("")
    w("The open-loop runs: the seconds of each schedule in which a request took more than 50 ms (from "
      "`openloop`'s `slow_seconds`), beside what the probe saw from the second before to the one after: "
      "a stall (fsync or timer), and the hypervisor's steal, which takes CPU from a service that runs at 80 % "
      "of its capacity without a stall of any one process.")
    w("")
    w("| run | probe over the run: fsync worst / timer worst / stalled s / steal | seconds with a request "
      "> 50 ms | requests > 50 ms | of those seconds, near a stall | steal near those seconds |")
    w("|---|---|---|---|---|---|")
    for (m, p_), j in OL.items():
        name = f"openloop_{m}_{p_}"
        win = WINDOWS.get(name)
        sm = stall_summary(stall_secs(*win)) if win else None
        probe = (f"{sm['fsync']:,.0f} ms / {sm['late']:,.0f} ms / {sm['stalled']} of {sm['secs']} s / "
                 f"{sm['steal']:.0f} ms/s") if sm else "no probe lines"
        label = f"{'reservations' if m == 'reserve' else 'cached GETs'} at {p_} %"
        slow = j.get("slow_seconds")
        if slow is None or "t0_unix_ms" not in j:
            w(f"| {label} | {probe} | not recorded | | | |")
            continue
        hit, near = [], set()
        for sec, n, worst in slow:
            u = int((j["t0_unix_ms"] + 1000 * sec) // 1000)
            around = [x for x in (u - 1, u, u + 1) if x in STALLS]
            near.update(around)
            if any(stalled(STALLS[x]) for x in around):
                hit.append(sec)
        steal = (f"{sum(STALLS[x]['steal'] for x in near) / len(near):.0f} ms/s (max "
                 f"{max(STALLS[x]['steal'] for x in near)})") if near else ""
        w(f"| {label} | {probe} | "
          f"{len(slow)} of {j['seconds']:.0f}" + (f" (s {', '.join(str(x[0]) for x in slow[:12])}"
                                                   f"{', …' if len(slow) > 12 else ''})" if slow else "")
          + f" | {sum(x[1] for x in slow):,} | {len(hit)} of {len(slow)} | {steal} |")
    w("")

# the issue-13 targets that this bench measures
t13 = []
if g and tx_ceiling:
    r = g["confirmed_ps"] / tx_ceiling
    t13.append(("Gate confirmed/s ≥ 1.0× the bare hot-row ceiling", r >= 1.0,
                f"{fmt(g['confirmed_ps'])}/s = {r:.2f}× {fmt(tx_ceiling)} tx/s"))
if g and el:
    # at --connections, and at 256 (surge_*_c256, unless --connections is 256)
    pairs = [(g, el)]
    g256, el256 = wrk_stats("surge_gate_c256"), wrk_stats("surge_event_lock_c256")
    if g256 and el256:
        pairs.append((g256, el256))
    ratios = [(a["connections"], a["confirmed_ps"], b["confirmed_ps"],
               a["confirmed_ps"] / b["confirmed_ps"] if b["confirmed_ps"] else float("inf")) for a, b in pairs]
    seen = {c for c, _, _, _ in ratios}
    t13.append(("Gate ≥ 10× event-lock at 256 and 1,000 connections",
                all(x >= 10 for _, _, _, x in ratios) if {256, 1000} <= seen else (False if any(
                    x < 10 for _, _, _, x in ratios) else None),
                "; ".join(f"at c={c:,}: {fmt(a)} vs {fmt(b)} confirmed/s = {x:.1f}× ({'≥' if x >= 10 else '<'} 10×)"
                          for c, a, b, x in ratios)
                + ("" if {256, 1000} <= seen else "; " + ", ".join(
                    f"c={c:,}" for c in (256, 1000) if c not in seen) + " not measured in this run")))
r80 = OL.get(("reserve", 80))
if r80:
    p99 = r80["latency_us"]["p99"] / 1000
    to = r80["socket_errors"]["timeout"] + r80["failed"]
    other = sum(v for k, v in r80["statuses"].items() if k != "201")
    t13.append(("p99 < 50 ms for reservations at 80 % of capacity, open loop", p99 < 50 and to == 0,
                f"p99 {p99:.1f} ms at {fmt(r80['rate'])}/s (80 % of {fmt(r80.get('capacity'))} confirmed/s); "
                f"{to:,} timeouts or failed requests; {other:,} answers other than 201"))
if health_ratio is not None:
    rs = [f_ / b_ for _, f_, b_ in health_pairs]
    t13.append(("`/api/health` ≥ 90 % of the bare libfcgi responder", health_ratio >= 0.9,
                f"pooled over {len(health_pairs)} back-to-back pairs: {pct(health_ratio)} (one pair: "
                f"{pct(min(rs))} to {pct(max(rs))})"))
if t13:
    w("### Targets (issue 13, this run)")
    w("")
    w("| target | result | numbers |")
    w("|---|---|---|")
    for t, ok, num in t13:
        w(f"| {t} | {'n/a' if ok is None else mark(ok)} | {num} |")
    w("")

# ---------------------------------------------------------------- tuning
w("## Tuning")
w("")
tun = {}
for name in ("tune_tx_prepared", "tune_tx_reconnect", "tune_tx_text", "tune_tx_batch8", "tune_tx_items1",
             "tune_tx_items8"):
    j = load_json(name + ".json")
    if j:
        tun[name] = j
tgs = OrderedDict()
for fn in sorted(os.listdir(res)) if os.path.isdir(res) else []:
    m_ = re.match(r"^tune_gate_w(\d+)_k(\d+)\.json$", fn)
    if m_:
        s = wrk_stats(fn[:-5])
        if s:
            tgs[(int(m_.group(1)), int(m_.group(2)))] = s
tgs = OrderedDict(sorted(tgs.items()))
def ab_runs(prefix):
    """The interleaved off/on runs of one knob, those that ran."""
    runs = OrderedDict((n, wrk_stats(n)) for n in (f"{prefix}_off_1", f"{prefix}_on_1",
                                                   f"{prefix}_off_2", f"{prefix}_on_2"))
    return OrderedDict((n, s_) for n, s_ in runs.items() if s_)


oc = ab_runs("tune_onecall")
om = ab_runs("tune_memo")
og = ab_runs("tune_group")
ol = OrderedDict((n, wrk_stats(n)) for n in ("tune_leaders_2", "tune_leaders_4"))
ol = OrderedDict((n, s_) for n, s_ in ol.items() if s_)
omk = ab_runs("tune_memokeyed")
kc = OrderedDict((n, wrk_stats(n)) for n in ("tune_health_off_c48", "tune_health_keepconn_c48",
                                             "tune_health_keepconn_c1000"))
measured = bool(tun or tgs or oc or om or omk or og or ol or any(kc.values()))
if not measured:
    w("This run did not include the tuning phases (`scripts/bench --tuning` adds them). Everything in this "
      "section is therefore **described, not measured in this run**; where a number is quoted it comes from "
      "the ceiling and scenario tables above.")
    w("")
else:
    w("Measured in this run by `scripts/bench --tuning` (each row one run, same noise caveats):")
    w("")


def ab_table(runs, knob, on_name, off_name):
    w(f"| run | {knob} | req/s | confirmed/s | p50 | p99 | answers | CPU busy / foreign |")
    w("|---|---|---|---|---|---|---|---|")
    for n, s_ in runs.items():
        mode, run = n.split("_")[-2:]
        w(f"| {run} | {mode} | {fmt(s_['rps'])} | **{fmt(s_['confirmed_ps'])}** | {s_['p50']:.1f} ms | "
          f"{s_['p99']:.1f} ms | {status_str(s_)} | {s_['cpu']} |")
    on_ = [s_["confirmed_ps"] for n, s_ in runs.items() if "_on_" in n]
    off_ = [s_["confirmed_ps"] for n, s_ in runs.items() if "_off_" in n]
    if on_ and off_:
        w("")
        w(f"Mean confirmed/s: {on_name} {fmt(sum(on_) / len(on_))}, {off_name} {fmt(sum(off_) / len(off_))} "
          f"({sum(on_) / len(on_) / (sum(off_) / len(off_)):.2f}×).")
    w("")


if oc:
    w(f"**The reservation in one call** (`reserve_in_one_call`: one `CALL reserve_one_shard` against the same "
      f"transaction as two multi-statement batches, which MariaDB answers one packet per statement; the gate "
      f"surge on a fresh 1,000,000-seat event, c={meta.get('connections', '?')}, 15 s each, interleaved):")
    w("")
    ab_table(oc, "reserve_in_one_call", "one call", "batches")
if om:
    w(f"**The event memo** (`event_memo`: each worker judges a reservation on the event it read last, and "
      f"the gate's script checks that the cached event is still that version as it takes the seats, in one "
      f"Redis round trip with the user's token bucket; off: the event, the bucket and the gate one round trip "
      f"each; the gate surge on a fresh 1,000,000-seat event, c={meta.get('connections', '?')}, 15 s each, "
      f"interleaved):")
    w("")
    ab_table(om, "event_memo", "memo", "read first")
if omk:
    w("**The event memo, keyed requests** (the same, with an `Idempotency-Key` on every request: its in-flight "
      "marker joins the memo's round trip; off: a round trip of its own, after the event and the bucket; "
      "its removal after the transaction is a round trip in both):")
    w("")
    ab_table(omk, "event_memo", "memo", "read first")
if og:
    w(f"**Group commit** (`reserve_group_commit`: the reservations that workers are committing at the same "
      f"moment share one transaction, led by one of them; off: one commit per reservation; the gate surge on "
      f"a fresh 1,000,000-seat event, {meta.get('workers', '?')} workers, c={meta.get('connections', '?')}, "
      f"15 s each, interleaved):")
    w("")
    ab_table(og, "reserve_group_commit", "group commit", "one commit each")
if ol:
    w("Batches in flight at once (`reserve_group_leaders`, default 1), one run each, the same surge:")
    w("")
    w("| reserve_group_leaders | req/s | confirmed/s | p50 | p99 | answers | CPU busy / foreign |")
    w("|---|---|---|---|---|---|---|")
    for n, s_ in ol.items():
        w(f"| {n.rsplit('_', 1)[1]} | {fmt(s_['rps'])} | **{fmt(s_['confirmed_ps'])}** | {s_['p50']:.1f} ms | "
          f"{s_['p99']:.1f} ms | {status_str(s_)} | {s_['cpu']} |")
    w("")
if tgs:
    bw = int(meta.get("tune_base_workers", meta.get("workers", "16")) or 16)
    w(f"**Hot-event headroom: inventory shards and workers** (the gate surge on a fresh 1,000,000-seat event, "
      f"c={meta.get('connections', '?')}, {meta.get('tune_seconds', '15')} s each, one run per row; the daemon restarts "
      "with each configuration, nginx too when the worker count changes so that its in-flight limits follow "
      "the workers; shards apply to events created after the restart).")
    w("")

    def tune_row(first, s, base):
        rel = f"{s['confirmed_ps'] / base:.2f}×" if base else "n/a"
        return (f"| {first} | {fmt(s['rps'])} | **{fmt(s['confirmed_ps'])}** | {rel} | "
                f"{pct(s['confirmed_ps'] / tx_ceiling) if tx_ceiling else 'n/a'} | {s['p50']:.1f} ms | "
                f"{s['p99']:.1f} ms | {status_str(s)} | {s['cpu']} |")

    by_k = [(k, s) for (wk, k), s in tgs.items() if wk == bw]
    if by_k:
        base = by_k[0][1]["confirmed_ps"]
        w(f"Confirmed/s against inventory shards, {bw} workers:")
        w("")
        w(f"| shards | req/s | confirmed/s | vs {by_k[0][0]} shard{'s' if by_k[0][0] != 1 else ''} | "
          "ratio to hot-row ceiling | p50 | p99 | answers | CPU busy / foreign |")
        w("|---|---|---|---|---|---|---|---|---|")
        for k, s in by_k:
            w(tune_row(k, s, base))
        w("")
    wks = int(meta.get("tune_worker_shards", "8") or 8)
    by_w = sorted([(wk, s) for (wk, k), s in tgs.items() if k == wks], key=lambda x: x[0])
    if len(by_w) > 1:
        base = dict(by_w).get(bw, by_w[0][1])["confirmed_ps"]
        w(f"Confirmed/s against workers, {wks} shards (the {bw}-worker row is the one above):")
        w("")
        w(f"| workers | req/s | confirmed/s | vs {bw} workers | ratio to hot-row ceiling | p50 | p99 | answers | CPU busy / foreign |")
        w("|---|---|---|---|---|---|---|---|---|")
        for wk, s in by_w:
            w(tune_row(wk, s, base))
        w("")
    rest = [((wk, k), s) for (wk, k), s in tgs.items() if wk != bw and k != wks]
    for (wk, k), s in rest:
        w(f"Also measured: {wk} workers, {k} shards: {fmt(s['confirmed_ps'])} confirmed/s, p99 {s['p99']:.1f} ms.")
        w("")
    best_ = max(tgs.items(), key=lambda kv: kv[1]["confirmed_ps"])
    ks = re.search(r"inventory_shards = (\d+)", meta.get("app_conf", ""))
    dk = int(ks.group(1)) if ks else None   # the scenarios' shards (the rendered config)
    same = tgs.get((bw, dk))
    w(f"Most confirmed/s: {best_[0][0]} workers, {best_[0][1]} shards ({fmt(best_[1]['confirmed_ps'])}/s)."
      + (f" Noise: the scenarios' configuration ({bw} workers, {dk} shards) confirmed {fmt(g['confirmed_ps'])}/s in "
         f"the gate surge (c={g['connections']}, {g['dur']:.0f} s) and {fmt(same['confirmed_ps'])}/s here; "
         "differences between rows smaller than that spread are not findings." if g and same else ""))
    w("")
if tun:
    same = [j for j in tx.values() if j["threads"] == tun.get("tune_tx_text", {}).get("threads")]
    if same and "tune_tx_text" in tun:
        w("Noise check: the same text-protocol transaction at the same concurrency measured "
          + ", ".join(f"{fmt(j['tps'])}" for j in same) + f" tx/s in the ceiling phases and "
          f"{fmt(tun['tune_tx_text']['tps'])} tx/s here; differences smaller than that spread are not findings.")
        w("")
    w(f"**Prepared statements and connection reuse** (bare hot-row transaction, {tx_best['threads'] if tx_best else '?'} clients, 5 s):")
    w("")
    def maria_us(n, j):
        """MariaDB's CPU per reservation over the run (cpusnap.py), µs; None if not recorded"""
        c = load_json(n + ".cpu.json")
        cores = dict(c["ours_by_comm"]).get("mariadbd") if c else None
        rps = j.get("reservations_per_s", j["tps"])
        return 1e6 * cores / 100 / rps if cores and rps else None

    w("| mode | tx/s | reservations/s | p50 | p99 | MariaDB CPU per reservation |")
    w("|---|---|---|---|---|---|")
    for n, lab in (("tune_tx_text", "text protocol, persistent connection (what the daemon does)"),
                   ("tune_tx_prepared", "server-side prepared statements, persistent connection"),
                   ("tune_tx_reconnect", "text protocol, new connection per transaction (no reuse)"),
                   ("tune_tx_batch8", "text protocol, 8 reservations per transaction (one UPDATE of 8 seats, "
                                      "one INSERT of 8 rows)"),
                   ("tune_tx_items1", "the daemon's statements for 1 reservation (event row shared lock, tally "
                                      "upsert, hot-row UPDATE, reservation and audit INSERTs), one batch per "
                                      "transaction"),
                   ("tune_tx_items8", "the same for 8 reservations per transaction, a savepoint before each")):
        if n in tun:
            j = tun[n]
            mu = maria_us(n, j)
            w(f"| {lab} | {fmt(j['tps'])} | {fmt(j.get('reservations_per_s', j['tps']))} | {j['p50_ms']:.2f} ms | "
              f"{j['p99_ms']:.2f} ms | {f'{mu:.0f} µs' if mu else 'n/a'} |")
    w("")
    b8, t1 = tun.get("tune_tx_batch8"), tun.get("tune_tx_text")
    if b8 and t1 and b8.get("reservations_per_s"):
        w(f"Eight reservations per commit: {fmt(b8['reservations_per_s'])} reservations/s, "
          f"{b8['reservations_per_s'] / t1['tps']:.1f}× the one-reservation transaction at the same concurrency, "
          f"at {b8['tps'] / t1['tps']:.2f}× its transactions/s. The database's cost here is per transaction (its "
          "round trips, the row lock held across the redo log's fsync), hardly per row: hence the daemon's "
          "group commit across workers (docs/architecture.md, \"Group commit\"; measured in \"Group commit\" "
          "above).")
        w("")
    i1, i8 = tun.get("tune_tx_items1"), tun.get("tune_tx_items8")
    if i1 and i8:
        m1, m8 = maria_us("tune_tx_items1", i1), maria_us("tune_tx_items8", i8)
        w(f"With the daemon's own statements per reservation, eight per commit gave "
          f"{i8['reservations_per_s'] / i1['reservations_per_s']:.1f}× the reservations/s of one per commit"
          + (f", and MariaDB spent {m8:.0f} µs of CPU per reservation instead of {m1:.0f} µs ({m1 / m8:.1f}× less)"
             if m1 and m8 else "")
          + ". Repeated per item, the statements stay per item and only the commit is shared; so the daemon's "
          "batch runs each statement once for all its items (one tally upsert, one UPDATE by the sum, "
          "multi-row INSERTs), as the eight-per-commit row above does.")
        w("")
ev = {P: (redis_csv(f"tune_redis_eval_P{P}.csv"), redis_csv(f"tune_redis_evalsha_P{P}.csv")) for P in (1, 16)}
if any(a or b for a, b in ev.values()):
    w("**Redis script caching** (the gate script on one key, redis-benchmark, 50 clients):")
    w("")
    w("| pipeline | EVAL (script text every call) | EVALSHA (cached) |")
    w("|---|---|---|")
    for P, (a, b) in ev.items():
        w(f"| -P {P} | {fmt(a['rps']) if a else 'n/a'} ops/s | {fmt(b['rps']) if b else 'n/a'} ops/s |")
    w("")
if any(kc.values()):
    w("**fastcgi_keep_conn** (`GET /api/health`, daemon restarted with 64 workers; keep_conn on goes through the "
      "bench's own nginx with `keepalive 16` per nginx worker × 2 workers = 32 cached connections ≤ 64 responders):")
    w("")
    w("| config | c | req/s | p50 | p99 | answers | CPU busy / foreign |")
    w("|---|---|---|---|---|---|---|")
    for n, lab in (("tune_health_off_c48", "keep_conn off (the bench's nginx, as the stack's site)"),
                   ("tune_health_keepconn_c48", "keep_conn on"),
                   ("tune_health_keepconn_c1000", "keep_conn on")):
        s = kc.get(n)
        if s:
            w(f"| {lab} | {s['connections']} | {fmt(s['rps'])} | {s['p50']:.1f} ms | {s['p99']:.1f} ms | {status_str(s)} | {s['cpu']} |")
    try:
        to = open(os.path.join(res, "tune_keepconn_timeouts.txt")).read().strip()
        w("")
        w(f"nginx logged {to} \"upstream timed out\" lines for the keep_conn runs.")
    except OSError:
        pass
    w("")

w("### The knobs")
w("")
w("- **Workers per instance** (`workers`, default 64, the daemon's and the example's; 8 in the local stack; the bench uses "
  f"{meta.get('workers', '?')}). Each worker is one libfcgi responder with one MariaDB and one Redis "
  "connection and serves one request at a time, so workers bound the database concurrency. "
  + (f"In this run the bare hot-row transaction did best at {tx_best['threads']} clients (of 4/8/16). " if tx_best else "")
  + "Once MariaDB's row locks or the CPU are saturated, more workers only add waiting (and connections); "
  "too few leave the CPU idle while each worker waits for its commit. "
  "`instances × workers` must fit MariaDB's `max_connections` (300 locally). "
  + ("Measured above." if tgs else "Not measured in this run."))
w("- **nginx workers and keepalive.** The stack's nginx: `worker_connections` "
  f"{meta.get('nginx_worker_connections', 'n/a')} (one per core), "
  "client keepalive on (`keepalive_requests 10000`; wrk keeps its 1,000 "
  "connections open). Upstream `fastcgi_keep_conn` stays **off**: a libfcgi responder is pinned to a kept "
  "connection, so with more requests in flight than responders requests stall until 504 "
  "(DESIGN.md; measured on this machine kind in /work/shared/reference/machine-ceilings.md: 1,383 upstream "
  "timeouts at c=1000). With it on and workers ≥ in-flight, the reference measured about +60 % on a trivial "
  "endpoint. Enable it only when a front limit (ALB / `limit_conn`) caps in-flight requests below "
  "`workers`, with `keepalive` × nginx workers < `workers`. "
  + ("Measured above." if any(kc.values()) else "Not measured in this run."))
_ks = re.search(r"inventory_shards = (\d+)", meta.get("app_conf", ""))
w("- **Inventory shards** (`inventory_shards`, default 16; applies to events created after it is set). "
  "K rows per event let K transactions hold different row locks at once, so the durable hot-row limit "
  "(one row lock held across the redo fsync) is lifted up to K×, until CPU or the redo log's group commit "
  f"becomes the limit. The scenario events used {_ks.group(1) if _ks else 'the default'}. "
  + (f"Measured above ({', '.join(str(k) for k in sorted({k for _, k in tgs}))})." if tgs else "Not measured in this run."))
w("- **One call, not prepared statements.** The daemon reserves with one `CALL reserve_one_shard` (a stored "
  "procedure, migration 007), which MariaDB parses once per connection and answers with one packet; when the "
  "chosen shard is short it runs the same transaction as two multi-statement batches. A batch is answered "
  "one packet per statement (seven wake-ups of the worker per reservation), and with the protocol's prepared "
  "statements each statement would be a round trip of its own: that per-statement cost, not parsing "
  "(about 5 % of the machine's CPU under the gate surge, `perf`), was what the database path spent. "
  + ("The one-call rows above measure it against the batches (`reserve_in_one_call`); the bare-transaction "
     "comparison shows what prepared statements change for a two-statement transaction."
     if tun or oc else "Not measured in this run."))
w("- **Connection reuse.** Each worker keeps its MariaDB and Redis connections for its lifetime (reconnecting "
  "only after an error), and nginx reuses the client connections. "
  + ("The reconnect row above shows the cost of a new MariaDB connection per transaction." if tun
     else "Not measured in this run."))
w("- **Redis EVALSHA.** Each worker loads a Lua script once, on first use (SCRIPT LOAD), and then calls "
  "EVALSHA, loading it again only after a NOSCRIPT (e.g. a Redis restart), so the script text is not resent "
  "per request (fcgi-app/redis_script.c). "
  + ("Compared with EVAL above." if any(a or b for a, b in ev.values()) else "Not measured in this run."))
w("")

# ---------------------------------------------------------------- issue 11
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_surge  # noqa: E402 (next to this file)

report_surge.section(w, res, meta, cpu, meta.get("before", "").split())

# ---------------------------------------------------------------- reproduce
w("## Reproduce")
w("")
w("```sh")
w("scripts/install-deps          # once: wrk, gnuplot-nox, redis-tools, mariadb, nginx, gcc, libmariadb-dev, jq")
w(f"{meta.get('command', 'scripts/bench')}")
w("```")
w("")
w("It builds the daemon if needed, brings up its own stack (`scripts/stack up` in its own run dir and "
  "port base, with `BOXOFFICE_WORKERS`, `BOXOFFICE_MAX_REQUESTS=0` and `BOXOFFICE_RESERVATION_STRATEGY` set), "
  "starts a small static nginx of its own for the static ceiling, and stops everything by pid at the end. "
  "The exact load commands of this run:")
w("")
w("```")
for c in commands:
    w(f"{c[0]}: {c[1] if len(c) > 1 else ''}")
w("```")
w("")
w("The surges post `{\"eventId\":E,\"userId\":\"<scenario>-<pid>-<thread>-<n>\",\"quantity\":1}` "
  "(a distinct user per request) to `POST /api/reservations` from `tests/load/bench/scenario.lua`, which "
  "counts the answers by status in wrk's `response()` callback; txbench is `tests/load/bench/txbench.c`.")
w("")

with open(doc_path, "w") as f:
    f.write("\n".join(L) + "\n")

# ---------------------------------------------------------------- plot data
with open(os.path.join(out_dir, "plot.dat"), "w") as f:
    f.write("# label\treq_per_s\tuseful_per_s\tp99_ms\tp50_ms\n")
    if c_static:
        f.write(f"\"nginx static\\n(ceiling)\"\t{c_static['rps']:.1f}\t{c_static['rps']:.1f}\t{c_static['p99']:.2f}\t{c_static['p50']:.2f}\n")
    if c_bare:
        f.write(f"\"bare libfcgi\\n(ceiling)\"\t{c_bare['rps']:.1f}\t{c_bare['rps']:.1f}\t{c_bare['p99']:.2f}\t{c_bare['p50']:.2f}\n")
    if c_fcgi:
        f.write(f"\"nginx→FastCGI\\n(ceiling)\"\t{c_fcgi['rps']:.1f}\t{c_fcgi['rps']:.1f}\t{c_fcgi['p99']:.2f}\t{c_fcgi['p50']:.2f}\n")
    if tx_best:
        f.write(f"\"MariaDB hot row\\n(ceiling)\"\t{tx_best['tps']:.1f}\t{tx_best['tps']:.1f}\t{tx_best['p99_ms']:.2f}\t{tx_best['p50_ms']:.2f}\n")
    short = {"get_cached": "cached GET", "surge_gate": "surge\\ngate", "surge_event_lock": "surge\\nevent-lock",
             "surge_gate_noredis": "surge, gate\\nRedis stopped", "soldout": "sold-out\\nsurge",
             "soak_gate": f"gate soak\\n{meta.get('soak_seconds', '?')} s",
             "surge_gate_c256": "gate\\nc=256", "surge_event_lock_c256": "event-lock\\nc=256"}
    for key, rps, u, p99, p50 in plot_rows:
        lab = short.get(key, key)
        f.write(f"\"{lab}\"\t{rps:.1f}\t{max(u, 0.5):.1f}\t{p99:.2f}\t{p50:.2f}\n")
    for (m, p_), j in OL.items():
        u = j["statuses"].get("201" if m == "reserve" else "200", 0) / j["seconds"]
        lab = f"open loop\\n{p_} % {'reserve' if m == 'reserve' else 'GET'}"
        f.write(f"\"{lab}\"\t{j['achieved_rate']:.1f}\t{max(u, 0.5):.1f}\t{j['latency_us']['p99'] / 1000:.2f}\t"
                f"{j['latency_us']['p50'] / 1000:.2f}\n")
print(f"report: wrote {doc_path}")
