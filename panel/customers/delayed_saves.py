"""How customers take delayed saves (panel/delayed/): edits of the customer record, registered at app start."""
from panel.customers.accounts import update_customer
from panel.customers.models import Customer
from panel.delayed.changes import Target
from panel.delayed.changes import register as register_target


def register() -> None:
    register_target("customer", Target(model=Customer, apply_update=update_customer))
