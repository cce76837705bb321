"""The unit of work: a request's answer decides whether its changes are kept, commands and jobs commit
once, and what must follow a commit runs only after one."""
import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import abort

from panel import access, create_app, unit_of_work
from panel.customers.models import Customer
from panel.extensions import db

PANEL = Path(__file__).resolve().parent.parent / "panel"


def _names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Customer.name).order_by(Customer.id)))


@pytest.fixture
def own_app(app):
    """An app of its own on the test's database, so routes can be added before its first request (on
    PostgreSQL the suite's app is shared and has served requests already)."""
    fresh = create_app(dict(app.config))
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def writing_routes(own_app, monkeypatch):
    """Routes that add a customer and then answer in various ways (GETs, so no CSRF token is needed)."""
    app = own_app
    done = []

    def add(name):
        db.session.add(Customer(name=name, status="Active", currency="USD"))
        db.session.flush()
        unit_of_work.after_commit(lambda: done.append(name))

    def ok():
        add("kept")
        return "ok"

    def refused():
        add("refused")
        return "no", 422

    def missing():
        add("missing")
        abort(404)

    def broken():
        add("broken")
        raise RuntimeError("a bug")

    def recorded_refusal():
        add("recorded")
        unit_of_work.keep_on_refusal()
        return "no", 429

    for view in (ok, refused, missing, broken, recorded_refusal):
        app.add_url_rule(f"/_uow/{view.__name__}", view.__name__, view)
    monkeypatch.setattr(access, "PUBLIC_ENDPOINTS", access.PUBLIC_ENDPOINTS | {
        "ok", "refused", "missing", "broken", "recorded_refusal"})
    return done


def test_a_request_that_succeeds_commits_and_then_runs_its_after_commit_work(own_app, writing_routes):
    assert own_app.test_client().get("/_uow/ok").status_code == 200
    assert _names(own_app) == ["kept"]
    assert writing_routes == ["kept"]


@pytest.mark.parametrize("route, status", [("refused", 422), ("missing", 404), ("broken", 500)])
def test_a_refused_or_failed_request_keeps_nothing_and_runs_no_after_commit_work(own_app, writing_routes, route,
                                                                                 status):
    assert own_app.test_client().get(f"/_uow/{route}").status_code == status
    assert _names(own_app) == []
    assert writing_routes == []


def test_a_refusal_that_is_its_own_record_is_kept(own_app, writing_routes):
    assert own_app.test_client().get("/_uow/recorded_refusal").status_code == 429
    assert _names(own_app) == ["recorded"]


def test_a_unit_commits_on_a_clean_exit_and_rolls_back_on_an_exception(app):
    ran = []
    with app.app_context():
        with unit_of_work.unit():
            db.session.add(Customer(name="one", status="Active", currency="USD"))
            unit_of_work.after_commit(lambda: ran.append("one"))
        with pytest.raises(ZeroDivisionError):
            with unit_of_work.unit():
                db.session.add(Customer(name="two", status="Active", currency="USD"))
                unit_of_work.after_commit(lambda: ran.append("two"))
                1 / 0
    assert _names(app) == ["one"]
    assert ran == ["one"]


def test_a_unit_refuses_to_start_over_changes_made_outside_it(app):
    with app.app_context():
        db.session.add(Customer(name="stray", status="Active", currency="USD"))
        with pytest.raises(RuntimeError, match="uncommitted"):
            with unit_of_work.unit():
                pass
        unit_of_work.rollback()
    assert _names(app) == []


def test_after_commit_work_may_queue_more_after_commit_work(app):
    ran = []
    with app.app_context():
        with unit_of_work.unit():
            unit_of_work.after_commit(lambda: unit_of_work.after_commit(lambda: ran.append("second")))
            unit_of_work.after_commit(lambda: ran.append("first"))
    assert ran == ["first", "second"]


def _commits_and_rollbacks(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "commit", "rollback"):
            owner = ast.unparse(node.func.value)
            if owner.endswith("session") or owner.endswith("session()"):
                found.append(f"{path.relative_to(PANEL.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


# Loading in bulk on raw connections commits batch by batch by design (README: large seed).
BULK = {"panel/seed_large.py"}


def test_only_the_unit_of_work_commits_or_rolls_back():
    found = []
    for path in sorted(PANEL.rglob("*.py")):
        relative = str(path.relative_to(PANEL.parent))
        if "migrations" in path.parts or relative in BULK or relative == "panel/unit_of_work.py":
            continue
        found += _commits_and_rollbacks(path)
    assert found == []
