from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField
from wtforms.validators import InputRequired, Optional


class RunAuditForm(FlaskForm):
    """Run audit now: a webstore's orders from a day on (the last 30 days by default)."""

    webstore = HiddenField(validators=[InputRequired("Choose a webstore.")])
    since = DateField(
        "From",
        validators=[Optional()],
        description="The first day of the store's calendar to audit; empty: 30 days ago.",
    )
