"""Account-wide options (one row per option), read by every area that has one: the number range, the
audit-comment rule, and later settings. The Settings pages change them; nothing here knows those pages."""
import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db

DEFAULTS = {"audit_comment": "0", "authorize_balance_max_age": "60"}


class Setting(db.Model):
    __tablename__ = "setting"
    __audited__ = True

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.String(500), default="")


def get_option(key: str) -> str:
    row = db.session.get(Setting, key)
    return row.value if row is not None else DEFAULTS.get(key, "")


def get_options(*keys: str) -> dict[str, str]:
    """Several options in one read (a page that shows a few of them), each as get_option would answer it."""
    found = {row.key: row.value for row in db.session.scalars(sa.select(Setting).where(Setting.key.in_(keys)))}
    return {key: found[key] if key in found else DEFAULTS.get(key, "") for key in keys}


def set_option(key: str, value: str) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def audit_comment_required() -> bool:
    return get_option("audit_comment") == "1"
