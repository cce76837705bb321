"""A customer's deployments with their licences and support plans."""
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from panel.extensions import db
from panel.types import UTCDateTime, utcnow

PRODUCTS = ("PBX", "SBC", "Gateway")
DEPLOYMENT_STATUSES = ("Active", "Decommissioned")  # never deleted: a Deployment ID names one product for good
SUPPORT_PLANS = ("Basic", "Standard", "Premium", "24x7")


class Deployment(db.Model):
    __tablename__ = "deployment"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # The Deployment ID people quote ("D-100042"): from a counter, so it is never given out twice.
    deployment_number: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    product: so.Mapped[str] = so.mapped_column(sa.String(20))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="Active")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    licences: so.Mapped[list["Licence"]] = so.relationship(back_populates="deployment", order_by="Licence.id")
    support_plans: so.Mapped[list["SupportPlan"]] = so.relationship(back_populates="deployment",
                                                                    order_by="SupportPlan.starts_on")

    __table_args__ = (
        sa.CheckConstraint(f"product IN {PRODUCTS!r}", name="product"),
        sa.CheckConstraint(f"status IN {DEPLOYMENT_STATUSES!r}", name="status"),
        sa.Index("ix_deployment_customer_id_name", "customer_id", "name"),
        sa.Index("ix_deployment_name_id", "name", "id"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id

    def __repr__(self) -> str:
        return f"<Deployment {self.deployment_number} {self.product} {self.name!r}>"


class Licence(db.Model):
    __tablename__ = "deployment_licence"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deployment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deployment.id", ondelete="RESTRICT"), index=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    quantity: so.Mapped[int] = so.mapped_column(default=1)
    expires_on: so.Mapped[date | None]

    deployment: so.Mapped[Deployment] = so.relationship(back_populates="licences")

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity"),)

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id


class SupportPlan(db.Model):
    __tablename__ = "support_plan"
    __audited__ = True

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    deployment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("deployment.id", ondelete="RESTRICT"), index=True)
    customer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("customer.id", ondelete="RESTRICT"))
    plan: so.Mapped[str] = so.mapped_column(sa.String(20))
    starts_on: so.Mapped[date]
    ends_on: so.Mapped[date]

    deployment: so.Mapped[Deployment] = so.relationship(back_populates="support_plans")

    __table_args__ = (
        sa.CheckConstraint(f"plan IN {SUPPORT_PLANS!r}", name="plan"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates"),
    )

    @property
    def audit_customer_id(self) -> int:
        return self.customer_id
