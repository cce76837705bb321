"""Reading and changing the account-wide options."""
from panel.extensions import db
from panel.settings.models import Setting

DEFAULTS = {"audit_comment": "0"}


def get_option(key: str) -> str:
    row = db.session.get(Setting, key)
    return row.value if row is not None else DEFAULTS.get(key, "")


def set_option(key: str, value: str) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def audit_comment_required() -> bool:
    return get_option("audit_comment") == "1"
