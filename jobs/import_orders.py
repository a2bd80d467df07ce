"""The RQ job that runs one import."""

from jobs.context import app_context
from portal.sync.runs import execute_run
from portal.sync.schedule import follow_with_refunds


def run(run_id: int) -> str:
    with app_context():
        result = execute_run(run_id, sliced=True)
        refunds = follow_with_refunds(result) if result else None
        said = f"run {run_id}: {result.status if result else 'gone'}"
        return f"{said}; refunds run {refunds.id}: {refunds.status}" if refunds else said
