"""The Settings → Options form."""
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from panel.api.models import SCOPES
from panel.calls.partitions import parse_retention
from panel.forms import AuditedForm, email_address
from panel.portal.forms import portal_sections_field

BIG = 10**15


class OptionsForm(AuditedForm):
    require_comment = BooleanField(
        "Audit Comment",
        description="Every save asks for a reason, which is stored on its audit entries.",
    )
    number_range_start = IntegerField("Number Range Start", validators=[Optional(), NumberRange(min=1, max=BIG)],
                                      description="The first number that may be handed out, such as 1000.")
    number_range_end = IntegerField("Number Range End", validators=[Optional(), NumberRange(min=1, max=BIG)],
                                    description="The last number that may be handed out.")
    number_block_size = IntegerField("Block Size", validators=[Optional(), NumberRange(min=1, max=BIG)],
                                     description="How many numbers each Internal Number Block holds.")
    sip_realm = StringField("SIP realm", validators=[Optional(), Length(max=200),
                                                     Regexp(r"^[A-Za-z0-9.-]+$", message="Use a host name such as sip.example.net.")],
                            description="The realm SIP users' digest hashes are made for.")
    portal_sections = portal_sections_field(
        "A new customer's contacts see", "Portal Access of each customer created from now on (staff change it on "
        "the customer's Main tab); existing customers keep theirs.")

    authorize_balance_max_age = IntegerField(
        "Credit check: balance at most (seconds old)", validators=[Optional(), NumberRange(min=0, max=3600)],
        description="POST /api/v1/calls/authorize computes a cached balance again once it is this old (60 by default).")

    call_record_retention = StringField(
        "Call record retention (months)", validators=[Length(max=10)],
        description="Raw call records of months older than this many months before the current one are dropped, "
                    "a whole month at a time (PostgreSQL). Hourly figures, invoices and the Summary keep the "
                    "history. Leave empty to keep every record.")

    # An unticked check box sends nothing, so a post without a box cannot say "off" from "not on this form".
    # The page names the check-box fields it shows here; a post naming none of them (a script's, a test's, a
    # form showing other options) leaves those options as they are instead of switching them off.
    checkboxes_shown = HiddenField()
    CHECKBOXES = ("require_comment", "portal_sections")
    RANGE = ("number_range_start", "number_range_end", "number_block_size")

    def decided(self, name: str) -> bool:
        """Whether this post sets the check-box field `name`: a box of it was ticked, or the page showed it."""
        return bool(getattr(self, name).raw_data) or name in (self.checkboxes_shown.data or "").split()

    def validate_call_record_retention(self, field):
        try:
            parse_retention(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        given = [name for name in self.RANGE if getattr(self, name).data is not None]
        if given and len(given) != len(self.RANGE):
            for name in self.RANGE:
                if getattr(self, name).data is None:
                    getattr(self, name).errors = [*getattr(self, name).errors, "Give the start, the end and the block size together."]
            ok = False
        return ok


class ApiTokenForm(AuditedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)],
                       description="Who uses it, such as “billing system” or “switch-2”.")
    scopes = SelectMultipleField("Allowed to", choices=[SelectChoice(s) for s in SCOPES],
                                 option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
                                 validators=[DataRequired(message="Pick at least one scope.")])


# -- Settings → Staff users ------------------------------------------------------------------------

def _role_field():
    from panel.auth.models import ROLES

    return SelectField("Role", choices=[SelectChoice(r) for r in ROLES], default="staff",
                       description="admin: everything; staff: what their groups grant (no group: every area "
                                   "but Settings); readonly: the same areas, never a change.")


def _groups_field():
    return SelectMultipleField("Permission groups", coerce=int, option_widget=widgets.CheckboxInput(),
                               widget=widgets.ListWidget(prefix_label=False), validate_choice=True,
                               description="Rights are the union of the groups' grants.")


class InviteForm(AuditedForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254), email_address])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = _role_field()
    groups = _groups_field()


class StaffAccessForm(AuditedForm):
    role = _role_field()
    groups = _groups_field()


GRANT_CHOICES = [SelectChoice("", "No access"), SelectChoice("r", "Read"), SelectChoice("rw", "Read and write")]


class GroupForm(AuditedForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])

    def grants(self) -> dict[str, bool]:
        from panel.auth.models import AREAS

        return {area: self[f"area_{area}"].data == "rw" for area in AREAS if self[f"area_{area}"].data}

    def area_fields(self):
        from panel.auth.models import AREAS

        return [self[f"area_{area}"] for area in AREAS]


def _add_area_fields():
    from panel.auth.models import AREAS

    for area, label in AREAS.items():
        setattr(GroupForm, f"area_{area}", SelectField(label, choices=GRANT_CHOICES, default=""))


_add_area_fields()


class AllowlistForm(AuditedForm):
    allowlist = TextAreaField("Staff IP allow-list", validators=[Length(max=2000)],
                              description="One address or range per line, such as 192.0.2.7 or 198.51.100.0/24. "
                                          "Empty: staff may sign in from anywhere.")
