"""The daily completeness audits: the scheduler queues one for each webstore that is due,
and a worker runs each."""

from jobs.context import app_context
from portal.models import Trigger
from portal.sync.audit import due_webstores, execute_audit, reap_stale_audits, start_audit
from portal.sync.runs import QueueUnavailable


def enqueue_due_audits() -> str:
    """Queue an audit of every webstore that has had none for a day (a store with many
    orders takes a while: each runs as a job of its own)."""
    with app_context():
        given_up = reap_stale_audits()
        queued = []
        for webstore in due_webstores():
            try:
                queued.append(start_audit(webstore, trigger=Trigger.AUTOMATIC))
            except QueueUnavailable:
                break  # the next tick queues them, once Redis answers
        return f"queued {len(queued)} audit(s); {given_up} stale audit(s) given up"


def run(audit_id: int) -> str:
    with app_context():
        audit = execute_audit(audit_id)
        return f"audit {audit_id}: {audit.status if audit else 'gone'}"
