#!/usr/bin/python3
"""The soak (issue 14, item 6): one long surge on the two-instance stack with a fault every F
seconds, the faults of faultlab.FAULTS in turn, while every S seconds each instance's processes
are sampled:
  - the master's, every worker's and the housekeeper's RSS (VmRSS in /proc/PID/status) and open
    file descriptors (/proc/PID/fd);
  - the database connections of the application user (information_schema.PROCESSLIST), against
    the daemons' processes (one connection each is the design).
At the end, the same checks as each run of the matrix (faultlab.check_run, after every ambiguous
answer was sent again with its Idempotency-Key), and the report in --out:
  samples.tsv  every process sample (seconds, instance, role, pid, rss_kb, fds)
  db.tsv       seconds, database connections, daemon processes
  faults.tsv   seconds, fault, seconds it took, gate right again after (s), before the next fault
  probes.tsv   every look of the prober: seconds, right (1/0), what it saw
  soak.md      the machine, the command, a table per minute and the verdict
  soak.png     RSS, fds and connections over time (gnuplot, when installed)
"Flat": the last two minutes' medians against the first two's (after a minute of warm-up):
worker RSS within +10 % (and 2 MiB), fds per worker within +2, masters' fds within +4,
connections per process within +0.5. It exits 1 when a check or the flatness fails.

usage: soak.py --stack-env FILE --seconds 600 --fault-every 30 --sample-every 10 --out DIR
               [--strategy gate|event-lock] [--command TEXT]
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import faultlab  # noqa: E402
from faultlab import (FAULTS, Cluster, Prober, Quiescence, Run, Surge, check_run, log,  # noqa: E402
                      scrape_all, set_strategy)
from faultkit import Ledger, sql_session  # noqa: E402
from openapi_check import Api  # noqa: E402
import stacklib  # noqa: E402


def proc_sample(pid):
    """(rss_kb, fds) of a live process, or None."""
    try:
        rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration, ValueError):
        return None


class Sampler:
    def __init__(self, cluster, every, t0):
        self.cluster, self.every, self.t0 = cluster, every, t0
        self.procs = []     # (t, instance, role, pid, rss_kb, fds)
        self.db = []        # (t, connections or None, daemon processes)
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connections(self):
        try:
            with sql_session(self.cluster.env, connect_timeout=2, read_timeout=5) as s, s.cursor() as c:
                c.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s AND "
                          "ID <> CONNECTION_ID()", (self.cluster.env["BOXOFFICE_MYSQL_USER"],))
                return int(c.fetchone()[0])
        except Exception:      # MariaDB stopped or stalled by the fault of the moment
            return None

    def sample(self):
        t = time.monotonic() - self.t0
        n = 0
        for inst in self.cluster.instances:
            master = inst.master()
            if master is None:
                continue
            roles = [("master", master), ("housekeeper", inst.housekeeper())] + \
                [("worker", w) for w in inst.workers()]
            for role, pid in roles:
                s = proc_sample(pid) if pid else None
                if s:
                    self.procs.append((t, inst.k, role, pid, *s))
                    n += role != "master"
        self.db.append((t, self._connections(), n))

    def _run(self):
        while not self.stop_flag.is_set():
            self.sample()
            self.stop_flag.wait(self.every)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_flag.set()
        self.thread.join(60)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def window(sampler, lo, hi):
    """Medians over the samples with lo <= t < hi."""
    workers = [p for p in sampler.procs if lo <= p[0] < hi and p[2] == "worker"]
    masters = [p for p in sampler.procs if lo <= p[0] < hi and p[2] == "master"]
    db = [(c, n) for t, c, n in sampler.db if lo <= t < hi and c is not None and n]
    return {"worker_rss_kb": median([p[4] for p in workers]),
            "worker_rss_max_kb": max([p[4] for p in workers], default=float("nan")),
            "worker_fds": median([p[5] for p in workers]),
            "worker_fds_max": max([p[5] for p in workers], default=float("nan")),
            "master_rss_kb": median([p[4] for p in masters]),
            "master_fds": median([p[5] for p in masters]),
            "conns": median([c for c, _ in db]),
            "conns_per_proc": median([c / n for c, n in db])}


def verdict(first, last):
    """(flat?, reasons) comparing the last window with the first."""
    reasons = []
    if last["worker_rss_kb"] > max(first["worker_rss_kb"] * 1.10, first["worker_rss_kb"] + 2048):
        reasons.append(f"worker RSS {first['worker_rss_kb']:.0f} -> {last['worker_rss_kb']:.0f} kB")
    if last["worker_fds"] > first["worker_fds"] + 2:
        reasons.append(f"worker fds {first['worker_fds']:.0f} -> {last['worker_fds']:.0f}")
    if last["master_fds"] > first["master_fds"] + 4:
        reasons.append(f"master fds {first['master_fds']:.0f} -> {last['master_fds']:.0f}")
    if last["conns_per_proc"] > first["conns_per_proc"] + 0.5:
        reasons.append(f"connections per process {first['conns_per_proc']:.2f} -> {last['conns_per_proc']:.2f}")
    return not reasons, reasons


def write_report(a, out, sampler, faults_done, figures, counts, elapsed, flat, reasons, first, last,
                 prober_samples=(), t0=0.0):
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "samples.tsv", "w") as f:
        f.write("t\tinstance\trole\tpid\trss_kb\tfds\n")
        for p in sampler.procs:
            f.write("%.1f\t%d\t%s\t%d\t%d\t%d\n" % p)
    with open(out / "db.tsv", "w") as f:
        f.write("t\tconnections\tprocesses\n")
        for t, c, n in sampler.db:
            f.write(f"{t:.1f}\t{'' if c is None else c}\t{n}\n")
    with open(out / "probes.tsv", "w") as f:
        f.write("t\tright\tdetail\n")
        for t, ok, detail in prober_samples:
            f.write(f"{t - t0:.1f}\t{int(ok)}\t{detail}\n")
    with open(out / "faults.tsv", "w") as f:
        f.write("t\tfault\tseconds\tright_after\n")
        for t, name, secs, right in faults_done:
            f.write(f"{t:.1f}\t{name}\t{secs:.1f}\t{'' if right is None else f'{right:.1f}'}\n")
    per_min = []
    for m in range(0, int(elapsed // 60) + 1):
        w = window(sampler, m * 60, (m + 1) * 60)
        if w["worker_rss_kb"] == w["worker_rss_kb"]:      # not NaN
            per_min.append((m, w))
    plotted = plot(out)
    cpu = sorted({line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")})
    mem = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    lines = [
        "# Soak: a surge with a fault every %d s" % a.fault_every, "",
        "Generated by `tests/faults/soak.py` (issue 14, item 6). A bench, not a CI test.", "",
        f"- command: `{a.command or ' '.join(sys.argv)}`",
        f"- date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
        f"- machine: {os.cpu_count()} CPU ({', '.join(cpu)}), {int(mem) / 1048576:.1f} GiB, "
        f"{platform.system()} {platform.release()}; load average at the end {os.getloadavg()[0]:.1f} "
        "(the machine is shared)",
        f"- stack: `scripts/stack up --instances 2`, {a.workers_each} workers per instance, "
        f"strategy {a.strategy}",
        f"- surge: {elapsed:.0f} s, {a.clients} clients through the balancer, reserve or cancel "
        f"(faultlab.Surge): {counts['requests']} reservations ({counts['201']} 201, {counts['409']} 409, "
        f"{counts['503']} 503, {counts['other']} other), {counts['cancels']} cancels",
        f"- faults: {len(faults_done)} ({', '.join(sorted({f[1] for f in faults_done}))}), one every "
        f"{a.fault_every} s",
        f"- checks at the end: sold {figures['sold']} + available {figures['available']} = total "
        f"{figures['total']}; outcome unknown (committed) {figures['unknown']}; metrics/SQL "
        f"{figures['metrics']}; every ambiguous answer resolved by a retry with its key",
        "",
        "## Per minute (medians over the samples of the minute)", "",
        "| minute | worker RSS MiB | worker RSS max MiB | worker fds | worker fds max | master RSS MiB "
        "| master fds | DB connections | connections per process |",
        "|---|---|---|---|---|---|---|---|---|"]
    for m, w in per_min:
        lines.append(f"| {m} | {w['worker_rss_kb'] / 1024:.1f} | {w['worker_rss_max_kb'] / 1024:.1f} | "
                     f"{w['worker_fds']:.0f} | {w['worker_fds_max']:.0f} | {w['master_rss_kb'] / 1024:.1f} | "
                     f"{w['master_fds']:.0f} | {w['conns']:.0f} | {w['conns_per_proc']:.2f} |")
    lines += ["", "## Faults", "", "| at s | fault | took s | gate right again after s |", "|---|---|---|---|"]
    for t, name, secs, right in faults_done:
        lines.append(f"| {t:.0f} | {name} | {secs:.1f} | "
                     f"{'still wrong at the next fault' if right is None else f'{right:.1f}'} |")
    lives = {}
    for t, _k, role, pid, _rss, _fds in sampler.procs:
        if role == "worker":
            born, _ = lives.get(pid, (t, t))
            lives[pid] = (born, t)
    spans = sorted(b - a for a, b in lives.values())
    if spans:
        lines += ["", f"Workers sampled: {len(spans)} (killed, rolled and restarted by the faults; "
                  f"max_requests = {os.environ.get('BOXOFFICE_MAX_REQUESTS', 'the default')}); "
                  f"seen alive for {median(spans):.0f} s at the median, {spans[-1]:.0f} s at the longest."]
    lines += ["", "## Verdict", "",
              f"First two minutes after warm-up against the last two: worker RSS "
              f"{first['worker_rss_kb'] / 1024:.1f} -> {last['worker_rss_kb'] / 1024:.1f} MiB, worker fds "
              f"{first['worker_fds']:.0f} -> {last['worker_fds']:.0f}, master fds {first['master_fds']:.0f} -> "
              f"{last['master_fds']:.0f}, connections per process {first['conns_per_proc']:.2f} -> "
              f"{last['conns_per_proc']:.2f}: " + ("**flat**." if flat else "**not flat**: " + "; ".join(reasons)),
              ""]
    if plotted:
        lines += ["![soak](soak.png)", ""]
    lines += ["Raw samples: samples.tsv, db.tsv and faults.tsv in the run's output directory "
              "(`scripts/faults --soak` prints it)."]
    (out / "soak.md").write_text("\n".join(lines) + "\n")


def plot(out):
    if not shutil.which("gnuplot"):
        return False
    # per sample time: median worker RSS (MiB), max worker fds, master fds, DB connections
    rows = {}
    for line in (out / "samples.tsv").read_text().splitlines()[1:]:
        t, _k, role, _pid, rss, fds = line.split("\t")
        rows.setdefault(t, {"rss": [], "fds": [], "mfds": []})
        if role == "worker":
            rows[t]["rss"].append(int(rss) / 1024)
            rows[t]["fds"].append(int(fds))
        elif role == "master":
            rows[t]["mfds"].append(int(fds))
    conns = {line.split("\t")[0]: line.split("\t")[1] for line in (out / "db.tsv").read_text().splitlines()[1:]}
    with open(out / "plot.tsv", "w") as f:
        for t in sorted(rows, key=float):
            r = rows[t]
            if r["rss"]:
                f.write(f"{t}\t{median(r['rss']):.2f}\t{max(r['fds'])}\t{max(r['mfds'] or [0])}\t"
                        f"{conns.get(t) or 'NaN'}\n")
    faults = [line.split("\t") for line in (out / "faults.tsv").read_text().splitlines()[1:]]
    arrows = "\n".join(f"set arrow from {t},graph 0 to {t},graph 1 nohead lc rgb '#cccccc'" for t, *_ in faults)
    script = f"""set terminal pngcairo size 1000,700
