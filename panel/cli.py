"""The `flask --app wsgi ...` commands: seed-demo, create-staff, worker, audit-verify, create-api-token,
import-cdrs, rollup, call-partitions, backup, restore, db-ready."""
import os
import sys
import time

import click
import sqlalchemy as sa
from flask import Flask

from panel import unit_of_work
from panel.api.tokens import issue_token
from panel.audit.chain import verify_chain
from panel.backup import BackupError, backup, restore
from panel.calls.importer import CsvError, import_csv, parse_time
from panel.calls import partitions
from panel.calls.rollup import rollup
from panel.extensions import db
from panel.seed import seed_demo_data
from panel.seed_large import SCALES, SeedRefused, seed_large
from panel.staff import StaffError, create_staff_user
from panel.worker import run


def register(app: Flask) -> None:
    @app.cli.command("create-staff")
    @click.argument("email")
    @click.option("--role", type=click.Choice(["admin", "staff", "readonly"]), default="staff", show_default=True)
    @click.option("--name", default="", help="Display name.")
    def create_staff(email: str, role: str, name: str):
        """Create a staff user; the password comes from PANEL_PASSWORD, else a prompt."""
        password = os.environ.get("PANEL_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        try:
            with unit_of_work.unit():
                user = create_staff_user(email, password, role, name)
        except StaffError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Created {user.role} {user.email}.")

    @app.cli.command("seed-demo")
    @click.option("--scale", type=click.Choice(["small", "large", "huge"]), default="small", show_default=True,
                  help="small: 50 demo customers with traffic. large (PostgreSQL, empty database): 100,000 "
                       "customers, 1,000,000 contacts, 10,000,000 call records, 1,000,000 audit entries. huge "
                       "(benchmarks only): ten times that.")
    def seed_demo(scale: str):
        """Load demo data (customers in every status, contacts, ledger entries, an admin) once."""
        if scale in SCALES:
            try:
                click.echo(seed_large(app.instance_path, echo=click.echo, **SCALES[scale]))
            except SeedRefused as error:
                raise click.ClickException(str(error)) from None
            return
        result = seed_demo_data(app.instance_path)  # in units of work of its own
        click.echo(result)

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run one pass over due work and exit.")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
    def worker(once: bool, interval: float):
        """Apply due work: delayed saves, roll-ups, scheduled invoices (as later issues add them)."""
        run(once=once, interval=interval, echo=click.echo)

    @app.cli.command("audit-verify")
    def audit_verify():
        """Check the audit log's hash chain; exit 1 if an entry was changed or removed. It reads the log in
        batches by id (constant memory) and says how fast it went."""
        started = time.monotonic()
        with db.engine.connect() as connection:
            report = verify_chain(connection)
        took = time.monotonic() - started
        if report.intact:
            click.echo(f"Audit chain intact: {report.checked:,} entries checked in {took:.1f} s "
                       f"({report.checked / took if took else 0:,.0f} entries/s).")
        else:
            click.echo(f"Audit chain BROKEN at entry {report.broken_at}: {report.reason} "
                       f"({report.checked} entries before it are intact).")
            sys.exit(1)

    @app.cli.command("create-api-token")
    @click.argument("name")
    @click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(["channels", "invoices", "cdrs", "calls"]))
    def create_api_token(name: str, scopes: tuple[str, ...]):
        """Issue a bearer token for a machine client; it is printed once and stored only as a digest."""
        with unit_of_work.unit():
            token = issue_token(name, list(scopes))
        click.echo(token)

    @app.cli.command("import-cdrs")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--source", default="csv", show_default=True,
                  help="Name of the switch the records come from; call ids are unique per source.")
    def import_cdrs(file: str, source: str):
        """Import call records from a CSV file; a record already stored is skipped, bad rows are listed."""
        try:
            size = os.path.getsize(file)
        except OSError as error:
            click.echo(f"Cannot read {file}: {error.strerror or error}", err=True)
            sys.exit(1)
        started = time.monotonic()
        try:
            with click.progressbar(length=size, label=f"Importing {os.path.basename(file)}",
                                   item_show_func=lambda text: text) as bar:
                def progress(p):
                    rate = p.read / p.seconds if p.seconds else 0
                    bar.update(max(0, (p.bytes_read or 0) - bar.pos), current_item=f"{p.read:,} records, {rate:,.0f}/s")

                report = import_csv(file, source, progress=progress)
        except OSError as error:
            click.echo(f"Cannot read {file}: {error.strerror or error}", err=True)
            sys.exit(1)
        except CsvError as error:
            click.echo(f"Cannot import {file}: {error}", err=True)
            if error.report is not None and error.report.read:
                click.echo(f"Before that: {error.report.inserted:,} inserted, {error.report.duplicates:,} duplicates, "
                           f"{len(error.report.bad):,} bad.", err=True)
            sys.exit(1)
        except ValueError as error:  # a bad --source
            raise click.BadParameter(str(error), param_hint="--source") from None
        for line, message in report.bad[:20]:
            click.echo(f"  line {line}: {message}")
        if len(report.bad) > 20:
            click.echo(f"  ... and {len(report.bad) - 20:,} more bad rows")
        seconds = time.monotonic() - started
        rate = report.read / seconds if seconds else 0
        click.echo(f"{report.read:,} records read in {seconds:.1f} s ({rate:,.0f}/s): {report.inserted:,} inserted, "
                   f"{report.duplicates:,} duplicates, {len(report.bad):,} bad.")

    @app.cli.command("rollup")
    @click.option("--since", help="Also recompute every hour from this UTC date-time (ISO 8601; naive means UTC).")
    def rollup_command(since: str | None):
        """Recompute the hourly call summaries that new or late call records touched."""
        when = None
        if since:
            try:
                when = parse_time(since)
            except ValueError as error:
                raise click.BadParameter(str(error), param_hint="--since") from None
        with unit_of_work.unit():
            report = rollup(when)
        click.echo(f"Roll-up done: {report.hours:,} customer-hours recomputed in {report.seconds:.2f} s.")

    @app.cli.command("call-partitions")
    @click.option("--ahead", default=partitions.MONTHS_AHEAD, show_default=True,
                  help="Make this month's partition and this many after it where missing.")
    @click.option("--apply-retention", "retention", is_flag=True,
                  help="Drop the partitions older than the retention setting (Settings → Options).")
    @click.option("--keep", type=click.IntRange(1, partitions.MAX_RETENTION),
                  help="With --apply-retention: months to keep instead of the setting.")
    def call_partitions(ahead: int, retention: bool, keep: int | None):
        """Show call_record's monthly partitions (PostgreSQL), make the coming ones, apply retention."""
        from panel import actor as actors
        with unit_of_work.unit():
            connection = db.session.connection()
            if not partitions.is_partitioned(connection):
                click.echo("call_record is one table here (SQLite): nothing to partition.")
                return
            made = partitions.make_ahead(connection, ahead) + partitions.adopt_default(connection)
            for name in made:
                click.echo(f"made {name}")
            if retention:
                if keep is None and partitions.retention_months() is None:
                    click.echo("Retention: keep every month (set call_record_retention_months on Settings → Options, "
                               "or give --keep).")
                else:
                    done = partitions.apply_retention(actors.SYSTEM, keep)
                    for name in done.dropped:
                        click.echo(f"dropped {name}")
                    for name in done.waiting:
                        click.echo(f"kept {name} until the roll-up has seen its records")
            listed = partitions.listing(connection)
        click.echo(f"{'month':<8} {'partition':<24} {'rows (estimate)':>16} {'size':>10}")
        for p in listed:
            month = f"{p.month:%Y-%m}" if p.month else "default"
            rows = f"{p.rows:,}" if p.rows >= 0 else "not analysed"
            click.echo(f"{month:<8} {p.name:<24} {rows:>16} {p.bytes / 1048576:>8.1f} MB")
        kept = partitions.retention_months()
        click.echo(f"Retention: {f'{kept} months before the current one' if kept else 'keep every month'}.")

    @app.cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False))
    def backup_command(file: str):
        """Back up the database while the panel runs (SQLite online backup, or pg_dump)."""
        try:
            click.echo(backup(app.config["SQLALCHEMY_DATABASE_URI"], file))
        except BackupError as error:
            raise click.ClickException(str(error)) from None

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(file: str, yes: bool):
        """Replace the database with a backup made by `backup` (SQLite, or pg_restore)."""
        if not yes:
            click.confirm("This replaces everything in the database with the backup. Continue?", abort=True)
        db.session.remove()
        db.engine.dispose()  # no pooled connection keeps the old database open
        try:
            click.echo(restore(app.config["SQLALCHEMY_DATABASE_URI"], file))
        except BackupError as error:
            raise click.ClickException(str(error)) from None

    @app.cli.command("db-ready")
    def db_ready():
        """Exit 0 if the database answers and is migrated to the latest revision."""
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        click.echo("database ready")
