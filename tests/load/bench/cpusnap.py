#!/usr/bin/python3
"""CPU accounting around one measurement, to tell how much of the 2 shared vCPUs other people's
jobs took while scripts/bench was measuring.

  cpusnap.py snap FILE              write a snapshot: /proc/stat totals and every process's
                                    session id, start time and utime+stime
  cpusnap.py run FILE -- CMD...     run CMD (the load generator) and write its CPU seconds
                                    (user + sys, from getrusage) to FILE; exits with CMD's status
  cpusnap.py diff A B [--client FILE] SID [SID...]
                                    print JSON: machine busy % (of all CPUs, 100 % = every core
                                    busy), ours and foreign CPU as % of ONE core, and the top
                                    foreign commands. "Ours" = processes whose session id is one
                                    of SID (the bench's shell, and each stack component, which
                                    scripts/stack starts with setsid).

Approximation: a process that exited between the snapshots is not counted (its CPU time is lost),
so "foreign" is a lower bound; one that started in between is counted in full.
"""
import json
import os
import sys

HZ = os.sysconf("SC_CLK_TCK")


def snap():
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + (cpu[4] if len(cpu) > 4 else 0)
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        r = s.rfind(")")
        comm = s[s.find("(") + 1:r]
        fields = s[r + 2:].split()
        # fields[0] is state (field 3); sid is field 6, utime 14, stime 15, starttime 22
        procs[d] = [int(fields[3]), int(fields[19]), int(fields[11]) + int(fields[12]), comm]
    return {"uptime": uptime, "busy": sum(cpu) - idle, "total": sum(cpu), "procs": procs}


def diff(a, b, sids, client_s=0.0):
    dt = max(b["uptime"] - a["uptime"], 1e-3)
    ncpu = os.cpu_count() or 1
    start_a = a["uptime"] * HZ
    ours = foreign = 0
    per = {}
    mine = {}
    for pid, (sid, start, t, comm) in b["procs"].items():
        pa = a["procs"].get(pid)
        if pa is not None and pa[1] == start:
            d = t - pa[2]
        elif start >= start_a:
            d = t
        else:
            continue
        if sid in sids:
            ours += d
            mine[comm] = mine.get(comm, 0) + d
        else:
            foreign += d
            per[comm] = per.get(comm, 0) + d
    tot = max(b["total"] - a["total"], 1)
    top = sorted(per.items(), key=lambda kv: -kv[1])[:5]
    if client_s:
        ours += client_s * HZ
        mine["load client"] = mine.get("load client", 0) + client_s * HZ
    return {
        "seconds": round(dt, 2),
        "machine_busy_pct": round(100.0 * (b["busy"] - a["busy"]) / tot, 1),
        "ours_pct_of_core": round(100.0 * ours / HZ / dt, 1),
        "foreign_pct_of_core": round(100.0 * foreign / HZ / dt, 1),
        "ncpu": ncpu,
        "foreign_top": [[c, round(100.0 * v / HZ / dt, 1)] for c, v in top if v > 0],
        "ours_by_comm": [[c, round(100.0 * v / HZ / dt, 1)] for c, v in
                         sorted(mine.items(), key=lambda kv: -kv[1]) if v > 0],
    }


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "snap":
        with open(sys.argv[2], "w") as f:
            json.dump(snap(), f)
        return 0
    if len(sys.argv) >= 5 and sys.argv[1] == "run" and sys.argv[3] == "--":
        import resource
        import subprocess
        rc = subprocess.call(sys.argv[4:])
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(sys.argv[2], "w") as f:
            f.write(f"{ru.ru_utime + ru.ru_stime:.3f}\n")
        return rc
    if len(sys.argv) >= 4 and sys.argv[1] == "diff":
        with open(sys.argv[2]) as f:
            a = json.load(f)
        with open(sys.argv[3]) as f:
            b = json.load(f)
        rest = sys.argv[4:]
        client_s = 0.0
        if rest[:1] == ["--client"]:
            try:
                client_s = float(open(rest[1]).read().strip() or 0)
            except (OSError, ValueError, IndexError):
                pass
            rest = rest[2:]
        sids = {int(x) for x in rest if x.strip().isdigit()}
        print(json.dumps(diff(a, b, sids, client_s)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
