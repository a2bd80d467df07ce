"""The scheduler's job, every minute: tell a person when a webstore turns failing, and when
it recovers (portal.alerts)."""

from jobs.context import app_context
from portal.alerts import check_alerts


def check_alerts_job() -> str:
    with app_context():
        checked = check_alerts()
        return (
            f"opened {len(checked.opened)} alert(s), resolved {len(checked.resolved)}; "
            f"sent {checked.sent} message(s), {checked.undelivered} not delivered"
        )
