"""Migration 0020 takes the orders that failed before it, and were never imported since, into
store_orders: they wait for a person on the sync health as orders failing from now on do."""

import sqlalchemy as sa
from flask_migrate import upgrade

from portal import db
from tests.conftest import MIGRATIONS, insert_row


def test_orders_that_failed_and_were_never_imported_since_wait_for_a_person(database_at_0018):
    upgrade(directory=MIGRATIONS, revision="0019")
    with db.engine.begin() as connection:
        webstore = insert_row(connection, "webstores", code="W", name="W", base_url="http://x")
        run = insert_row(
            connection,
            "sync_runs",
            webstore_id=webstore,
            trigger="automatic",
            kind="orders",
            status="partial",
            filters="{}",
        )

        def entry(order_id: int, outcome: str, message: str) -> None:
            insert_row(
                connection,
                "sync_log_entries",
                run_id=run,
                webstore_id=webstore,
                woo_order_id=order_id,
                woo_order_number=str(order_id),
                outcome=outcome,
                message=message,
            )

        entry(7, "failed", "SKU X has no item: map it")  # failed, then imported
        entry(7, "imported", "Imported as SO00001")
        entry(8, "imported", "Imported as SO00002")  # imported, then failed again
        entry(8, "failed", "The store failed with HTTP 500")
        entry(9, "failed", "Line 1 has quantity 0")  # failed, never imported
        entry(10, "failed", "refund 31: its lines come to more than the refund")
        customer = insert_row(connection, "customers", number="C1", name="A")
        order = insert_row(
            connection,
            "sales_orders",
            number="SO00002",
            webstore_id=webstore,
            customer_id=customer,
            status="open",
            currency="USD",
        )
        insert_row(
            connection, "order_links", webstore_id=webstore, woo_order_id=8, sales_order_id=order
        )

    upgrade(directory=MIGRATIONS)

    with db.engine.connect() as connection:
        waiting = connection.execute(
            sa.text("SELECT woo_order_id, state, reason FROM store_orders ORDER BY woo_order_id")
        ).all()
    assert [tuple(row) for row in waiting] == [(9, "failed", "Line 1 has quantity 0")]
