"""RQ's cron scheduler configuration: `rq cron jobs/cron_config.py` (run exactly one)."""

import os

from rq import cron

from jobs.alerts import check_alerts_job
from jobs.audits import enqueue_due_audits
from jobs.auto_sync import enqueue_due
from jobs.health import refresh_webhooks_job

QUEUE = os.environ.get("RQ_QUEUE", "imports")
# The queue workers take from first (portal.queue): the minute's look at what is due goes
# there, so that it comes on time however many runs wait on QUEUE.
FIRST_QUEUE = os.environ.get("RQ_WEBHOOK_QUEUE", "webhooks")

# Every minute: automatic syncs and write-backs that are due; then whether any webstore
# turned failing or recovered (one message each way), after the stores' webhook states
# (each store asked at most every 5 minutes) that the health rules read.
cron.register(enqueue_due, queue_name=FIRST_QUEUE, interval=60)
cron.register(refresh_webhooks_job, queue_name=QUEUE, interval=60)
cron.register(check_alerts_job, queue_name=QUEUE, interval=60)
# Every hour: a completeness audit queued for each webstore not audited in the last 24 hours.
cron.register(enqueue_due_audits, queue_name=QUEUE, interval=3600)
