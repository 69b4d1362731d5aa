"""A worker under valgrind serves 1,000 requests and leaks nothing ("definitely lost: 0").

A second daemon instance runs under valgrind with workers=1 and max_requests=1000 on a socket
of its own (same MariaDB and Redis as the stack); this test drives it with the FastCGI client.
After the 1,000th request the worker exits (recycled), and valgrind writes its leak summary.
"""
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import render_daemon_conf, wait_until
from fcgi_client import request

REQUESTS = 1000


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_worker_under_valgrind_leaks_nothing(stack, tmp_path_factory):
    work = Path(stack.run_dir) / "valgrind"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sock = work / "vg.sock"
    conf = work / "boxoffice.conf"
    render_daemon_conf(stack.env["BOXOFFICE_APP_CONF"], conf, {
        "listen": f"unix:{sock}",
        "pid_file": str(work / "vg.pid"),
        "log_file": str(work / "daemon.log"),
        "workers": "1",
        "max_requests": str(REQUESTS),
        "max_requests_jitter": "0",
        "graceful_timeout_s": "20",
        "debug_endpoints": "on",
        "log_level": "info",
    })
    # the config file says it all: no BOXOFFICE_* override from our environment
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    cmd = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect",
           "--trace-children=yes", "--child-silent-after-fork=no", "--num-callers=30",
           f"--log-file={work}/vg.%p.log", stack.env["BOXOFFICE_BIN"], "--config", str(conf)]
    out = open(work / "stdout.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    master = proc.pid
    try:
        wait_until(lambda: sock.exists() or proc.poll() is not None, 90, "the valgrind daemon's socket")
        assert proc.poll() is None, (work / "stdout.log").read_text()[-3000:]
        # the master's children: the worker, and the housekeeping child (not measured here)
        workers = lambda: [p for p in stack.children(master) if stack.comm(p) == "bo-worker"]  # noqa: E731
        wait_until(lambda: len(workers()) == 1, 60, "the worker")
        worker = workers()[0]

        statuses = {}
        for i in range(REQUESTS):
            k = i % 20
            if k < 8:
                r = request(str(sock), "GET", "/api/health", timeout=30)
            elif k < 12:
                r = request(str(sock), "GET", "/api/ready", timeout=30)
            elif k == 12:
                r = request(str(sock), "GET", "/api/nope?x=1&y=%20z", timeout=30)
            elif k == 13:
                r = request(str(sock), "DELETE", "/api/health", timeout=30)
            elif k == 14:
                r = request(str(sock), "GET", "/api/health", body=b"{" + b" " * 66000 + b"}",
                            content_type="application/json", timeout=30)
            elif k == 15:
                r = request(str(sock), "POST", "/api/_debug/echo", body=b'{"a":[1,2,3]}',
                            content_type="application/json", timeout=30)
            elif k == 16:
                r = request(str(sock), "POST", "/api/_debug/echo", body=b"plain",
                            content_type="text/plain", timeout=30)
            elif k == 17:
                r = request(str(sock), "GET", "/api/_debug/sleep?ms=1", timeout=30)
            elif k == 18:
                r = request(str(sock), "GET", "/api/_debug/sleep?ms=bad", timeout=30)
            else:
                r = request(str(sock), "GET", "/api/health",
                            headers={"X-Request-Id": f"vg-{i}", "User-Agent": "x" * 500}, timeout=30)
            statuses[r.status] = statuses.get(r.status, 0) + 1
        print(f"{REQUESTS} requests to the valgrind worker: statuses {sorted(statuses.items())}")
        assert statuses.get(200, 0) >= REQUESTS // 2, statuses
        assert not any(s >= 500 for s in statuses), statuses

        # max_requests reached: the worker exits and valgrind writes its summary
        wait_until(lambda: not stack.alive(worker), 120, f"worker {worker} to exit after {REQUESTS} requests")
        wlog = work / f"vg.{worker}.log"
        wait_until(lambda: wlog.exists() and ("LEAK SUMMARY" in wlog.read_text(errors="replace") or
                                         "no leaks are possible" in wlog.read_text(errors="replace")),
              30, f"valgrind's summary in {wlog}")
    finally:
        if proc.poll() is None:
            os.kill(master, signal.SIGQUIT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(master, signal.SIGKILL)
                proc.wait(timeout=30)
        out.close()

    text = wlog.read_text(errors="replace")
    if "All heap blocks were freed -- no leaks are possible" in text:
        line = "definitely lost: 0 bytes in 0 blocks (All heap blocks were freed -- no leaks are possible)"
        lost = 0
    else:
        m = re.search(r"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", text)
        assert m, f"no 'definitely lost' line in {wlog}:\n{text[-3000:]}"
        line = m.group(0)
        lost = int(m.group(1).replace(",", ""))
    print(f"valgrind worker {worker} after {REQUESTS} requests: {line}")
    # scripts/test prints this in its summary
    (work / "summary.txt").write_text(f"valgrind:    worker {worker}, {REQUESTS} requests, {line}\n")
    summary = re.search(r"ERROR SUMMARY: .*", text)
    if summary:
        print(f"valgrind worker {worker}: {summary.group(0)}")
    for other in sorted(work.glob("vg.*.log")):
        if other != wlog:
            m = re.search(r"definitely lost: [\d,]+ bytes in [\d,]+ blocks", other.read_text(errors="replace"))
            print(f"valgrind {other.name}: {m.group(0) if m else 'no leak summary'}")
    assert lost == 0, f"worker leaked: {line}\n{text[-6000:]}"
    bad = re.findall(r"(Invalid (?:read|write|free)[^\n]*)", text)
    assert not bad, f"memory errors in the worker: {bad[:5]}\n{text[-6000:]}"
