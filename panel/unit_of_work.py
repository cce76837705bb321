"""The unit of work: the one place that commits or rolls back, and runs what must follow a commit.

A request is one unit of work. Its answer decides its fate: an answer below 400 commits, anything else
(a refused form, a 404, an error page, an exception) rolls back, so the database holds the whole
change or none of it. A command, a worker job, or a batch inside one, is a unit of its own:

    with unit_of_work.unit():
        import_batch(rows)            # flushes; never commits

Domain functions flush when they need ids and never commit. Work that must follow the commit
(delivering the mail a change queued) is registered with `after_commit` and runs once the commit
has succeeded, never after a rollback. Two deliberate exceptions, both named here:

- `keep_on_refusal()`: a request whose refusal is itself the record (a failed sign-in counted for
  throttling) commits although it answers 4xx. Whatever it wrote before refusing is kept, so call it
  only where the refusal wrote nothing else.
- `complete()`: a route that must tell the user what happened after the commit (the e-mail went, or
  will go when the mail server answers) ends its unit of work early; the end of the request then finds
  nothing left to commit.

Work that must see the whole unit's changes and still belong to them (a payment receipt listing what the
payment was allocated to later in the same request) is registered with `before_commit`: it runs inside the
transaction just before the commit, and is dropped with a rollback.

`db.session.commit()` and `.rollback()` appear in this module and nowhere else in panel/ (the bulk
seeding commands aside, which load on raw connections).
"""
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, request

from panel.extensions import db

_HOOKS = "after_commit"
_BEFORE = "before_commit"


def after_commit(hook: Callable[[], Any]) -> None:
    """Run `hook` once the current transaction has committed; dropped if it rolls back."""
    db.session.info.setdefault(_HOOKS, []).append(hook)


def before_commit(hook: Callable[[], Any]) -> None:
    """Run `hook` in the current transaction just before it commits (what it writes commits with it); dropped
    if the transaction rolls back instead."""
    db.session.info.setdefault(_BEFORE, []).append(hook)


def keep_on_refusal() -> None:
    """This request commits even if it answers 4xx: the refusal is the record (see the module docstring)."""
    g._uow_keep = True


def has_changes() -> bool:
    session = db.session
    return bool(session.new or session.deleted or any(session.is_modified(o) for o in session.dirty))


def commit() -> None:
    """Commit the session's transaction, then run the after-commit hooks in the order they were added.
    A hook that registers further hooks (a delivery that queues more) has them run too. The before-commit
    hooks run first, in the transaction."""
    while True:
        before = db.session.info.pop(_BEFORE, None)
        if not before:
            break
        for hook in before:
            hook()
    db.session.commit()
    while True:
        hooks = db.session.info.pop(_HOOKS, None)
        if not hooks:
            return
        for hook in hooks:
            hook()


def rollback() -> None:
    db.session.info.pop(_BEFORE, None)
    db.session.info.pop(_HOOKS, None)
    db.session.rollback()


def discard() -> None:
    """Roll back and give the connection back to the pool without using it again: for a connection that
    went away (or may have), whose rollback would fail and log a traceback of its own."""
    db.session.info.pop(_BEFORE, None)
    db.session.info.pop(_HOOKS, None)
    try:
        db.session().invalidate()  # scoped_session does not pass invalidate() on
    except Exception:  # noqa: BLE001 - the pool checks the connection on next use anyway
        db.session.close()


def end_read() -> None:
    """End a read-only transaction now (a long export releases its snapshot and server-side cursor)."""
    if has_changes():
        raise RuntimeError("end_read() on a session with changes: they belong to a unit of work")
    rollback()


def writing() -> None:
    """This GET writes (an enrolment page keeps the secret it shows): end what it read so far and go on as a
    writer. On SQLite a read that turns into a write fails at once, without waiting, when another request
    committed since the read began; a writer's transaction (BEGIN IMMEDIATE, panel/__init__.py) waits its
    turn instead. On PostgreSQL it only ends the read."""
    g._uow_writing = True
    end_read()


def writes() -> bool:
    """Whether this request's transactions begin as a writer's (anything but GET and HEAD, or `writing()`)."""
    return request.method not in ("GET", "HEAD") or g.get("_uow_writing", False)


def complete() -> None:
    """End the request's unit of work early, so the route can report what happened after the commit."""
    commit()


@contextmanager
def unit() -> Iterator[None]:
    """One unit of work outside a request's own (a command, a job, one batch of a longer job): commits
    on a clean exit, rolls back on an exception. It refuses to start on a session holding changes made
    outside it, which would otherwise be committed with it by accident."""
    if has_changes():
        raise RuntimeError("a unit of work started over uncommitted changes: end the one before first")
    try:
        yield
    except BaseException:
        rollback()
        raise
    commit()


def install(app: Flask) -> None:
    """Commit or roll back at the end of every request. Installed after the app's other after_request
    functions, so it runs before them (Flask runs them last-registered first): an answer that replaces
    a failed commit still gets the security headers."""

    @app.after_request
    def end_of_request(response):
        keep = g.pop("_uow_keep", False)
        if response.status_code >= 400 and not keep:
            rollback()
            return response
        try:
            commit()
        except Exception as error:  # noqa: BLE001 - answered by the app's own handler (503 for the database)
            rollback()
            return current_app.make_response(current_app.handle_user_exception(error))
        return response

    @app.teardown_request
    def drop_hooks(error=None):
        # An exception that escaped every handler: nothing committed, so nothing follows.
        if error is not None:
            rollback()
