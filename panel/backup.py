"""Backing up and restoring the panel's database.

SQLite: SQLite's online backup API copies the live database page by page while the panel keeps
serving (readers and writers just wait for a moment), and restore copies a backup back the same
way. PostgreSQL: pg_dump in its custom format and pg_restore (`--clean --if-exists`), which must be
on the PATH; both take a consistent snapshot of a running database.
"""
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why, for the operator."""


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _libpq_url(url) -> str:
    """The URL pg_dump and pg_restore understand: without the SQLAlchemy driver name."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return path


def backup(database_url: str, target: str) -> str:
    """Write a backup of the database at `database_url` to `target`; returns a one-line report."""
    url = make_url(database_url)
    target_path = Path(target)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        destination = sqlite3.connect(target_path)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target_path}", _libpq_url(url)])
    else:
        raise BackupError(f"No backup method for {url.get_backend_name()}.")
    return f"Backup written to {target_path} ({target_path.stat().st_size:,} bytes)."


def restore(database_url: str, source: str) -> str:
    """Replace the database at `database_url` with the backup `source`; returns a one-line report."""
    url = make_url(database_url)
    source_path = Path(source)
    if not source_path.is_file():
        raise BackupError(f"There is no backup file at {source_path}.")
    if url.get_backend_name() == "sqlite":
        backup_db = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        try:
            _check_sqlite_backup(backup_db)
            destination = sqlite3.connect(_sqlite_path(url), timeout=30)
            try:
                with destination:
                    backup_db.backup(destination)
            finally:
                destination.close()
        finally:
            backup_db.close()
    elif url.get_backend_name() == "postgresql":
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(url)}", str(source_path)])
    else:
        raise BackupError(f"No restore method for {url.get_backend_name()}.")
    return f"Restored from {source_path}."


def _check_sqlite_backup(connection) -> None:
    """Refuse a file that is not a sound panel database before it overwrites the live one."""
    try:
        ok = connection.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"That file is not an SQLite database: {error}.") from None
    if ok != "ok":
        raise BackupError(f"The backup is damaged: {ok}.")
    if not {"alembic_version", "customer", "audit_entry"} <= tables:
        raise BackupError("That file is not a backup of this panel.")


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(message[-1] if message else f"{Path(command[0]).name} failed ({result.returncode}).")
