#!/usr/bin/python3
"""Check that the nginx role's site template still matches the project's site.

ansible/roles/nginx/templates/boxoffice-site.conf.j2 is derived from
conf/nginx/boxoffice-site.conf (which scripts/stack renders for the local stack).
Both use the same variable names; they are rendered with the role's defaults and compared with
comments and blank lines removed. Usage: site_template_check.py REPO_ROOT
"""
import difflib
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


def main(root):
    with open(f"{root}/ansible/roles/nginx/defaults/main.yml", encoding="utf-8") as f:
        defaults = yaml.safe_load(f)
    socket = "/run/boxoffice/boxoffice.sock"
    role_values = dict(defaults, ansible_managed="managed", nginx_boxoffice_socket=socket)
    role = render(f"{root}/ansible/roles/nginx/templates/boxoffice-site.conf.j2", role_values)
    project = render(f"{root}/conf/nginx/boxoffice-site.conf", role_values)
    if role == project:
        print(f"  identical after rendering ({len(role)} directive lines)")
        return 0
    sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(
        project, role, "conf/nginx/boxoffice-site.conf", "roles/nginx/templates/boxoffice-site.conf.j2",
        lineterm=""))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
