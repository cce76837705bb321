"""Imports every model so that Alembic and the mapper registry see the whole schema."""
from panel.alerts.models import Alert, AlertFiring, AlertPenalty, AlertState, BalanceCache  # noqa: F401
from panel.api.models import ApiToken  # noqa: F401
from panel.audit.models import AuditEntry  # noqa: F401
from panel.auth.models import AuthLink, LoginFailure, ResetRequest, StaffGroup, StaffGroupMember, StaffUser  # noqa: F401
from panel.bulk.models import BulkJob  # noqa: F401
from panel.cards.models import CardCharge, ProcessorCustomer, StoredCard  # noqa: F401
from panel.calls.models import CallRecord, HourlySummary, RollupState  # noqa: F401
from panel.contacts.models import Contact  # noqa: F401
from panel.customers.models import Customer, LedgerEntry  # noqa: F401
from panel.delayed.models import PendingChange  # noqa: F401
from panel.deployments.models import Deployment, Licence, SupportPlan  # noqa: F401
from panel.invoices.models import (  # noqa: F401
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
)
from panel.mail.models import MailMessage  # noqa: F401
from panel.store.models import Cart, CartLine, Order, OrderLine, Product, ProductPrice, Shipment, ShippingRate  # noqa: F401
from panel.numbering.models import NumberBlock, SipUser  # noqa: F401
from panel.onboarding.models import OnboardingDraft  # noqa: F401
from panel.portal.models import AccessEvent, PortalLogin  # noqa: F401
from panel.sequences import NumberSequence  # noqa: F401
from panel.options import Setting  # noqa: F401
from panel.sessions import WebSession  # noqa: F401
from panel.support.models import CreditTransaction, IssueReport  # noqa: F401
from panel.twofactor.models import Passkey, RecoveryCode, TotpSecret  # noqa: F401
