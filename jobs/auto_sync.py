"""The scheduler's job, every minute: enqueue an automatic run for each webstore that is
due, and the write-backs to the stores that are due."""

from jobs.context import app_context
from portal.sync import writeback
from portal.sync.schedule import enqueue_due as enqueue_due_runs


def enqueue_due() -> str:
    with app_context():
        started = enqueue_due_runs()
        sent = writeback.enqueue_due()
        return f"started {len(started)} automatic run(s), queued {sent} write-back(s)"
