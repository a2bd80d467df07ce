"""``flask`` commands: create-user, seed-demo, import-orders."""

import os
import secrets

import click
import sqlalchemy as sa
from flask import Flask

from portal import db
from portal.models import Role, User


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(import_orders)


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.STAFF.value,
    show_default=True,
)
@click.option(
    "--generate-password",
    is_flag=True,
    help="Make up a strong password and print it once.",
)
@click.option(
    "--if-missing", is_flag=True, help="Do nothing (and succeed) if the user exists already."
)
def create_user(username: str, role: str, generate_password: bool, if_missing: bool) -> None:
    """Create a user. The password comes from PORTAL_PASSWORD, or is asked for."""
    existing = db.session.scalar(sa.select(User).where(User.username == username))
    if existing:
        if if_missing:
            click.echo(f"User {username} exists already.")
            return
        raise click.ClickException(f"User {username} exists already.")
    if generate_password:
        password = secrets.token_urlsafe(12)
    else:
        password = os.environ.get("PORTAL_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
    if len(password) < 10:
        raise click.ClickException("Use a password of at least 10 characters.")
    user = User(username=username, role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} user {username}.")
    if generate_password:
        click.echo(f"Password (shown once): {password}")


@click.command("seed-demo")
@click.option(
    "--store-url",
    default=lambda: os.environ.get("SANDBOX_URL", "http://127.0.0.1:8081"),
    show_default="$SANDBOX_URL or http://127.0.0.1:8081",
    help="Where the sandbox store answers.",
)
def seed_demo(store_url: str) -> None:
    """Set up the DEMO webstore on the sandbox store (safe to run again)."""
    from portal.setup.demo import seed_demo_webstore
    from sandbox import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET

    webstore = seed_demo_webstore(store_url, DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET)
    click.echo(f"Webstore {webstore.code} points at the sandbox store {webstore.base_url}.")


@click.command("import-orders")
@click.option("--webstore", "code", required=True, help="Webstore Code, e.g. DEMO.")
@click.option("--order-id", help="Import this one order.")
@click.option("--status", help="Comma-separated statuses, e.g. processing,completed.")
@click.option("--start-date", help="Orders created on or after this date, e.g. 2026-01-01.")
def import_orders(code, order_id, status, start_date) -> None:
    """Import webstore orders now, in the foreground.

    Exits 0 when every order was imported or skipped, 1 when some failed, 2 when the
    import could not run (bad filters, store unreachable, credentials refused).
    """
    from portal.models import RunStatus, SyncRun, Trigger
    from portal.sync.filters import FilterError, find_webstore, merge_filters
    from portal.sync.runs import create_run, execute_run

    try:
        webstore = find_webstore(code)
        filters = merge_filters(webstore, order_id=order_id, statuses=status, start_date=start_date)
    except FilterError as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from error
    run = create_run(webstore, filters, Trigger.MANUAL)
    click.echo(f"Run {run.id}: importing from {webstore.code} ({filters.describe()})")

    def progress() -> None:
        current = db.session.execute(
            sa.select(SyncRun.store_total, SyncRun.imported, SyncRun.skipped, SyncRun.failed).where(
                SyncRun.id == run.id
            )
        ).one()
        total, imported, skipped, failed = current
        settled = imported + skipped + failed
        bar = progress_bar(settled, total)
        click.echo(
            f"\r{bar} {settled}/{total if total is not None else '?'}  "
            f"imported {imported}  skipped {skipped}  failed {failed}",
            nl=False,
        )

    result = execute_run(run.id, progress=progress)
    click.echo()
    click.echo(
        f"Run {result.id} {result.status}: {result.imported} imported, {result.skipped} "
        f"skipped, {result.failed} failed of {result.fetched} fetched."
    )
    if result.reason:
        click.echo(result.reason, err=True)
    raise SystemExit({RunStatus.SUCCEEDED: 0, RunStatus.PARTIAL: 1}.get(result.status, 2))


def progress_bar(done: int, total: int | None, width: int = 30) -> str:
    if not total:
        return "[" + " " * width + "]"
    filled = min(width, round(width * done / total))
    return "[" + "#" * filled + " " * (width - filled) + "]"
