"""What every test tool shares about a running stack: its environment file and how an event is
created. tests/integration (conftest.py, openapi_check.py), tests/load/oversell and scripts/bench
all go through here.

As a command (for shell scripts):

    stacklib.py create-event --stack-env FILE --name NAME --seats N
                             [--max-per-request M] [--per-user-limit L] [--venue V] [--days D]

prints the new event's id, or exits 1 with the server's answer."""
import argparse
import os
import shlex
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def stack_env_path(run_dir=None):
    """$RUN/stack.env: run_dir, else $BOXOFFICE_RUN_DIR, else <repo>/run."""
    return Path(run_dir or os.environ.get("BOXOFFICE_RUN_DIR", ROOT / "run")) / "stack.env"


def load_stack_env(path=None):
    """The KEY='value' lines scripts/stack writes, as a dict (FileNotFoundError when absent)."""
    env = {}
    for line in Path(path or stack_env_path()).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        line = line[len("export "):] if line.startswith("export ") else line
        key, _, value = line.partition("=")
        parts = shlex.split(value) if value else [""]
        env[key.strip()] = parts[0] if parts else ""
    return env


def iso_in(days=30, minutes=0):
    """A future date as the API writes it (UTC, milliseconds, Z)."""
    dt = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days, minutes=minutes)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def event_body(**fields):
    """A valid POST /api/events body: 100 seats a day from now unless fields say otherwise."""
    body = {"eventName": f"test-{uuid.uuid4().hex[:10]}", "totalSeats": 100, "eventDate": iso_in(1)}
    body.update(fields)
    return body


def create_event(url, token, session=None, timeout=20, **fields):
    """POST /api/events as the admin; returns the requests.Response (the caller checks it)."""
    http = session or requests
    return http.post(url + "/api/events", json=event_body(**fields), timeout=timeout,
                     headers={"Authorization": f"Bearer {token}"})


def main(argv):
    p = argparse.ArgumentParser(prog="stacklib.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create-event")
    c.add_argument("--stack-env", default=None)
    c.add_argument("--name", required=True)
    c.add_argument("--seats", type=int, required=True)
    c.add_argument("--max-per-request", type=int, default=10)
    c.add_argument("--per-user-limit", type=int, default=10)
    c.add_argument("--venue", default=None)
    c.add_argument("--days", type=int, default=60)
    a = p.parse_args(argv)
    env = load_stack_env(a.stack_env)
    fields = {"eventName": a.name, "totalSeats": a.seats, "eventDate": iso_in(a.days),
              "maxPerRequest": a.max_per_request, "perUserLimit": a.per_user_limit}
    if a.venue is not None:
        fields["venue"] = a.venue
    r = create_event(env["BOXOFFICE_URL"], env["BOXOFFICE_ADMIN_TOKEN"], **fields)
    if r.status_code != 201:
        print(f"could not create event {a.name}: {r.status_code} {r.text[:300]}", file=sys.stderr)
        return 1
    print(r.json()["data"]["id"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
