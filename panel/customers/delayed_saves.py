"""How customers take delayed saves (panel/delayed/): edits of the customer record, registered at app start."""
from panel.customers.accounts import update_customer
from panel.customers.forms import CustomerEditForm
from panel.customers.models import Customer
from panel.delayed.changes import Target
from panel.delayed.changes import register as register_target
from panel.forms import field_labels


def register() -> None:
    labels, choices = field_labels(CustomerEditForm)  # what the edit form shows, for the Delay Log
    for name in labels:  # the three addresses share their labels on the form, under their own headings
        for prefix in ("billing", "shipping"):
            if name.startswith(prefix + "_") and name != "shipping_same_as_billing":
                labels[name] = f"{prefix.capitalize()} {labels[name][0].lower()}{labels[name][1:]}"
    register_target("customer", Target(model=Customer, apply_update=update_customer, labels=labels, choices=choices))
