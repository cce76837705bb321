"""Account-wide options, kept as one row per option."""
import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db


class Setting(db.Model):
    __tablename__ = "setting"
    __audited__ = True

    key: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    value: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
