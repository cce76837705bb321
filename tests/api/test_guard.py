"""Every API view but the OpenAPI document is behind the scope decorator; the limits live apart from the views."""
import ast
from pathlib import Path

from panel.api import guard, limits, openapi

API = Path(__file__).resolve().parents[2] / "panel" / "api"


def test_every_api_view_but_the_document_names_the_scope_its_token_needs(app):
    views = {rule.endpoint: app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("api.")}
    unguarded = sorted(name for name, view in views.items() if not hasattr(view, "required_scope"))
    assert unguarded == ["api.openapi"]
    assert {views["api.invoices"].required_scope, views["api.cdrs"].required_scope,
            views["api.channels"].required_scope} == {"invoices", "cdrs", "channels"}


def test_the_document_reads_the_limits_not_the_views():
    imported = {node.module for node in ast.walk(ast.parse((API / "openapi.py").read_text()))
                if isinstance(node, ast.ImportFrom)}
    assert "panel.api.routes" not in imported and "panel.api.limits" in imported
    assert openapi.LIST_PARAMETERS[-2]["schema"]["maximum"] == limits.MAX_LIMIT
    assert guard.requires("invoices")  # the decorator factory the views use
