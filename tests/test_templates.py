"""The templates have one copy of each thing: one pager, one macro per shared table, no queries, no inline scripts."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = TEMPLATES.parent / "static"


def templates():
    return sorted(p for p in TEMPLATES.rglob("*.html"))


def test_no_template_writes_a_pager_by_hand():
    for path in templates():
        if path.name == "_forms.html" and path.parent == TEMPLATES:
            continue
        text = path.read_text()
        assert 'class="pager' not in text, f"{path.relative_to(TEMPLATES)} writes a pager instead of calling the macro"
        assert not re.search(r"page\.number\s*[-+]\s*1", text), f"{path.relative_to(TEMPLATES)} builds page links by hand"


def test_no_template_queries_the_database():
    for path in templates():
        text = path.read_text()
        for pattern in (r"\.query\b", r"\bdb\.", r"session\.", r"support_credit_balance", r"\bbalance\("):
            assert not re.search(pattern, text), f"{path.relative_to(TEMPLATES)} queries ({pattern}): pass the value in"


def test_shared_tables_are_macros_not_includes_fed_by_set():
    for path in templates():
        text = path.read_text()
        # {% set x = ... %} right before an {% include %} is a macro's arguments passed the long way round.
        assert not re.search(r"\{%\s*set [^%]*%\}\s*\{%\s*include", text), f"{path.relative_to(TEMPLATES)}"
    for page in ("portal/customers.html", "portal/invoices.html", "portal/customer_contacts.html",
                 "support/portal_credits.html", "deployments/portal.html", "portal/invoice.html", "portal/customer.html"):
        assert "<table" not in (TEMPLATES / page).read_text(), f"{page} copies a staff table instead of calling its macro"


def test_no_inline_scripts_and_each_script_is_loaded_where_used():
    for path in templates():
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            assert "src=" in tag, f"inline script in {path.relative_to(TEMPLATES)}"
    layout = (TEMPLATES / "_layout.html").read_text()
    assert not re.search(r"<script[^>]*(summary|deployments|invoices)\.js", layout)
    assert "summary.js" in (TEMPLATES / "customers/main.html").read_text()


def test_summary_js_holds_only_the_summary_grid():
    script = (STATIC / "summary.js").read_text()
    assert "data-needs-checked" not in script and "input[name=period]" not in script


def test_panel_css_colours_come_from_its_variables():
    css = (STATIC / "panel.css").read_text()
    root_end = css.index("}", css.index(":root")) + 1
    rest = css[root_end:]
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(", rest)
