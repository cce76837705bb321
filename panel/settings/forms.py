"""The Settings → Options form."""
from wtforms import BooleanField

from panel.forms import AuditedForm


class OptionsForm(AuditedForm):
    require_comment = BooleanField(
        "Audit Comment",
        description="Every save asks for a reason, which is stored on its audit entries.",
    )
