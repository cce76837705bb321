"""Benchmark: the call pipeline on PostgreSQL: importing call records from CSV, rolling them up into
hourly figures, and the Summary tabs that read those figures.

Run with `make bench` (or `.venv/bin/python tests/bench/bench_calls.py [--records N --customers N]`;
10,000,000 records for 1,000 customers by default: a few minutes, and about 3 GB of disk). It creates a
throw-away database, loads customers with COPY, has PostgreSQL write a CSV of N call records over
the last DAYS days (customer 1 busiest: a customer's share falls off like a big carrier's), then times
`import_csv` (records a second), a full roll-up from scratch, an incremental roll-up after 1,000
late records (records for hours already rolled up), and each Summary tab of the busiest customer
(median of 20 renders, in-process as bench_pages.py times pages).

With `--database NAME` (one filled by `seed-demo --scale large|huge`, kept) it imports N more records for its
first (busiest) customers into what it already holds, recomputes every hour of its days (`rollup(since)`: the
full roll-up over all its calls), then the late records, the incremental roll-up and the Summary tabs as above.
`--role` (default `granted`) runs the panel as an ordinary, non-superuser role: owner of its own throw-away
database, or reading and writing every table of a seeded one; `granted` adds `GRANT SET ON PARAMETER
session_replication_role`, which lets the importer check customers once per batch (panel/calls/loading.py).
`--imports K` imports K files of --records one after the other, each with the blocks of call_record's indexes
that had to be read into shared buffers (a cold first import, then a feed that goes on); `--only-import` stops there.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HEADER = "customer_id,call_id,start_time,destination,answered,duration,billed_duration,rate,cost,charge\n"
DAYS = 30
FRAMES = ("live", "daily", "weekly", "monthly")
STAFF = ("bench@example.com", "bench password 123")

# One CSV line per call, written by PostgreSQL (several times faster than Python here): customer
# 1 + ⌊customers·u²⌋ (customer 1 has about 3% of the calls), a start in the DAYS days before the
# current hour, 70% answered, billed per started minute, one of four rates, charge 1.5 × cost.
CALLS = """
COPY (
  SELECT 1 + floor({customers} * random() ^ 2)::int, '{prefix}' || i,
         replace((date_trunc('hour', now() AT TIME ZONE 'UTC') - interval '{days} days'
                  + make_interval(secs => floor(random() * {days} * 86400)))::text, ' ', 'T') || 'Z',
         '44' || lpad(floor(random() * 100000000)::int::text, 8, '0'),
         CASE WHEN answered THEN 'true' ELSE 'false' END, duration, billed, rate,
         round(billed * rate / 60, 4), round(billed * rate / 40, 4)
  FROM (SELECT i, answered, duration, (duration + 59) / 60 * 60 AS billed,
               (ARRAY[0.010000, 0.012500, 0.003000, 0.150000])[1 + floor(random() * 4)::int] AS rate
        FROM (SELECT i, answered, CASE WHEN answered THEN 1 + floor(random() * 1799)::int ELSE 0 END AS duration
              FROM (SELECT i, random() < 0.7 AS answered FROM generate_series({first}, {last}) AS i) AS calls
             ) AS timed
       ) AS billed
) TO STDOUT (FORMAT csv)
"""


def load_customers(url: str, customers: int) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY customer (id, name, status, currency, debit_limit, channel_limit, flow_speed, "
                      "channels_in_use, email, phone, address_line1, address_line2, city, region, postal_code, "
                      "country, created_at, updated_at) FROM STDIN") as copy:
            for i in range(1, customers + 1):
                copy.write_row((i, f"Customer {i}", "Active", "USD", 100, 30, 0, 0, "", "", "", "", "", "", "", "",
                                "2026-01-01", "2026-01-01"))
        cur.execute("SELECT setval('customer_id_seq', %s)", (customers,))
        cur.execute("ANALYZE customer")


def _write_part(url: str, path: str, first: int, last: int, customers: int, prefix: str, seed: float) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur, open(path, "wb") as out:
        cur.execute("SELECT setseed(%s)", (seed,))
        query = CALLS.format(customers=int(customers), prefix=prefix, days=DAYS, first=int(first), last=int(last))
        with cur.copy(query) as copy:
            for data in copy:
                out.write(data)


def write_csv(url: str, path: str, records: int, customers: int, prefix: str, seed: int, parts: int = 2) -> None:
    """`records` calls like a switch's export, in `parts` pieces written side by side (one core each),
    then joined after the header."""
    step = -(-records // parts)
    pieces = [(f"{path}.{k}", k * step, min(records, (k + 1) * step) - 1) for k in range(parts)]
    with ThreadPoolExecutor(parts) as pool:
        for future in [pool.submit(_write_part, url, piece, first, last, customers, prefix, (seed * parts + k) / 100)
                       for k, (piece, first, last) in enumerate(pieces)]:
            future.result()
    with open(path, "wb") as out:
        out.write(HEADER.encode())
        for piece, _, _ in pieces:
            with open(piece, "rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)
            os.unlink(piece)


def sign_in(app, email: str = STAFF[0]):
    """A test client signed in as a read-only staff user."""
    from panel import unit_of_work
    from panel.staff import create_staff_user

    with app.app_context():
        create_staff_user(email, STAFF[1], "readonly")
        unit_of_work.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"csrf_token": token, "email": email, "password": STAFF[1]})
    return client


def time_summary_tabs(app, customer: int, repeat: int = 20, email: str = STAFF[0]) -> list[tuple[str, float | None]]:
    """Median milliseconds of `repeat` renders of each Summary tab (GET /customers/<id>/summary?frame=…,
    the htmx fragment) for `customer`; None for every tab when the route is not there."""
    client = sign_in(app, email)
    headers = {"HX-Request": "true"}
    results = []
    for frame in FRAMES:
        url = f"/customers/{customer}/summary?frame={frame}"
        response = client.get(url, headers=headers)  # warm up
        if response.status_code == 404:
            return [(frame, None) for frame in FRAMES]
        assert response.status_code == 200, (url, response.status_code)
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        results.append((frame, statistics.median(samples)))
    return results


def index_blocks(url: str) -> tuple[int, int]:
    """Blocks of call_record's indexes (every partition) read into shared buffers, and found there, so far
    (statistics are flushed at a transaction's end: read them on a connection of their own)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return tuple(conn.execute(
            "SELECT coalesce(sum(idx_blks_read), 0)::bigint, coalesce(sum(idx_blks_hit), 0)::bigint "
            "FROM pg_statio_user_indexes WHERE relid IN "
            "(SELECT relid FROM pg_partition_tree('call_record') WHERE isleaf)").fetchone())


