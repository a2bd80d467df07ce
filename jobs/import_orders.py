"""The RQ job that runs one import."""

from jobs.context import app_context
from portal.sync.runs import execute_run


def run(run_id: int) -> str:
    with app_context():
        result = execute_run(run_id)
        return f"run {run_id}: {result.status if result else 'gone'}"
