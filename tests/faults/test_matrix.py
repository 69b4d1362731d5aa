"""The fault matrix under load (issue 14, item 2), on the two-instance stack of
`scripts/stack up --instances 2` (scripts/test's faults stage, or scripts/faults).

For each strategy (gate, event-lock) and each fault of faultlab.FAULTS, a reservation surge
through the balancer while the fault strikes, then every invariant (see faultlab.py). Each run
is one row of the table printed at the end. BOXOFFICE_FAULTS_PROFILE=short (default: a few
seconds per run) or long (longer outages, more clients, ambiguous answers resolved by retries);
BOXOFFICE_FAULTS=name,name runs only those faults, BOXOFFICE_FAULTS_STRATEGIES=gate only that
strategy; BOXOFFICE_FAULTS_TABLE=FILE also writes the table there."""
import os
from pathlib import Path

import pytest

from faultlab import FAULTS, STRATEGIES, format_table, profile, run_fault, running_cluster, set_strategy
from openapi_check import Api

PROFILE = profile()
SELECTED = [f for f in (os.environ.get("BOXOFFICE_FAULTS") or ",".join(FAULTS)).split(",") if f]
STRATEGY_LIST = [s for s in (os.environ.get("BOXOFFICE_FAULTS_STRATEGIES") or ",".join(STRATEGIES)).split(",")
                 if s]
ROWS = []


@pytest.fixture(scope="module")
def cluster():
    return running_cluster()


@pytest.fixture(scope="module", autouse=True)
def table(request):
    yield
    text = format_table(ROWS) if ROWS else "(no fault ran)"
    out = os.environ.get("BOXOFFICE_FAULTS_TABLE")
    if out:
        Path(out).write_text(text + "\n")
    capman = request.config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        print(f"\n======== fault matrix ({PROFILE['name']} profile) ========\n{text}\n", flush=True)


@pytest.fixture(scope="module", params=STRATEGY_LIST)
def strategy(request, cluster):
    previous = os.environ.get("BOXOFFICE_RESERVATION_STRATEGY")
    set_strategy(cluster, request.param)
    yield request.param
    set_strategy(cluster, previous)


@pytest.mark.parametrize("fault", SELECTED)
def test_fault_under_load(cluster, strategy, fault):
    assert fault in FAULTS, f"unknown fault {fault} (known: {', '.join(FAULTS)})"
    api = Api(cluster)
    try:
        ROWS.append(run_fault(cluster, api, strategy, fault, PROFILE))
    finally:
        api.close_created()
