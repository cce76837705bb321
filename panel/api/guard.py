"""The API's guard: every /api/v1 view but the OpenAPI document names the scope its bearer token needs.

    @bp.get("/invoices")
    @requires("invoices")
    def invoices(): ...

The token is checked before anything else (so a request without one learns nothing from its
parameters), the token becomes the request's actor (panel/actor.py), and an answer that succeeds
notes the token's last use.
"""
from functools import wraps

from flask import abort, jsonify, request

from panel import actor as actors
from panel.api.tokens import note_use, token_for


def requires(scope: str):
    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            token = token_for(request.headers.get("Authorization"), scope)
            if token is None:
                response = jsonify(error="unauthorized",
                                   message=f"A bearer token with the '{scope}' scope is required.")
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="panel"'
                abort(response)
            actors.act_as(actors.api(token))
            answer = view(*args, **kwargs)
            note_use(token)  # after the read: an early write would hold SQLite's write lock for the whole request
            return answer

        guarded.required_scope = scope
        return guarded

    return decorate
