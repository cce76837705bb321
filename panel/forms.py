"""Form pieces shared by every area: the audit reason and strict field types."""
import re
from decimal import Decimal, InvalidOperation

from flask import g
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, ValidationError

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
        from panel.settings.options import audit_comment_required

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
    field.data = (field.data or "").strip()
    if field.data and not EMAIL.match(field.data):
        raise ValidationError("Enter an e-mail address such as name@example.com.")


def parse_decimal(text: str, places: int = 4) -> Decimal:
    """A money amount as typed: digits with an optional point, commas as thousands separators."""
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned:
        raise ValueError("Enter an amount.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount such as 250 or 250.00.") from None
    if not value.is_finite():
        raise ValueError("Enter an amount such as 250 or 250.00.")
    if value.as_tuple().exponent < -places:
        raise ValueError(f"Use at most {places} decimal places.")
    if abs(value) >= Decimal(10) ** 14:
        raise ValueError("That amount is too large.")
    return value
