"""Rendering helpers shared by the blueprints: one template serves a page and its htmx parts."""
import json

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block

from panel.forms import CONTROL


def wants_fragment() -> bool:
    """An htmx request that swaps part of a page; boosted and history-restore requests get the page."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render_page(template: str, block: str | None = None, *, code: int = 200, **context):
    """The full page, or just `block` of it for an htmx request. Either way Vary: HX-Request."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, code)
    response.vary.add("HX-Request")
    return response


def notify(response, text: str):
    """Say what happened in a toast (static/panel.js listens for the "notice" event of HX-Trigger), for
    an answer that leaves nothing to read where the action was (a deleted row). Keeps other triggers."""
    present = response.headers.get("HX-Trigger")
    events = {}
    if present:
        try:
            events = json.loads(present)
        except ValueError:
            events = {name.strip(): None for name in present.split(",") if name.strip()}
    events["notice"] = text
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def render_fragment(template: str, *, code: int = 200, **context):
    """A fragment-only template (its name starts with _), for URLs never pushed into history."""
    response = make_response(render_template(template, **context), code)
    response.vary.add("HX-Request")
    return response


def search_text(name: str, limit: int = 200) -> str:
    """A search box's text from the query string: no control characters, single spaces, bounded."""
    return " ".join(CONTROL.sub("", request.args.get(name, ""))[:limit].split())
