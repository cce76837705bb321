"""Form pieces shared by every area: the audit reason and strict field types (amounts among them)."""
import re
from decimal import Decimal

from flask import g
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, StopValidation, ValidationError

from panel import money
from panel.options import audit_comment_required

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class PanelForm(FlaskForm):
    """Base of every form: text with control characters (NUL and the like) never reaches the database."""

    def validate(self, extra_validators=None) -> bool:
        # Checked first: other validators may query the database with the text.
        tainted = [f for f in self if isinstance(f.data, str) and CONTROL.search(f.data)]
        for field in tainted:
            field.errors = ["Remove the control characters from this field."]
        # WTForms' NumberRange compares through float(): an integer beyond a float's range raises OverflowError.
        huge = [f for f in self if isinstance(f.data, int) and not isinstance(f.data, bool) and abs(f.data) >= 10**18]
        for field in huge:
            field.errors = ["That number is too large."]
        if tainted or huge:
            # Fields whose text could not even be read (a date, a number) say so now too, not after a second try.
            for field in self:
                if field.process_errors and not field.errors:
                    field.errors = list(field.process_errors)
            return False
        return super().validate(extra_validators)


class AuditedForm(PanelForm):
    """Every form that saves something: asks for a reason when the "Audit Comment" option is on."""

    audit_comment = StringField("Reason for this change", validators=[Length(max=500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.comment_required = audit_comment_required()

    def validate_audit_comment(self, field):
        if self.comment_required and not (field.data or "").strip():
            raise ValidationError("Say why you are making this change (the Audit Comment option is on).")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok:
            # Picked up by the audit recorder for every entry this request writes.
            g.audit_comment = (self.audit_comment.data or "").strip() or None
        return ok


EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def email_address(form, field):
    """Every e-mail field: normalised by the one rule (panel/emails.py), invisible characters refused."""
    from panel import emails

    try:
        field.data = emails.normalize(field.data or "")
    except emails.EmailError as error:
        raise ValidationError(str(error)) from None
    if field.data and not EMAIL.match(field.data):
        raise ValidationError("Enter an e-mail address such as name@example.com.")


class AmountField(StringField):
    """A money or decimal amount typed by a person, read by the one rule of `panel.money.parse_amount`.

    `data` is the Decimal once validated; a refused amount keeps the typed text in the input and
    its message by the field. `decimals` may be set on the form's field before validating (the
    customer's currency). Empty is "Enter an amount." unless `optional`."""

    def __init__(self, label=None, validators=None, decimals: int = 2, optional: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.decimals = decimals
        self.optional = optional

    def pre_validate(self, form):
        if isinstance(self.data, Decimal):
            return
        if self.optional and not (self.data or "").strip():
            self.data = None
            raise StopValidation()
        try:
            self.data = money.parse_amount(self.data, self.decimals)
        except ValueError as error:
            raise StopValidation(str(error)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]  # what was typed stays as typed, refused or not
        if self.data is None:
            return ""
        if isinstance(self.data, Decimal):
            shown = self.data.quantize(Decimal(1).scaleb(-self.decimals)) if self.data.is_finite() else self.data
            # Stored with 4 places, typed with the currency's: 0.0000 shows as 0.00.
            return f"{shown:f}" if shown == self.data else f"{self.data:f}"
        return str(self.data)

    def __call__(self, **kwargs):
        # The input's own hints say the same rule as the parser (the forms are novalidate: the server decides).
        kwargs.setdefault("inputmode", "decimal" if self.decimals else "numeric")
        kwargs.setdefault("pattern", money.pattern(self.decimals))
        kwargs.setdefault("title", money.hint(self.decimals))
        kwargs.setdefault("placeholder", money.example(self.decimals))
        kwargs.setdefault("autocomplete", "off")
        return super().__call__(**kwargs)


def field_labels(form_class) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """({field name: label}, {select field name: {value: choice label}}) of a form class, read from its
    unbound fields (no request needed): what the Delay Log and the audit show instead of column names."""
    labels, choices = {}, {}
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if not hasattr(unbound, "field_class") or not hasattr(unbound, "kwargs"):
            continue
        label = unbound.args[0] if unbound.args else unbound.kwargs.get("label")
        if isinstance(label, str) and label:
            labels[name] = label
        options = unbound.kwargs.get("choices")
        if isinstance(options, (list, tuple)):
            choices[name] = {str(getattr(c, "value", c)): str(getattr(c, "label", None) or getattr(c, "value", c))
                             for c in options}
    return labels, choices
