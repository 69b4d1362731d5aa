#!/usr/bin/python3
"""Check that the nginx role's site template still matches the project's site.

ansible/roles/nginx/templates/boxoffice-site.conf.j2 is derived from
conf/nginx/boxoffice-site.conf (which scripts/stack renders for the local stack).
Both use the same variable names; they are rendered with the role's defaults and compared with
comments and blank lines removed. The in-flight limits the role derives from the daemon's config
must also be those of scripts/lib/nginx-limits.sh (the local stack's formula) for every config.
Usage: site_template_check.py REPO_ROOT
"""
import difflib
import subprocess
import sys

import jinja2
import yaml


def render(path, values):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["bool"] = lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")
    with open(path, encoding="utf-8") as f:
        text = env.from_string(f.read()).render(**values)
    return [line.rstrip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


LIMIT_INPUTS = ("nginx_boxoffice_", "nginx_somaxconn", "nginx_api_")


def role_limits(defaults, workers, backlog, somaxconn):
    """The role's in-flight limits (its Jinja defaults, rendered as Ansible would) for a node
    whose boxoffice role has these workers and listen_backlog, and whose common role sets
    this somaxconn."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    values = dict(defaults, boxoffice_workers=workers, boxoffice_listen_backlog=backlog,
                  common_sysctl={"net.core.somaxconn": somaxconn})
    names = ("nginx_api_max_inflight", "nginx_api_max_inflight_reads", "nginx_api_max_inflight_ops",
             "nginx_api_max_inflight_admitted")
    for _ in range(5):   # defaults refer to defaults: render until nothing is left to render
        for key, value in list(values.items()):
            if isinstance(value, str) and "{{" in value and key.startswith(LIMIT_INPUTS):
                values[key] = env.from_string(value).render(**values).strip()
    return tuple(int(values[n]) for n in names)


def limits_agree(root, defaults):
    """scripts/lib/nginx-limits.sh (the local stack's formula) and the role's defaults must give
    the same limits for every daemon config."""
    grid = [(w, b, m) for w in (1, 2, 4, 8, 16, 24, 64, 200) for b in (64, 128, 1024, 4096, 16384)
            for m in (128, 4096, 65535)]
    script = f". '{root}/scripts/lib/nginx-limits.sh'\n" + "".join(
        f"bo_nginx_limits {w} {b} {m}\n" for w, b, m in grid)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    bad = []
    for (w, b, m), line in zip(grid, out.splitlines()):
        sh = tuple(int(x) for x in line.split())
        role = role_limits(defaults, w, b, m)
        if sh != role:
            bad.append(f"  workers={w} listen_backlog={b} somaxconn={m}: scripts/lib/nginx-limits.sh {sh}, "
                       f"roles/nginx/defaults {role}")
    if bad:
        print("the in-flight limits differ between the local stack and the nginx role:")
        print("\n".join(bad))
        return 1
    print(f"  in-flight limits agree with scripts/lib/nginx-limits.sh ({len(grid)} daemon configs)")
    return 0


def main(root):
    with open(f"{root}/ansible/roles/nginx/defaults/main.yml", encoding="utf-8") as f:
        defaults = yaml.safe_load(f)
    socket = "/run/boxoffice/boxoffice.sock"
    role_values = dict(defaults, ansible_managed="managed", nginx_boxoffice_socket=socket)
    role = render(f"{root}/ansible/roles/nginx/templates/boxoffice-site.conf.j2", role_values)
    project = render(f"{root}/conf/nginx/boxoffice-site.conf", role_values)
    if role == project:
        print(f"  identical after rendering ({len(role)} directive lines)")
        return limits_agree(root, defaults)
    sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
        project, role, "conf/nginx/boxoffice-site.conf", "roles/nginx/templates/boxoffice-site.conf.j2",
        lineterm=""))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
