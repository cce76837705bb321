"""Routes of the onboarding area (staff side): the New customer flow, drafts owned by the staff member."""
from panel import actor as actors
from panel.onboarding import bp, pages


@bp.get("/")
def index():
    """My drafts, with Resume and Discard, and the start of a new one."""
    return pages.index(actors.current())


@bp.route("/new", methods=["GET", "POST"])
def new():
    return pages.new(actors.current())


@bp.route("/<int:draft_id>/step/<int:step>", methods=["GET", "POST"])
def step(draft_id: int, step: int):
    return pages.step(actors.current(), draft_id, step)


@bp.route("/<int:draft_id>/cancel", methods=["GET", "POST"])
def cancel(draft_id: int):
    return pages.cancel(actors.current(), draft_id)