set output '{out}/soak.png'
set multiplot layout 3,1 title 'soak: {len(faults)} faults (grey lines), 2 instances'
set xlabel 'seconds'
set yrange [0:*]
set key bottom right
{arrows}
set ylabel 'MiB'
plot '{out}/plot.tsv' using 1:2 with lines title 'median worker RSS'
set ylabel 'fds'
plot '{out}/plot.tsv' using 1:3 with lines title 'max fds of a worker', '' using 1:4 with lines title 'max fds of a master'
set ylabel 'connections'
plot '{out}/plot.tsv' using 1:5 with lines title 'database connections (application user)'
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        log(f"soak: gnuplot failed: {r.stderr.strip()[:300]}")
        return False
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stack-env", required=True)
    p.add_argument("--seconds", type=int, default=600)
    p.add_argument("--fault-every", type=int, default=30)
    p.add_argument("--sample-every", type=int, default=10)
    p.add_argument("--out", required=True)
    p.add_argument("--strategy", default="gate", choices=faultlab.STRATEGIES)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seats", type=int, default=150)
    p.add_argument("--command", default=None)
    a = p.parse_args()
    os.environ["BOXOFFICE_RUN_DIR"] = str(Path(a.stack_env).parent)
    prof = dict(faultlab.PROFILES["long"])
    cluster = Cluster(stacklib.load_stack_env(a.stack_env))
    cluster.wait_healthy()
    a.workers_each = cluster.workers_each
    if a.strategy != "gate":
        set_strategy(cluster, a.strategy)
    api = Api(cluster)
    ev = api.create_event(totalSeats=a.seats, maxPerRequest=4, perUserLimit=100,
                          eventName=f"soak {uuid.uuid4().hex[:6]}")["id"]
    ledger = Ledger(api)
    base = scrape_all(cluster)
    quiet = Quiescence()
    surge = Surge(api, ledger, ev, a.clients, quiet, f"s{uuid.uuid4().hex[:6]}")
    prober = Prober(cluster, quiet, ev, a.strategy, interval=1.0)
    run = Run(cluster, prof, a.strategy)
    t0 = time.monotonic()
    sampler = Sampler(cluster, a.sample_every, t0)
    names = list(FAULTS)
    faults_done = []
    log(f"soak: {a.seconds}s, a fault every {a.fault_every}s, event {ev}")
    sampler.start()
    surge.start()
    prober.start()
    failed = None
    try:
        i = 0
        while True:
            next_at = t0 + (i + 1) * a.fault_every
            if next_at + a.fault_every > t0 + a.seconds:
                break
            time.sleep(max(0.0, next_at - time.monotonic()))
            name = names[i % len(names)]
            t = time.monotonic()
            log(f"soak: {t - t0:.0f}s: {name}")
            FAULTS[name](run)
            faults_done.append([t - t0, name, time.monotonic() - t, None])
            i += 1
        time.sleep(max(0.0, t0 + a.seconds - time.monotonic()))
    except Exception as e:
        failed = f"{type(e).__name__}: {e}"
    finally:
        surge.stop()
    elapsed = time.monotonic() - t0
    try:
        faultlab.wait_until("the admission state right again", lambda: prober.right_after(t0 + faults_done[-1][0])
                            is not None if faults_done else True, 60, 0.5)
        cluster.wait_healthy()
    finally:
        prober.stop()
        sampler.stop()
    # each fault's own window: from its end until the next fault strikes
    for i, f in enumerate(faults_done):
        until = t0 + faults_done[i + 1][0] if i + 1 < len(faults_done) else None
        f[3] = prober.right_after(t0 + f[0] + f[2], until)
    figures = None
    if failed is None:
        try:
            surge.resolve(timeout=120)
            figures = check_run(cluster, api, surge, run, ev, base, resolved=True)
        except AssertionError as e:
            failed = f"check failed: {e}"
    warm = 60
    first = window(sampler, warm, warm + 120)
    last = window(sampler, max(warm + 120, elapsed - 120), elapsed + 1)
    flat, reasons = verdict(first, last)
    out = Path(a.out)
    write_report(a, out, sampler, faults_done, figures or {"sold": "-", "available": "-", "total": "-",
                 "unknown": "-", "metrics": "-"}, surge.counts(), elapsed, flat, reasons, first, last,
                 prober.samples, t0)
    api.close_created()
    print((out / "soak.md").read_text())
    if failed:
        print(f"soak: FAILED: {failed}", file=sys.stderr)
        return 1
    if not flat:
        print("soak: not flat: " + "; ".join(reasons), file=sys.stderr)
        return 1
    print(f"soak: flat; report in {out}/soak.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
