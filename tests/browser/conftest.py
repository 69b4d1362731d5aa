"""Fixtures for the browser tests: the running stack ($BOXOFFICE_RUN_DIR/stack.env, as for
tests/integration) and real headless Chromium browsers (Debian's chromium + chromium-driver,
driven by python3-selenium) with a phone-sized viewport.

Each browser gets a fresh profile directory and the flags that keep Chromium from reaching
out to the network (this machine has none). Screenshots go to $BOXOFFICE_SCREENSHOT_DIR
(default build/test-logs/browser; docs/screenshots/ holds a committed set), chromedriver's logs
to build/test-logs."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import stacklib  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BOXOFFICE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BOXOFFICE_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = {"width": 360, "height": 780, "deviceScaleFactor": 2, "mobile": True}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--lang=en-US", f"--window-size={PHONE['width']},{PHONE['height']}"]


class Api:
    """The stack's API for the test's own setup (creating events, taking seats)."""

    def __init__(self, env):
        self.url = env["BOXOFFICE_URL"]
        self.token = env["BOXOFFICE_ADMIN_TOKEN"]

    def create_event(self, room_rate=None, **fields):
        r = stacklib.create_event(self.url, self.token, **fields)
        assert r.status_code == 201, f"{r.status_code} {r.text[:300]}"
        ev = r.json()["data"]
        if room_rate:
            r = requests.put(f"{self.url}/api/events/{ev['id']}", timeout=20,
                             headers={"Authorization": f"Bearer {self.token}"},
                             json={"waitingRoom": {"enabled": True, "admitPerSecond": room_rate}})
            assert r.status_code == 200, f"{r.status_code} {r.text[:300]}"
            ev = r.json()["data"]
        return ev

    def join(self, event_id, user):
        r = requests.post(f"{self.url}/api/events/{event_id}/queue", json={"userId": user}, timeout=20)
        assert r.status_code == 201, f"{r.status_code} {r.text[:300]}"
        return r.json()["data"]

    def reserve(self, event_id, user, quantity, token=None):
        h = {"X-Admission-Token": token} if token else {}
        return requests.post(f"{self.url}/api/reservations", headers=h, timeout=20,
                             json={"eventId": event_id, "userId": user, "quantity": quantity})

    def reservations_of(self, user, token=None):
        r = requests.get(f"{self.url}/api/reservations/user/{requests.utils.quote(user, safe='')}",
                         headers={"Authorization": f"Bearer {token or self.token}"}, timeout=20)
        assert r.status_code == 200, f"{r.status_code} {r.text[:300]}"
        return r.json()["data"]["content"]


def restart_app(env, **overrides):
    """Stop the daemon (SIGQUIT to its master) and start it again through scripts/stack up,
    with BOXOFFICE_<KEY>=value for each key=value given (None: unset); waits for ready."""
    pid = int(Path(env["BOXOFFICE_APP_LAUNCH_PID_FILE"]).read_text().strip())
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if " Z " in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]:
                break
        except OSError:
            break
        time.sleep(0.1)
    child = dict(os.environ, BOXOFFICE_RUN_DIR=env["BOXOFFICE_RUN_DIR"])
    for key, value in overrides.items():
        child.pop("BOXOFFICE_" + key.upper(), None)
        if value is not None:
            child["BOXOFFICE_" + key.upper()] = str(value)
    r = subprocess.run([str(ROOT / "scripts/stack"), "up", "--port-base", env["BOXOFFICE_PORT_BASE"]],
                       env=child, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, f"scripts/stack up failed:\n{r.stdout}\n{r.stderr}"


@pytest.fixture
def jwt_mode(stack_env):
    """The daemon with auth_mode = jwt (the stack's HS256 key) for one test, then as before."""
    restart_app(stack_env, auth_mode="jwt")
    try:
        yield lambda user: subprocess.run(
            [str(ROOT / "scripts/mint-token"), user, "--run-dir", stack_env["BOXOFFICE_RUN_DIR"]],
            capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    finally:
        restart_app(stack_env, auth_mode=os.environ.get("BOXOFFICE_AUTH_MODE"))


@pytest.fixture(scope="session")
def stack_env():
    path = stacklib.stack_env_path()
    if not path.exists():
        pytest.exit(f"{path} not found: bring a stack up first (scripts/stack up)", returncode=2)
    env = stacklib.load_stack_env(path)
    r = requests.get(env["BOXOFFICE_URL"] + "/api/ready", timeout=20)
    assert r.status_code == 200, f"the stack is not ready: {r.status_code} {r.text[:300]}"
    return env


@pytest.fixture(scope="session")
def api(stack_env):
    return Api(stack_env)


@pytest.fixture(scope="session")
def base_url(stack_env):
    return stack_env["BOXOFFICE_URL"]


@pytest.fixture(scope="session")
def shots():
    d = Path(os.environ.get("BOXOFFICE_SCREENSHOT_DIR") or ROOT / "build/test-logs/browser")
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def tag():
    return uuid.uuid4().hex[:6]


@pytest.fixture
def browser(shots):
    """browser() starts one more Chromium (its own profile: another person); all stop after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    started = []

    def start():
        profile = tempfile.mkdtemp(prefix="bo-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS + [f"--user-data-dir={profile}"]:
            opts.add_argument(flag)
        logs = ROOT / "build/test-logs"
        logs.mkdir(parents=True, exist_ok=True)
        service = Service(executable_path=CHROMEDRIVER,
                          log_path=str(logs / f"chromedriver-{len(started)}.log"))
        driver = webdriver.Chrome(service=service, options=opts)
        started.append((driver, profile))
        driver.set_page_load_timeout(30)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        return driver

    yield start
    for driver, profile in started:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