def print_results(args, results) -> None:
    print(f"\n| step ({args.customers:,} customers, role: {args.role}) | seconds | figure |\n|---|---:|---:|")
    for label, seconds, figure in results:
        print(f"| {label} | {seconds:.2f} | {figure} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--late", type=int, default=1_000)
    parser.add_argument("--imports", type=int, default=1,
                        help="files of --records imported one after another (the first after a seed reads the "
                             "indexes from disk; later ones are a feed that goes on)")
    parser.add_argument("--only-import", action="store_true", help="stop after the imports (no roll-ups, no tabs)")
    parser.add_argument("--workers", type=int, help="loader connections (default: the importer's)")
    parser.add_argument("--repeat", type=int, default=20, help="renders of each Summary tab")
    parser.add_argument("--database", help="a database seeded by seed-demo --scale large|huge (kept): import into "
                                           "it beside what it holds, recompute its roll-up, time its busiest customer")
    parser.add_argument("--days", type=int, default=DAYS, help="with --database: the days its calls cover")
    parser.add_argument("--role", choices=["granted", "ordinary", "superuser"], default="granted",
                        help="the panel's database role: an ordinary role owning the database, granted SET on "
                             "session_replication_role (granted) or not (ordinary), or the admin's superuser")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    name = args.database or f"panel_bench_calls_{run}"
    role = None if args.role == "superuser" else f"panel_bench_calls_{run}"
    admin = psycopg.connect(ADMIN_URL, autocommit=True)
    base = ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    if role:  # not a superuser: owns the database it migrates, as a production role does (or, on a database
        # seeded by the admin, may read and write every table)
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
        if args.role == "granted":
            admin.execute(f'GRANT SET ON PARAMETER session_replication_role TO "{role}"')
    if args.database:
        if role:
            admin.execute(f'GRANT pg_read_all_data, pg_write_all_data TO "{role}"')
            with psycopg.connect(url, autocommit=True) as seeded:
                seeded.execute(f'GRANT USAGE, CREATE ON SCHEMA public TO "{role}"')
    else:
        admin.execute(f'CREATE DATABASE "{name}"' + (f' OWNER "{role}"' if role else ""))
    if role:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{role}@{rest.split('@', 1)[-1]}"
    workdir = tempfile.mkdtemp(prefix="bench_calls_")
    try:
        os.environ["PANEL_INSTANCE_PATH"] = f"/tmp/{name}"
        from flask_migrate import upgrade

        from panel import create_app
        from panel.calls.importer import WORKERS, import_csv
        from panel.calls.rollup import rollup
        from panel.extensions import db

        app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                          "BCRYPT_ROUNDS": 4, "SECRET_KEY": "bench"})
        if args.database:  # seed-demo --scale large/huge: its busiest customers are the first ones
            with app.app_context():
                stored = db.session.scalar(db.text("SELECT count(*) FROM call_hour"))
                db.session.remove()
            print(f"{name}: {stored:,} customer-hours already rolled up")
        else:
            with app.app_context():
                upgrade()
            load_customers(url, args.customers)

        paths = [os.path.join(workdir, f"calls{k}.csv") for k in range(args.imports)]
        started = time.perf_counter()
        for k, path in enumerate(paths):
            write_csv(url, path, args.records, args.customers, f"c{run}-{k}-", seed=1 + 10 * k)
        print(f"wrote {args.imports} × {args.records:,} records ({os.path.getsize(paths[0]) / 1e6:,.0f} MB each) "
              f"in {time.perf_counter() - started:.1f} s")
        late = os.path.join(workdir, "late.csv")
        write_csv(url, late, args.late, args.customers, f"late{run}-", seed=2)

        workers = args.workers or WORKERS
        results = []
        with app.app_context():
            for k, path in enumerate(paths):
                before = index_blocks(f"{base}/{name}")
                report = import_csv(path, "bench", workers=workers)
                assert (report.inserted, report.duplicates, len(report.bad)) == (args.records, 0, 0), report
                read, hit = (now - then for now, then in zip(index_blocks(f"{base}/{name}"), before))
                nth = f" ({k + 1} of {args.imports})" if args.imports > 1 else ""
                results.append((f"import_csv, {args.records:,} records{nth}, {workers} connections; call_record "
                                f"index blocks read {read:,}, found in shared buffers {hit:,}", report.seconds,
                                f"{report.inserted / report.seconds:,.0f} records/s"))
            if args.only_import:
                print_results(args, results)
                return
            with db.engine.connect() as connection:  # fresh statistics, as autovacuum would have by now
                connection.execute(db.text("ANALYZE call_record"))
                connection.commit()
            if args.database:  # every hour of the data set's days again, as after a late file of all of them
                since = datetime.now(UTC) - timedelta(days=args.days + 1)
                full = rollup(since)
                results.append((f"full roll-up: every hour of the last {args.days + 1} days recomputed", full.seconds,
                                f"{full.hours:,} customer-hours"))
            else:
                full = rollup()
                results.append(("full roll-up from scratch", full.seconds, f"{full.hours:,} customer-hours"))
            late_report = import_csv(late, "bench", workers=workers)  # new calls in hours already rolled up
            assert late_report.inserted == args.late, late_report
            incremental = rollup()
            results.append((f"incremental roll-up after {args.late:,} late records", incremental.seconds,
                            f"{incremental.hours:,} customer-hours"))
            idle = rollup()
            results.append(("roll-up with nothing new", idle.seconds, f"{idle.hours:,} customer-hours"))
            busiest, calls = db.session.execute(db.text(
                "SELECT customer_id, sum(calls) FROM call_hour GROUP BY customer_id ORDER BY 2 DESC LIMIT 1")).one()
            db.session.remove()
        tabs = time_summary_tabs(app, busiest, args.repeat, f"bench-{run}@example.com")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

        print_results(args, results)
        print(f"\n| Summary tab of customer {busiest} ({calls:,} calls), htmx fragment | median ms of {args.repeat} |\n|---|---:|")
        for frame, median in tabs:
            print(f"| {frame} | {'route not there yet' if median is None else f'{median:.1f}'} |")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.database:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if role:
            if args.role == "granted":
                admin.execute(f'REVOKE SET ON PARAMETER session_replication_role FROM "{role}"')
            if args.database:
                for statement in (f'REVOKE pg_read_all_data, pg_write_all_data FROM "{role}"',
                                  f'DROP OWNED BY "{role}"'):
                    with psycopg.connect(f"{base}/{name}", autocommit=True) as seeded:
                        seeded.execute(statement)
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        admin.close()


if __name__ == "__main__":
    main()
