"""The RQ job that sends one write-back to the store."""

from jobs.context import app_context
from portal.sync.writeback import send as send_writeback


def send(writeback_id: int) -> str:
    with app_context():
        result = send_writeback(writeback_id)
        return f"write-back {writeback_id}: {result.state if result else 'gone'}"
