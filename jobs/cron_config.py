"""RQ's cron scheduler configuration: `rq cron jobs/cron_config.py` (run exactly one)."""

import os

from rq import cron

from jobs.auto_sync import enqueue_due

cron.register(enqueue_due, queue_name=os.environ.get("RQ_QUEUE", "imports"), interval=60)
