"""The scheduler's job: ask the stores how the portal's webhooks are, each at most every
few minutes (portal.sync.health keeps the answers for the health panel and the alerts)."""

from jobs.context import app_context
from portal.sync.health import refresh_webhook_states


def refresh_webhooks_job() -> str:
    with app_context():
        asked = refresh_webhook_states()
        said = ", ".join(f"{code}: {state}" for code, state in asked.items())
        return f"asked {len(asked)} store(s) about their webhooks" + (f" ({said})" if said else "")
