"""The oversell drill (tests/load/oversell) against the test stack, for each strategy:

  - gate:               S=500 seats, C=200 clients, R=3000 requests of 1..4 seats; sells exactly S;
  - gate, Redis outage: R=3000 again; Redis stopped once half the seats are sold and started again
                        (empty: it keeps no data) a second later, while the traffic goes on;
  - event-lock:         the daemon restarted with BOXOFFICE_RESERVATION_STRATEGY=event-lock (and
                        restarted with the previous setting afterwards); may sell fewer than S.

Each run prints its figures line (requests, 201s, 409s by code, seats sold, oversold), appends it
to $BOXOFFICE_RUN_DIR/drill-figures.txt, and the module prints them all at the end, so that
scripts/test's output shows them. The drill itself checks the invariant (see its --help)."""
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT
from openapi_check import restart_daemon

DRILL = ROOT / "tests" / "load" / "oversell"
SEATS, CLIENTS, REQUESTS = 500, 200, 3000


def figures_file(stack):
    return Path(stack.run_dir) / "drill-figures.txt"


def show(capsys, text):
    with capsys.disabled():
        print("\n" + text, flush=True)


@pytest.fixture(scope="module", autouse=True)
def figures(stack, request):
    f = figures_file(stack)
    f.write_text("")
    yield f
    text = f.read_text().strip()
    capman = request.config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print("\n======== oversell drill figures ========\n" + (text or "(no drill ran)") + "\n", flush=True)


def run_drill(stack, *args, timeout=420):
    cmd = ["/usr/bin/python3", str(DRILL), "--stack-env", str(Path(stack.run_dir) / "stack.env"),
           "--figures-file", str(figures_file(stack)), *map(str, args)]
    t = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t


def check_drill(capsys, r, secs, strategy):
    figures = [ln for ln in r.stdout.splitlines() if ln.startswith("oversell drill:")]
    show(capsys, "\n".join(figures) + f"  [{secs:.0f}s]" + (f"\n{r.stderr.strip()}" if r.stderr.strip() else ""))
    assert r.returncode == 0, f"drill ({strategy}) failed, rc={r.returncode}:\n{r.stdout}\n{r.stderr}"
    assert len(figures) == 1, r.stdout
    fields = dict(kv.split("=", 1) for kv in figures[0].split() if "=" in kv and not kv.startswith("("))
    assert fields["strategy"] == strategy, figures[0]
    assert fields["oversold"] == "0", figures[0]
    assert fields["5xx"] == "0" and fields["errors"] == "0", figures[0]
    return fields


@pytest.fixture
def event_lock(stack):
    previous = os.environ.get("BOXOFFICE_RESERVATION_STRATEGY")
    restart_daemon(stack, reservation_strategy="event-lock")
    yield
    restart_daemon(stack, reservation_strategy=previous)


def test_drill_gate(stack, capsys):
    r, secs = run_drill(stack, "--strategy", "gate", "--seats", SEATS, "--clients", CLIENTS,
                        "--requests", REQUESTS)
    f = check_drill(capsys, r, secs, "gate")
    assert f["sold"] == f"{SEATS}/{SEATS}", f


def test_drill_gate_with_redis_stopped_and_restarted(healthy_stack, capsys):
    r, secs = run_drill(healthy_stack, "--strategy", "gate", "--seats", SEATS, "--clients", CLIENTS,
                        "--requests", REQUESTS, "--stop-redis-at-sold", 0.5, "--redis-down-for", 1.0)
    f = check_drill(capsys, r, secs, "gate")
    assert f["sold"] == f"{SEATS}/{SEATS}", f
    assert "redis stop" in r.stdout and "redis start" in r.stdout, r.stdout
    # the outage really happened under traffic, and traffic met the restarted Redis
    assert int(f["while_down"].split("req/")[0]) > 0, f
    assert int(f["after_restart"].split("req/")[0]) > 0, f


def test_drill_event_lock(stack, event_lock, capsys):
    r, secs = run_drill(stack, "--strategy", "event-lock", "--seats", SEATS, "--clients", CLIENTS,
                        "--requests", REQUESTS)
    f = check_drill(capsys, r, secs, "event-lock")
    sold = int(f["sold"].split("/")[0])
    assert 0 < sold <= SEATS, f
