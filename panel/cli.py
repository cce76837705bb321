"""The `flask --app wsgi ...` commands: seed-demo, create-staff, worker, audit-verify, create-api-token."""
import os
import sys

import click
import sqlalchemy as sa
from flask import Flask

from panel.extensions import db


def register(app: Flask) -> None:
    @app.cli.command("create-staff")
    @click.argument("email")
    @click.option("--role", type=click.Choice(["admin", "staff", "readonly"]), default="staff", show_default=True)
    @click.option("--name", default="", help="Display name.")
    def create_staff(email: str, role: str, name: str):
        """Create a staff user; the password comes from PANEL_PASSWORD, else a prompt."""
        from panel.staff import StaffError, create_staff_user

        password = os.environ.get("PANEL_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        try:
            user = create_staff_user(email, password, role, name)
        except StaffError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Created {user.role} {user.email}.")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Load demo data (customers in every status, contacts, ledger entries, an admin) once."""
        from panel.seed import seed_demo_data

        result = seed_demo_data(app.instance_path)
        click.echo(result)

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run one pass over due work and exit.")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
    def worker(once: bool, interval: float):
        """Apply due work: delayed saves, roll-ups, scheduled invoices (as later issues add them)."""
        from panel.worker import run

        run(once=once, interval=interval, echo=click.echo)

    @app.cli.command("audit-verify")
    def audit_verify():
        """Check the audit log's hash chain; exit 1 if an entry was changed or removed."""
        from panel.audit.chain import verify_chain

        with db.engine.connect() as connection:
            report = verify_chain(connection)
        if report.intact:
            click.echo(f"Audit chain intact: {report.checked} entries checked.")
        else:
            click.echo(f"Audit chain BROKEN at entry {report.broken_at}: {report.reason} "
                       f"({report.checked} entries before it are intact).")
            sys.exit(1)

    @app.cli.command("create-api-token")
    @click.argument("name")
    @click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(["channels", "invoices"]))
    def create_api_token(name: str, scopes: tuple[str, ...]):
        """Issue a bearer token for a machine client; it is printed once and stored only as a digest."""
        from panel.api.tokens import issue_token

        token = issue_token(name, list(scopes))
        click.echo(token)

    @app.cli.command("db-ready")
    def db_ready():
        """Exit 0 if the database answers and is migrated to the latest revision."""
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        click.echo("database ready")
