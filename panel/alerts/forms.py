"""The alert form (a customer's alerts and the global ones share it)."""
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from panel import money
from panel.alerts.models import FIGURES, OPERATORS
from panel.alerts.rules import reset_problem
from panel.contacts.models import CONTACT_TYPES
from panel.forms import EMAIL, AmountField, AuditedForm

MAX_MINUTES = 525_600  # a year


class SignedAmountField(AmountField):
    """An amount that may be negative (a balance below zero)."""

    def __call__(self, **kwargs):
        kwargs.setdefault("pattern", money.pattern(self.decimals, negative=True))
        return super().__call__(**kwargs)


class AlertForm(AuditedForm):
    name = StringField("Name", validators=[DataRequired("Give the alert a name."), Length(max=100)])
    figure = SelectField("Figure", choices=[SelectChoice(k, v) for k, v in FIGURES.items()], default="balance")
    operator = SelectField("Operator", choices=[SelectChoice(o) for o in OPERATORS], default="<")
    threshold = SignedAmountField("Threshold", decimals=2,
                                  description="In the customer's currency for money figures; a number of channels, "
                                              "or a percentage for ASR.")
    reset_threshold = SignedAmountField(
        "Reset level", decimals=2, optional=True,
        description="Fires again only after the figure has gone back past this level; empty: as soon as it is "
                    "no longer crossed.")
    repeat_minutes = IntegerField("Repeat every (minutes)", validators=[Optional(), NumberRange(min=1, max=MAX_MINUTES)],
                                  description="While still crossed, fire again after this long; empty: never.")
    contact_types = SelectMultipleField("Mail the contacts of type", choices=[SelectChoice(t) for t in CONTACT_TYPES],
                                        description="No contact of a chosen type: the customer's own e-mail.")
    extra_addresses = TextAreaField("Other addresses", validators=[Length(max=2000)],
                                    description="One e-mail address per line.")
    subject = StringField("Mail subject", validators=[Length(max=200)],
                          description="Empty: a standard subject. Placeholders as in the text below.")
    body = TextAreaField("Mail text", validators=[Length(max=10_000)],
                         description="Placeholders: {customer} {customer_id} {alert} {figure} {value} {operator} "
                                     "{threshold} {reset} {balance} {available} {channels} {spend_today} {asr_hour} "
                                     "{time} {penalty_until}. Empty: a standard text.")
    penalty_minutes = IntegerField("Penalty for (minutes)", validators=[Optional(), NumberRange(min=1, max=MAX_MINUTES)],
                                   description="Set the status to Penalty for this long when it fires; the previous "
                                               "status comes back by itself. Empty: no penalty.")
    enabled = BooleanField("Enabled", default=True)

    def validate_reset_threshold(self, field):
        if field.data is None or self.threshold.errors or self.operator.data not in OPERATORS:
            return
        problem = reset_problem(self.operator.data, self.threshold.data, field.data)
        if problem:
            raise ValidationError(problem)

    def validate_subject(self, field):
        if "\n" in (field.data or "") or "\r" in (field.data or ""):
            raise ValidationError("A subject is one line.")

    def validate_extra_addresses(self, field):
        for line in (field.data or "").splitlines():
            address = line.strip()
            if address and (not EMAIL.match(address) or len(address) > 254):
                raise ValidationError(f"“{address}” is not an e-mail address such as name@example.com.")

    def values(self) -> dict:
        return {
            "name": self.name.data.strip(), "figure": self.figure.data, "operator": self.operator.data,
            "threshold": self.threshold.data, "reset_threshold": self.reset_threshold.data,
            "repeat_minutes": self.repeat_minutes.data, "contact_types": "|".join(self.contact_types.data or []),
            "extra_addresses": "\n".join(line.strip() for line in (self.extra_addresses.data or "").splitlines()
                                         if line.strip()),
            "subject": (self.subject.data or "").strip(), "body": self.body.data or "",
            "penalty_minutes": self.penalty_minutes.data, "enabled": bool(self.enabled.data),
        }


def form_for(alert=None, formdata=None, prefix: str = "") -> AlertForm:
    """The form of an alert (its values filled in), or of a new one."""
    if alert is None:
        return AlertForm(formdata=formdata, prefix=prefix)
    form = AlertForm(formdata=formdata, prefix=prefix, obj=alert)
    if formdata is None:
        form.contact_types.data = alert.types
    return form
