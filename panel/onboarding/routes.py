"""Routes of the onboarding area (staff side): the New customer flow, drafts owned by the staff member."""
from flask_login import current_user

from panel.onboarding import bp, pages


def _side() -> pages.Side:
    return pages.Side(portal=False, owner={"staff_user_id": current_user.id})


@bp.get("/")
def index():
    """My drafts, with Resume and Discard, and the start of a new one."""
    return pages.index(_side())


@bp.route("/new", methods=["GET", "POST"])
def new():
    return pages.new(_side())


@bp.route("/<int:draft_id>/step/<int:step>", methods=["GET", "POST"])
def step(draft_id: int, step: int):
    return pages.step(_side(), draft_id, step)


@bp.route("/<int:draft_id>/cancel", methods=["GET", "POST"])
def cancel(draft_id: int):
    return pages.cancel(_side(), draft_id)
