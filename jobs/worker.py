"""The RQ worker the README runs (``rq worker --worker-class jobs.worker.Worker``).

RQ forks a work horse for each job. A plain ``rq worker`` imports nothing of ours, so each
horse imported the job's modules and built the app itself: about a second before a job
did anything, which is most of a webhook's import. This worker loads them once, before the
first fork; each horse starts with them (``jobs.context`` gives it the app without the
parent's pooled database connections).
"""

from rq.worker import Worker as RQWorker

from jobs.context import get_app


class Worker(RQWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        preload()


def preload() -> None:
    """Import every job's module and build the app, in this (the worker's) process."""
    import jobs.alerts  # noqa: F401
    import jobs.audits  # noqa: F401
    import jobs.auto_sync  # noqa: F401
    import jobs.health  # noqa: F401
    import jobs.import_orders  # noqa: F401
    import jobs.writeback  # noqa: F401

    get_app()
