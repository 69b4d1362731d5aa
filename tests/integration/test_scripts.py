"""scripts/migrate and scripts/stack, against the stack under test."""
import os
import re
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

MIGRATE = str(ROOT / "scripts/migrate")


def _db_env(stack, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    for k in ("BOXOFFICE_MYSQL_SOCKET", "BOXOFFICE_MYSQL_USER", "BOXOFFICE_MYSQL_PASSWORD",
              "BOXOFFICE_MYSQL_DB"):
        env[k] = stack.env[k]
    env.update(extra)
    return env


def _sql(stack, query):
    env = _db_env(stack)
    env["MYSQL_PWD"] = stack.env["BOXOFFICE_MYSQL_PASSWORD"]
    r = subprocess.run(["mariadb", "--no-defaults", "--batch", "--skip-column-names",
                        f"--socket={stack.env['BOXOFFICE_MYSQL_SOCKET']}",
                        f"--user={stack.env['BOXOFFICE_MYSQL_USER']}", stack.env["BOXOFFICE_MYSQL_DB"],
                        "-e", query], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_every_migration_is_installed():
    """The installed tree's migrations are the ones Makefile.am lists: a file left out of
    dist_migrations_DATA is never applied in production (007 was, once: the release's daemon
    then called a procedure that did not exist)."""
    am = (ROOT / "Makefile.am").read_text()
    block = am.split("dist_migrations_DATA =", 1)[1].split("\n\n", 1)[0]
    listed = sorted(re.findall(r"sql/migrations/(\S+\.sql)", block))
    assert listed == sorted(p.name for p in (ROOT / "sql/migrations").glob("*.sql")), listed


def test_migrate_twice_applies_nothing(stack):
    r = subprocess.run([MIGRATE], env=_db_env(stack), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "nothing to do" in r.stdout, r.stdout
    rows = _sql(stack, "SELECT version, name, LENGTH(checksum) FROM schema_migrations ORDER BY version")
    assert rows.splitlines()[0].split("\t") == ["1", "database_defaults_app_meta", "64"], rows
    assert _sql(stack, "SELECT meta_value FROM app_meta WHERE meta_key='app'").strip() == "boxoffice"


def test_migrate_refuses_a_changed_migration(stack, tmp_path):
    d = tmp_path / "migrations"
    shutil.copytree(ROOT / "sql/migrations", d)
    first = sorted(d.glob("001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited after it was applied\n")
    r = subprocess.run([MIGRATE, "--dir", str(d)], env=_db_env(stack), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0
    assert "changed after it was applied" in r.stderr, r.stderr


def test_concurrent_migrate_runs_apply_once(stack, tmp_path):
    d = tmp_path / "migrations"
    shutil.copytree(ROOT / "sql/migrations", d)
    (d / "900_itest_concurrency.sql").write_text(
        "CREATE TABLE itest_concurrency (id INT PRIMARY KEY) ENGINE=InnoDB;\n"
        "INSERT INTO itest_concurrency VALUES (1);\n"
        "DO SLEEP(1);\n")
    try:
        procs = [subprocess.Popen([MIGRATE, "--dir", str(d)], env=_db_env(stack), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        applied = sum("applying 900_itest_concurrency.sql" in o for o, _ in outs)
        assert applied == 1, outs
        assert sum("nothing to do" in o for o, _ in outs) == 2, outs
        assert _sql(stack, "SELECT COUNT(*) FROM itest_concurrency").strip() == "1"
    finally:
        _sql(stack, "DROP TABLE IF EXISTS itest_concurrency; DELETE FROM schema_migrations WHERE version = 900")


def test_stack_up_again_is_a_noop(stack):
    pids = {k: Path(stack.env[k]).read_text().strip() for k in
            ("BOXOFFICE_MYSQL_PID_FILE", "BOXOFFICE_REDIS_PID_FILE", "BOXOFFICE_APP_LAUNCH_PID_FILE",
             "BOXOFFICE_NGINX_PID_FILE")}
    stack.up()
    after = {k: Path(stack.env[k]).read_text().strip() for k in pids}
    assert after == pids
    env = dict(os.environ, BOXOFFICE_RUN_DIR=stack.run_dir)
    r = subprocess.run([str(ROOT / "scripts/stack"), "status"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("mysql", "redis", "app", "nginx"):
        assert f"{name}" in r.stdout and "stopped" not in r.stdout, r.stdout


def test_stack_env_has_the_contract_keys(stack):
    for key in ("BOXOFFICE_URL", "BOXOFFICE_ADMIN_TOKEN", "BOXOFFICE_MYSQL_SOCKET", "BOXOFFICE_MYSQL_DB",
                "BOXOFFICE_MYSQL_USER", "BOXOFFICE_MYSQL_PASSWORD", "BOXOFFICE_REDIS_PORT",
                "BOXOFFICE_RUN_DIR", "BOXOFFICE_APP_PID_FILE", "BOXOFFICE_APP_CONF"):
        assert stack.env.get(key), key
    assert not stack.env["BOXOFFICE_URL"].endswith("/api")
    mode = os.stat(Path(stack.run_dir) / "stack.env").st_mode & 0o777
    assert mode == 0o600, oct(mode)
