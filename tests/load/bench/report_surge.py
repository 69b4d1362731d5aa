"""The issue-11 part of docs/PERFORMANCE.md (report.py calls section()): overload surges at
growing crowds, the micro-cached reads against the static ceiling, the waiting room, and
the issue's targets. Only numbers from the run's result files are written."""
import json
import os
import re


# the overload scenarios: result-file kind, and the label of its rows
KINDS = (("reserve", "reservations, 10M seats"), ("soldout", "reservations, sold out"))


def _load(res, name):
    try:
        with open(os.path.join(res, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _fmt(x, nd=0):
    if x is None:
        return "n/a"
    return f"{x:,.{nd}f}"


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.0f} %"


def _mark(ok):
    return "**MET**" if ok else "**NOT MET**"


def _sock(r):
    return sum(r["socket_errors"].values())


def _good(r, kind):
    st = r["statuses"]
    if kind == "reserve":
        return st.get("201", 0)
    return r["c409"]["INSUFFICIENT_SEATS"]


def _metrics(res, name):
    """{series: value} of a scraped /api/metrics, or None"""
    try:
        with open(os.path.join(res, name)) as f:
            out = {}
            for ln in f:
                if ln.startswith("#") or " " not in ln:
                    continue
                k, v = ln.rsplit(" ", 1)
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
            return out
    except OSError:
        return None


def _settled(res):
    """How long the bench waited for an idle machine before its measurements (settle.tsv)."""
    try:
        with open(os.path.join(os.path.dirname(res), "settle.tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except OSError:
        return "not recorded"
    secs = [int(r[1]) for r in rows]
    late = [r[0] for r in rows if int(r[2]) >= 15]
    return (f"{len(rows)} waits of {min(secs)} to {max(secs)} s" +
            (f"; still busy after 20 s before {', '.join(late)}" if late else ""))


def _is_server(comm):
    """a process of the stack (what an instance runs), as cpusnap.py names it"""
    return comm in ("nginx", "mariadbd", "redis-server") or comm.startswith("bo-")


def _cpu_by_crowd(w, res, ovl):
    """Where the cores went in the overload runs, pooled per crowd (cpusnap.py's accounting).
    The load client shares this machine's cores with the stack; in production it does not."""
    rows = []
    for kind, label in KINDS:
        acc = {}
        for c, _, name, r, _ in ovl.get(kind, []):
            j = _load(res, name + ".cpu.json")
            if not j:
                return
            secs = j["seconds"]
            comm = dict(j["ours_by_comm"])
            a = acc.setdefault(c, [0, 0.0, 0.0, 0.0, 0.0, 0.0])
            a[0] += _good(r, kind)
            a[1] += r["duration_us"] / 1e6
            a[2] += secs * sum(v for k, v in comm.items() if _is_server(k)) / 100
            a[3] += secs * comm.get("nginx", 0) / 100
            a[4] += secs * comm.get("load client", 0) / 100
            a[5] += secs
        base = None
        for c in sorted(acc):
            good, dur, server, ngx, client, secs = acc[c]
            per_core = good / server if server else None
            if base is None:
                base = per_core
            rows.append((label, c, good / dur, server / secs, ngx / secs, client / secs, per_core,
                         per_core / base if base and per_core else None))
    if not rows:
        return
    w("Where the cores went in those runs, pooled per crowd (`tests/load/bench/cpusnap.py`: CPU seconds of each "
      "process over each run, in cores; 2 = both vCPUs). *Stack* is nginx, the daemon's processes, Redis and "
      "MariaDB; the *load client* is wrk, on the same two vCPUs. A bigger crowd costs the load client more (it "
      "receives the held refusals too) and leaves the stack less of the machine; *goodput per stack core-second* "
      "takes that out. In production the clients are not on the instance.")
    w("")
    w("| scenario | connections | goodput/s (pooled) | stack cores | of which nginx | load client cores | "
      "goodput per stack core-second | vs smallest crowd |")
    w("|---|---|---|---|---|---|---|---|")
    for label, c, gps, server, ngx, client, per_core, rel in rows:
        w(f"| {label} | {c:,} | {_fmt(gps)} | {server:.2f} | {ngx:.2f} | {client:.2f} | {_fmt(per_core)} | "
          f"{_pct(rel)} |")
    w("")


def _who_got_the_slots(w, meta, ovl):
    """Which client connections the served answers and the refusals went to (edgelog.py's
    "connections", from the connection serial nginx logs)."""
    rows = [(label, c, run, e["connections"])
            for kind, label in KINDS
            for c, run, _, _, e in ovl.get(kind, []) if e.get("connections")]
    if not rows:
        return
    m = re.search(r"boxoffice_inflight_api (\d+)", meta.get("nginx_limits", ""))
    w("#### Who was served")
    w("")
    w("Which of wrk's connections got the daemon's answers, from the `connection` serial in nginx's access and "
      "shed logs: *served* connections had at least one answer from the daemon; *half of the answers* is the "
      "fewest connections that had half of them; *refused, never served* were only ever shed. A slot goes to "
      "whoever asks the moment it frees. wrk sends a connection's next request as soon as its answer arrives, "
      "when the slot that answer freed is still free, while every refused request is asleep in its hold"
      + (f" (the API's in-flight limit here: {m.group(1)})" if m else "") + ". Real buyers stop after their "
      "reservation, and an address that keeps asking meets the per-address rate limit (off in the bench, on in "
      "production); the waiting room is the way in that is first come, first served (docs/runbook.md, "
      "\"Shed requests\").")
    w("")
    w("| scenario | connections | run | served | half of the answers | refused at least once | refused, never served |")
    w("|---|---|---|---|---|---|---|")
    for label, c, run, k in rows:
        w(f"| {label} | {c:,} | {run} | {k['served']:,} | {k['half_of_answers']:,} | {k['refused']:,} | "
          f"{k['refused_never_served']:,} |")
    w("")


def section(w, res, meta, cpu, before_dirs=()):
    # ovl_<kind>_c<C>.json is a crowd's first run, ovl_<kind>_c<C>_r<N>.json its N-th
    ovl = {}
    for kind in ("reserve", "soldout"):
        for fn in sorted(os.listdir(res)):
            if fn.startswith(f"ovl_{kind}_c") and fn.endswith(".json") and fn.count(".") == 1:
                name = fn[:-5]
                run = int(name.rsplit("_r", 1)[1]) if "_r" in name[len(f"ovl_{kind}_c"):] else 1
                r = _load(res, fn)
                if r:
                    ovl.setdefault(kind, []).append((r["connections"], run, name, r,
                                                     _load(res, name + ".edge.json") or {}))
    for v in ovl.values():
        v.sort(key=lambda t: (t[0], t[1]))
    w("## Surge survival (issue 11)")
    w("")
    w(f"nginx in front of the daemon: {meta.get('nginx_limits', 'n/a')} "
      f"(from the daemon's workers and listen_backlog, docs/capacity.md); "
      f"worker_connections {meta.get('nginx_worker_connections', 'n/a')}.")
    w("")
    hold = meta.get("nginx_shed_hold_s") or "?"
    w("### Overload: the same surge at growing crowds")
    w("")
    w(f"Each row is one wrk run of the scenario's duration against the bench's stack; each crowd ran "
      f"{meta.get('overload_runs', '1')} time(s), interleaved and every other time in reverse (1,000, 4,000, 8,000, "
      "8,000, 4,000, 1,000), and the runs are listed in the order of the crowd. Before every measurement of this "
      "report the bench waits until the machine is idle (under 15 % busy over a second, at most 20 s: "
      f"{_settled(res)}). *Goodput* is confirmed reservations/s on the 10,000,000-seat event, or "
      "409 INSUFFICIENT_SEATS/s on the sold-out event; *vs smallest crowd* compares the crowd's goodput over all "
      "its runs (answers / seconds, pooled) with the smallest crowd's, also pooled. *Shed* are nginx's own 503 "
      "SERVICE_UNAVAILABLE answers (the in-flight limit; wrk's count, and the lines of boxoffice.shed.log); each is "
      f"held {hold} s (nginx_shed_hold_s), so a crowd of C connections receives about C / {hold} shed answers per "
      "second. *p99 "
      "served* is nginx's requestTime of the requests the daemon answered (boxoffice.access.log; wrk's own p99 "
      "mixes in the held refusals).")
    w("")
    w("| scenario | connections | run | answers/s | goodput/s | vs smallest crowd (pooled) | shed 503 (wrk / shed log) | "
      "502 + 504 | socket errors | p99 served | p50 served | wrk p99 (all answers) | CPU busy / foreign | "
      "loadavg before→after |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    bad = {}
    for kind, label in KINDS:
        rows = ovl.get(kind, [])
        pooled, per_run = {}, {}     # crowd -> (answers, seconds) over its runs; -> each run's goodput/s
        for c, _, _, r, _ in rows:
            g, d = pooled.get(c, (0, 0))
            pooled[c] = (g + _good(r, kind), d + r["duration_us"] / 1e6)
            per_run.setdefault(c, []).append(_good(r, kind) / (r["duration_us"] / 1e6))
        pooled = {c: g / d for c, (g, d) in pooled.items()}
        crowds = sorted(pooled)
        base = pooled[crowds[0]] if crowds else None
        for c in crowds:
            ratios.setdefault(kind, []).append((c, pooled[c], pooled[c] / base if base else None, per_run[c]))
        for c, run, name, r, e in rows:
            dur = r["duration_us"] / 1e6
            good = _good(r, kind) / dur
            pg = pooled[c]
            st = r["statuses"]
            gw = st.get("502", 0) + st.get("504", 0)
            bad.setdefault(kind, []).append((c, gw + e.get("gateway_errors", 0), _sock(r)))
            sock = ", ".join(f"{k} {v:,}" for k, v in r["socket_errors"].items() if v) or "0"
            sm = e.get("served_ms") or {}
            shed_log = f"{e['shed']:,}" if isinstance(e.get("shed"), int) else "n/a"
            w(f"| {label} | {c:,} | {run} | {_fmt(r['requests'] / dur)} | {_fmt(good)} | "
              f"{_pct(pg / base if base else None) if run == 1 else '〃'} | "
              f"{st.get('503', 0):,} / {shed_log} | "
              f"{gw:,} | {sock} | {_fmt(sm.get('p99'))} ms | {_fmt(sm.get('p50'))} ms | "
              f"{r['latency_us']['p99'] / 1000:,.0f} ms | {cpu(name)} | {r.get('loadavg_before')}→{r.get('loadavg_after')} |")
    w("")
    _cpu_by_crowd(w, res, ovl)
    _who_got_the_slots(w, meta, ovl)
    if before_dirs:
        w("**Before** (the same wrk surges against the code before this change, from `scripts/bench` runs of that "
          "commit, result directories given with `--before`):")
        w("")
        w("| scenario | connections | answers/s | goodput/s | answers by status | socket errors |")
        w("|---|---|---|---|---|---|")
        for d in before_dirs:
            for kind, fn, label in (("reserve", "surge_gate.json", "reservations, 10M seats"),
                                    ("soldout", "soldout.json", "reservations, sold out")):
                r = _load(d, fn)
                if not r:
                    continue
                dur = r["duration_us"] / 1e6
                sts = "; ".join(f"{k}: {v:,}" for k, v in sorted(r["statuses"].items()))
                sock = ", ".join(f"{k} {v:,}" for k, v in r["socket_errors"].items() if v) or "0"
                w(f"| {label} | {r.get('connections', '?'):,} | {_fmt(r['requests'] / dur)} | "
                  f"{_fmt(_good(r, kind) / dur)} | {sts} | {sock} |")
        w("")

    # ---- edge reads
    static = [(n, _load(res, n + ".json")) for n in ("ceil_static", "ceil_static_2", "ceil_static_3")]
    static = [(n, r) for n, r in static if r]
    ceiling = max((r["requests"] / (r["duration_us"] / 1e6) for _, r in static), default=None)
    w("### The crowd's reads: micro-cache against the static ceiling")
    w("")
    w("The static ceiling is the bench's own nginx answering `return 200` with an 80-byte JSON body "
      "(same worker settings), measured three times in this run (before the scenarios, just after these "
      "reads, after everything); the highest is the ceiling. *Daemon answers* are the requests of the run "
      "that reached the daemon (the micro-cache's fills; boxoffice.access.log entries with an upstream status).")
    w("")
    w("| read | connections | 200/s | vs static ceiling | daemon answers in the run | p50 | p99 | CPU busy / foreign |")
    w("|---|---|---|---|---|---|---|---|")
    edge = {}
    for name, label in (("edge_get", "`GET /api/events/{id}`"), ("edge_poll", "`GET /api/events/{id}/queue` (the poll)")):
        r = _load(res, name + ".json")
        e = _load(res, name + ".edge.json") or {}
        if not r:
            w(f"| {label} | not measured | | | | | | |")
            continue
        dur = r["duration_us"] / 1e6
        ok = r["statuses"].get("200", 0) / dur
        edge[name] = ok
        w(f"| {label} | {r['connections']:,} | {_fmt(ok)} | {_pct(ok / ceiling if ceiling else None)} | "
          f"{e.get('served_by_daemon', 'n/a')} in {dur:.0f} s | {r['latency_us']['p50'] / 1000:.1f} ms | "
          f"{r['latency_us']['p99'] / 1000:.1f} ms | {cpu(name)} |")
    for n, r in static:
        w(f"| static ceiling ({n}) | {r['connections']:,} | {_fmt(r['requests'] / (r['duration_us'] / 1e6))} | "
          f"{'ceiling' if r['requests'] / (r['duration_us'] / 1e6) == ceiling else ''} | none | "
          f"{r['latency_us']['p50'] / 1000:.1f} ms | {r['latency_us']['p99'] / 1000:.1f} ms | {cpu(n)} |")
    w("")

    # ---- waiting room
    wr = _load(res, "waiting_room.json")
    wcap = _load(res, "waiting_room_capacity.json")
    wsql = _load(res, "waiting_room.sql.json")
    w("### Waiting room")
    w("")
    if not wr:
        w("Not measured (no result file).")
        w("")
    else:
        lat = wr["reserve_latency_us"]
        adm = wr.get("reserve_from_admission_us")
        conns = (f"{wr['connections']:,} keep-alive connections, as many as a crowd of browsers needs: a buyer "
                 "waits in nginx or the daemon, never for one of the client's connections, and what nginx's "
                 "in-flight limit refuses gets its 503, retried after Retry-After,"
                 if wcap and wr["connections"] > wcap["connections"] else
                 f"{wr['connections']} keep-alive connections (as many as nginx lets into the daemon at once: "
                 "a buyer may wait for one of them, which only the latency from admission below includes),"
                 if adm else
                 f"{wr['connections']} keep-alive connections (as many as nginx lets into the daemon at once: "
                 "a buyer may wait for one of them, unseen by the latency below),")
        w(f"{meta.get('room', '')}. `tests/load/bench/waitroom.c` simulates every buyer over {conns} as the "
          "on-sale page (web/app.js) behaves: the room admits 1/s while all buyers join (index order), then the "
          "bench raises it to the rate above; each buyer polls the shared state (first at a random moment of the "
          "next second), again after a fifth of its estimated wait (5 to 15 s), and once its turn is at most 5 s "
          "away asks for admission when due (from the poll's serving, admitPerSecond and age, + 150 ms; 409 "
          "NOT_YET_SERVED: again after Retry-After), then reserves one seat with its `X-Admission-Token` and an "
          "Idempotency-Key. Probes reserve without a token, with a forged token and with another buyer's real "
          "token once a tenth of the buyers are admitted.")
        w("")
        if wcap:
            w(f"*The room's capacity*, measured just before: {wcap['users']:,} buyers through a room that admits "
              f"everyone at once ({wcap['connections']} connections): {wcap['reserved_per_s']:,.0f} buyers/s "
              f"completed admission and reservation (p50 / p99 of the reservations {wcap['reserve_latency_us']['p50'] / 1000:.1f} / "
              f"{wcap['reserve_latency_us']['p99'] / 1000:.1f} ms; {wcap['reserved']:,} reserved, {wcap['not_done']:,} "
              f"unfinished; CPU busy / foreign {cpu('waiting_room_capacity')}). Each buyer costs the daemon two "
              "requests (admission, reservation) and nginx its polls, so this is below the gate surge's confirmed/s; "
              "it is the capacity the 75 % refers to.")
            w("")
        w("| | |")
        w("|---|---|")
        w(f"| buyers joined / admitted / reserved (201) / unfinished | {wr['joined']:,} / {wr['admitted']:,} / "
          f"{wr['reserved']:,} / {wr['not_done']:,} |")
        w(f"| joining all of them took | {wr['join_seconds']:.1f} s |")
        w(f"| admission phase (rate raised → last reservation) | {wr['admission_phase_seconds']:.1f} s: "
          f"{wr['reserved_per_s']:,.0f} reservations/s for {wr['admit_per_second']:,}/s admitted |")
        w(f"| queue numbers | {wr['numbers']['first']:,} … {wr['numbers']['last']:,}, "
          f"{wr['numbers']['duplicates']} duplicates, {wr['numbers']['gaps']} gaps |")
        w(f"| join order: a buyer whose join was answered before another's was sent holds the higher number | "
          f"{wr['join_order_inversions']} times |")
        w(f"| admission order: NOT_YET_SERVED to a request sent after a higher number's admission was answered | "
          f"{wr['admission_fifo_violations']} times (of {wr['not_yet_served']:,} NOT_YET_SERVED answers) |")
        shed = wr.get("shed_by_step")
        w(f"| polls (nginx micro-cache) / shed 503 retried | {wr['polls']:,} / {wr['shed_503']:,}"
          + (f" (joins {shed['join']:,}, admissions {shed['admit']:,}, reservations {shed['reserve']:,}, "
             f"probes {shed['probe']:,})" if shed else "") + " |")
        pk = wr["probes_by_kind"]
        kinds = ", ".join(f"{k.replace('_', ' ')}: {v['403']:,}" for k, v in pk.items())
        w(f"| probes without a valid token: 201 / 403 ADMISSION_REQUIRED | {wr['probes_reserved']} / "
          f"{sum(v['403'] for v in pk.values()):,} of {wr['probes']:,} ({kinds}) |")
        if wsql:
            w(f"| CONFIRMED rows of the event in MariaDB / of them the probes' users | {wsql['confirmed'][0]:,} / "
              f"{wsql['intruders']} |")
        if adm:
            w(f"| admitted buyers' reservations, from the admission's answer to the reservation's (the buyer's "
              f"wait, any 503 and its Retry-After included): p50 / p90 / p99 / max | {adm['p50'] / 1000:.1f} / "
              f"{adm['p90'] / 1000:.1f} / {adm['p99'] / 1000:.1f} / {adm['max'] / 1000:.1f} ms |")
        w(f"| admitted buyers' reservations, from the last try's send: p50 / p90 / p99 / max | "
          f"{lat['p50'] / 1000:.1f} / {lat['p90'] / 1000:.1f} / {lat['p99'] / 1000:.1f} / {lat['max'] / 1000:.1f} ms |")
        w(f"| answers by status | {'; '.join(f'{k}: {v:,}' for k, v in wr['statuses'].items())} |")
        mb, ma = _metrics(res, "waiting_room.metrics.before"), _metrics(res, "waiting_room.metrics.after")
        if mb is not None and ma is not None:
            d = {k: ma.get(k, 0) - mb.get(k, 0) for k in ("boxoffice_queue_joined_total",
                                                        "boxoffice_queue_admitted_total",
                                                        "boxoffice_queue_refused_total")}
            gauges = ", ".join(f"{k.replace('boxoffice_queue_', '')} {v:,.0f}" for k, v in ma.items()
                               if k.startswith("boxoffice_queue_") and "{" in k and f'event="{wsql["event"] if wsql else ""}"' in k)
            w(f"| the daemon's queue metrics over the scenario (`/api/metrics` deltas): joined / admitted / "
              f"refused | {d['boxoffice_queue_joined_total']:,.0f} / {d['boxoffice_queue_admitted_total']:,.0f} / "
              f"{d['boxoffice_queue_refused_total']:,.0f}; after: {gauges or 'n/a'} |")
        w(f"| CPU busy / foreign | {cpu('waiting_room')} |")
        # what a buyer cost the bench's processes here and in the capacity pass: the pass is a closed
        # loop, the room a paced one, and below capacity every request costs more (report.py)
        rc, cc = _load(res, "waiting_room.cpu.json"), _load(res, "waiting_room_capacity.cpu.json")
        if rc and wr.get("reserved") and cc and wcap and wcap.get("reserved"):
            ur = rc["ours_pct_of_core"] / 100 * rc["seconds"] * 1e6 / wr["reserved"]
            uc = cc["ours_pct_of_core"] / 100 * cc["seconds"] * 1e6 / wcap["reserved"]
            w(f"| CPU a buyer cost, all of the bench's processes over each window (joins and polls included): "
              f"the room / the capacity pass | {ur:,.0f} / {uc:,.0f} µs = {ur / uc:.2f}× |")
        w("")

    # ---- targets
    w("### Targets (issue 11)")
    w("")
    w("| target | result | numbers |")
    w("|---|---|---|")
    for kind, label in (("reserve", "confirmed/s"), ("soldout", "sold-out 409/s")):
        rs = ratios.get(kind)
        if rs and len(rs) > 1:
            c, good, ratio, runs = rs[-1]
            each = lambda v: " and ".join(f"{_fmt(x)}/s" for x in v)
            w(f"| goodput at {c:,} connections ≥ 90 % of goodput at {rs[0][0]:,} ({label}) | {_mark(ratio >= 0.9)} | "
              f"{_fmt(good)}/s vs {_fmt(rs[0][1])}/s = {_pct(ratio)} (runs: {each(runs)} vs {each(rs[0][3])}) |")
    allbad = [x for v in bad.values() for x in v]
    if allbad:
        gw = sum(x[1] for x in allbad)
        so = sum(x[2] for x in allbad)
        w(f"| 0 × 502/504 and 0 socket errors in every overload run (up to {max(x[0] for x in allbad):,} connections) | "
          f"{_mark(gw == 0 and so == 0)} | 502+504: {gw:,}; socket errors: {so:,} |")
    for name, label in (("edge_get", "cached event GETs"), ("edge_poll", "the queue poll")):
        if name in edge and ceiling:
            w(f"| {label} ≥ 50 % of the nginx static ceiling | {_mark(edge[name] / ceiling >= 0.5)} | "
              f"{_fmt(edge[name])}/s = {_pct(edge[name] / ceiling)} of {_fmt(ceiling)}/s |")
    if wr:
        # from the admission where the client measured it (the buyer's wait), else from the send
        p99 = wr.get("reserve_from_admission_us", wr["reserve_latency_us"])["p99"] / 1000
        capn = f" = 75 % of the room's measured {wcap['reserved_per_s']:,.0f} buyers/s" if wcap else ""
        w(f"| p99 of admitted users' reservations < 100 ms while admitting at 75 % of capacity | {_mark(p99 < 100)} | "
          f"p99 {p99:.1f} ms at {wr['admit_per_second']:,}/s{capn}"
          + (f", from each buyer's admission over {wr['connections']:,} connections" if "reserve_from_admission_us" in wr
             else "") + " |")
        fifo = wr["join_order_inversions"] == 0 and wr["admission_fifo_violations"] == 0 and \
            wr["numbers"]["duplicates"] == 0 and wr["numbers"]["gaps"] == 0
        w(f"| admission order = join order | {_mark(fifo)} | {wr['join_order_inversions']} join-order inversions, "
          f"{wr['admission_fifo_violations']} admission-order violations, {wr['numbers']['duplicates']} duplicate "
          f"and {wr['numbers']['gaps']} missing numbers |")
        intr = wsql["intruders"] if wsql else None
        w(f"| 0 reservations without a valid token | {_mark(wr['probes_reserved'] == 0 and intr == 0)} | "
          f"{wr['probes_reserved']} of {wr['probes']:,} probes got 201; {intr if intr is not None else 'n/a'} "
          f"CONFIRMED rows of probe users in MariaDB |")
        w(f"| ≥ 20,000 simulated queued users, all served | {_mark(wr['users'] >= 20000 and wr['not_done'] == 0)} | "
          f"{wr['users']:,} buyers, {wr['reserved']:,} reserved, {wr['not_done']:,} unfinished |")
    w("")
