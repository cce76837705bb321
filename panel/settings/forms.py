"""The Settings → Options form."""
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from panel.api.models import SCOPES
from panel.forms import AuditedForm

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

    RANGE = ("number_range_start", "number_range_end", "number_block_size")

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
