"""Benchmark: the huge data set end to end (`make bench-huge`; hours, and tens of GB of disk).

`.venv/bin/python tests/bench/bench_huge.py [--database NAME] [--scale huge|large]` fills NAME (default
panel_bench_huge) with `seed-demo --scale huge` unless it already holds a seeded set, then runs on it:

1. `bench_load.py --database NAME`: every page (lists at page 1 and at their last page, searches, the Main tab,
   the Summary tabs of the busiest customer, the API, an htmx save) under locust, beside the baseline route;
2. `bench_calls.py --database NAME`: an import of --records more call records as an ordinary role, the roll-up
   of every hour of the set's days (all its calls), the incremental roll-up after late records, the Summary tabs;
3. `flask audit-verify` over the whole chain, with its peak resident memory beside the same command's over an
   empty log.

The database is kept for further runs; `dropdb -h 127.0.0.1 -U postgres NAME` gives its disk back.

`--server tuned` runs all of it on a PostgreSQL server of its own (tests/bench/bench_server.py: the machine's
binaries, a cluster kept in --data-dir, settings for a data set larger than memory) instead of the machine's server
with Debian's defaults; `rm -rf` of the data directory gives its disk back. `--steps` picks the benchmarks to run.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def run(command: list[str], env: dict | None = None) -> tuple[float, int]:
    """Run `command` (its output passes through); its seconds and peak resident size in MB."""
    print("$", " ".join(command), flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{command[1]} exited with {process.returncode}")
    return time.monotonic() - started, usage.ru_maxrss // 1024


def seeded(url: str) -> bool:
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT EXISTS (SELECT FROM call_hour)").fetchone()[0]
    except psycopg.Error:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="panel_bench_huge")
    parser.add_argument("--scale", choices=["huge", "large"], default="huge")
    parser.add_argument("--records", type=int, default=2_000_000, help="call records bench_calls imports")
    parser.add_argument("--seconds", type=float, default=60, help="bench_load's measured run")
    parser.add_argument("--server", choices=["machine", "tuned"], default="machine",
                        help="the machine's PostgreSQL (TEST_PG_ADMIN_URL), or one of the benchmark's own (bench_server)")
    parser.add_argument("--data-dir", default="/var/tmp/panel-bench-pg", help="with --server tuned: its cluster")
    parser.add_argument("--steps", default="load,calls,verify", help="which of load, calls, verify to run, in order")
    args = parser.parse_args()
    steps = args.steps.split(",")
    if unknown := set(steps) - {"load", "calls", "verify"}:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    admin_url, server = ADMIN_URL, None
    if args.server == "tuned":
        from tests.bench.bench_server import BenchServer

        server = BenchServer(args.data_dir)
        admin_url = server.start()
        os.environ["TEST_PG_ADMIN_URL"] = admin_url  # bench_load and bench_calls connect through it
        print(f"PostgreSQL of the benchmark's own on {admin_url}: {server.describe()}", flush=True)
    try:
        _bench(args, steps, admin_url)
    finally:
        if server is not None:
            server.stop()


def _bench(args, steps: list[str], admin_url: str) -> None:
    url = f"{admin_url.rsplit('/', 1)[0]}/{args.database}"
    flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
    env = {"DATABASE_URL": url, "PANEL_INSTANCE_PATH": f"/tmp/{args.database}"}
    from panel.seed_large import SCALES

    if not seeded(url):
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{args.database}"')
        run(flask + ["db", "upgrade"], env)
        took, _ = run(flask + ["seed-demo", "--scale", args.scale], env)
        print(f"seed-demo --scale {args.scale}: {took / 60:.1f} min")
    for step in steps:
        # Each step starts on clean buffers: the seed or the step before left gigabytes of dirty pages, and the
        # checkpoint writing them out in the background would be timed with the step.
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("CHECKPOINT")
        if step == "load":
            run([PYTHON, "tests/bench/bench_load.py", "--database", args.database, "--seconds", str(args.seconds)])
        elif step == "calls":
            run([PYTHON, "tests/bench/bench_calls.py", "--database", args.database, "--records", str(args.records),
                 "--customers", str(SCALES[args.scale]["busy"])])
        else:
            audit_verify(args, flask, env)


def audit_verify(args, flask: list[str], env: dict) -> None:
    took, peak = run(flask + ["audit-verify"], env)
    empty = f"sqlite:////tmp/{args.database}-empty.db"
    Path(empty.removeprefix("sqlite:///")).unlink(missing_ok=True)
    run(flask + ["db", "upgrade"], {**env, "DATABASE_URL": empty})
    _, baseline = run(flask + ["audit-verify"], {**env, "DATABASE_URL": empty})
    print(f"\naudit-verify: {took:.0f} s, peak resident {peak} MB (the same command over an empty log: {baseline} MB)")


if __name__ == "__main__":
    main()
