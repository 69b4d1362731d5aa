#!/usr/bin/python3
"""What nginx logged during one scripts/bench measurement (issue 11).

  edgelog.py offsets RUN_NGINX_LOGS                 -> prints "ACCESS_SIZE SHED_SIZE"
  edgelog.py summary RUN_NGINX_LOGS A_OFF S_OFF OUT  -> writes OUT (JSON)

The site logs every answer once (conf/nginx/boxoffice-site.conf): served ones to
boxoffice.access.log, nginx's own refusals (503 over an in-flight limit, 429 over a rate) to
boxoffice.shed.log, one JSON object a line. The summary reads what was appended after the
offsets: the answers by status in each log, the upstream 5xx/502/504 nginx produced, and the
latency (nginx's requestTime, millisecond resolution) of the requests the daemon served, which
wrk's histogram cannot separate from the refusals (held a few seconds each), and which client
connections (nginx's "connection" serial) the served answers and the refusals went to.
"""
import json
import os
import sys


def sizes(logdir):
    out = []
    for name in ("boxoffice.access.log", "boxoffice.shed.log"):
        try:
            out.append(os.path.getsize(os.path.join(logdir, name)))
        except OSError:
            out.append(0)
    return out


def lines(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            for raw in f:
                try:
                    yield json.loads(raw)
                except ValueError:
                    continue  # a line cut by a rotation or the buffer
    except OSError:
        return


def pctl(sorted_vals, q):
    if not sorted_vals:
        return None
    return sorted_vals[min(len(sorted_vals) - 1, int(q * (len(sorted_vals) - 1) + 0.5))]


def half_of(counts):
    """the fewest connections that had at least half of the answers"""
    need, n = sum(counts) / 2, 0
    for i, c in enumerate(sorted(counts, reverse=True)):
        n += c
        if n >= need:
            return i + 1
    return 0


def summary(logdir, a_off, s_off):
    served, by_status, upstream_502 = [], {}, 0
    per_conn, shed_conns = {}, set()
    for r in lines(os.path.join(logdir, "boxoffice.access.log"), a_off):
        st = r.get("status")
        by_status[str(st)] = by_status.get(str(st), 0) + 1
        if st in (502, 504):
            upstream_502 += 1
        elif r.get("upstreamStatus") not in ("", "-", None) and st < 500:
            served.append(float(r.get("requestTime") or 0) * 1000)
            if "connection" in r:
                per_conn[r["connection"]] = per_conn.get(r["connection"], 0) + 1
    shed, shed_by = 0, {}
    for r in lines(os.path.join(logdir, "boxoffice.shed.log"), s_off):
        k = f"{r.get('status')} {r.get('class')}"
        shed_by[k] = shed_by.get(k, 0) + 1
        shed += 1
        if "connection" in r:
            shed_conns.add(r["connection"])
    served.sort()
    return {
        "access_by_status": by_status,
        "gateway_errors": upstream_502,
        "served_by_daemon": len(served),
        "served_ms": {"p50": pctl(served, 0.50), "p90": pctl(served, 0.90),
                      "p99": pctl(served, 0.99), "max": served[-1] if served else None},
        "shed": shed,
        "shed_by_status_class": shed_by,
        # None: a log without the connection serial (a site from before it was logged)
        "connections": {"served": len(per_conn), "half_of_answers": half_of(list(per_conn.values())),
                        "refused": len(shed_conns),
                        "refused_never_served": len(shed_conns - set(per_conn))} if per_conn else None,
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "offsets":
        print(*sizes(sys.argv[2]))
    elif len(sys.argv) == 6 and sys.argv[1] == "summary":
        s = summary(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        with open(sys.argv[5], "w") as f:
            json.dump(s, f)
            f.write("\n")
        print(json.dumps(s))
    else:
        sys.exit(__doc__)
