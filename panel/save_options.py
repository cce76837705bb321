"""The three save options shared by every edit form: Save and Continue, Save and Stay, Delay and Save.

A form gets them by inheriting SaveOptionsForm and rendering the `save_options` macro of
templates/_forms.html; the route asks `form.action` what to do and `form.run_at()` when.
"""
from datetime import UTC, datetime, timedelta

from wtforms import DateTimeLocalField, SelectChoice, SelectField, StringField
from wtforms.validators import ValidationError

from panel.types import utcnow

CONTINUE, STAY, DELAY = "continue", "stay", "delay"
DELAYS = (
    ("300", "5 minutes"),
    ("900", "15 minutes"),
    ("3600", "1 hour"),
    ("14400", "4 hours"),
    ("86400", "1 day"),
    ("604800", "1 week"),
    ("at", "at a date and time (UTC)…"),
)
LONGEST = timedelta(days=366)


class UTCDateTimeField(DateTimeLocalField):
    """A datetime-local input read as UTC; left empty it is simply None (checked only when used)."""

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class SaveOptionsMixin:
    """Fields for the save buttons; mix into a FlaskForm."""

    save_action = StringField(default=CONTINUE)
    delay = SelectField("Delay", choices=[SelectChoice(v, label) for v, label in DELAYS], default="3600")
    delay_until = UTCDateTimeField("Apply at (UTC)", format=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
                                   render_kw={"step": "1"})
    allow_delay = True

    @property
    def action(self) -> str:
        value = self.save_action.data
        return value if value in (CONTINUE, STAY, DELAY) else CONTINUE

    def validate_save_action(self, field):
        if field.data == DELAY and not self.allow_delay:
            raise ValidationError("This form cannot be delayed.")

    def validate_delay_until(self, field):
        if self.action != DELAY or self.delay.data != "at":
            return
        if field.data is None:
            raise ValidationError("Pick the date and time (UTC) when the change should apply.")
        when = field.data.replace(tzinfo=UTC)
        if when <= utcnow():
            raise ValidationError("Pick a time in the future (times are UTC).")
        if when - utcnow() > LONGEST:
            raise ValidationError("Pick a time within the next year.")

    def run_at(self, now: datetime | None = None) -> datetime:
        now = now or utcnow()
        if self.delay.data == "at" and self.delay_until.data is not None:
            return self.delay_until.data.replace(tzinfo=UTC)
        return now + timedelta(seconds=int(self.delay.data))
