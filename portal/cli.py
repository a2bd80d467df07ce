"""``flask`` commands: create-user, seed-demo, import-orders, sync-webstore, audit-webstore,
welcome."""

import contextlib
import itertools
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NoReturn

import click
import sqlalchemy as sa
from flask import Flask, current_app

from portal import db
from portal.auth.login import MIN_PASSWORD_LENGTH
from portal.models import Role, User


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(import_orders)
    app.cli.add_command(sync_webstore)
    app.cli.add_command(audit_webstore)
    app.cli.add_command(welcome)


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    add_user(username, Role(role), password)
    click.echo(f"Created {role} user {username}.")
    if generate_password:
        click.echo(f"Password (shown once): {password}")


def add_user(username: str, role: Role, password: str) -> User:
    user = User(username=username, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@click.command("welcome")
@click.argument("username")
@click.option("--url", required=True, help="Where the portal answers, to wait for and show.")
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the portal.")
@click.option(
    "--stay", is_flag=True, help="Keep running afterwards: honcho stops all when one ends."
)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where a new user's password is kept.  [default: instance/USERNAME-password.txt]",
)
def welcome(username: str, url: str, wait: float, stay: bool, password_file: Path | None) -> None:
    """End `make run`'s start-up output with a box: where to open the portal, as whom (with
    the password when the admin was just created), and what runs. Creates the admin if
    missing, waits for the portal to answer.

    The request log scrolls the box away within a minute, so a new admin's password is also
    kept in a file of the instance folder (readable by its owner only) until someone deletes
    it; later boxes point at the file while the password in it still signs in, and delete it
    once it no longer does."""
    from portal.setup.demo import demo_state

    password_file = password_file or Path(current_app.instance_path) / f"{username}-password.txt"
    password = None
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        password = secrets.token_urlsafe(12)
        add_user(username, Role.ADMIN, password)
        keep_password(password_file, password)
    answered = wait_until_answers(url, wait)
    if stay:
        time.sleep(3)  # let the other processes' start-up lines pass: the box comes last
    demo = demo_state()
    if password:
        sign_in = f"{username} / {password}   (new: also kept in {shown_path(password_file)})"
    elif user is not None and kept_password_works(password_file, user):
        sign_in = f"{username}, with the password kept in {shown_path(password_file)}"
    else:
        sign_in = f"{username}, with the password shown when it was created"
    lines = [
        "Webstore Connector is running" if answered else f"The portal does not answer at {url}",
        "",
        f"Open       {url}",
        f"Sign in    {sign_in}",
        "Running    web server, RQ worker, RQ cron scheduler"
        + (
            f", sandbox store at {os.environ['SANDBOX_URL']}" if "SANDBOX_URL" in os.environ else ""
        ),
    ]
    if demo:
        lines.append(f"Demo       {demo}")
    lines += ["Stop       Ctrl+C"]
    click.echo(boxed(lines))
    sys.stdout.flush()  # under honcho stdout is a pipe: show the box now, not at exit
    if stay:
        threading.Event().wait()


def keep_password(path: Path, password: str) -> None:
    """Write a new user's password to ``path``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a file left from before keeps its own permissions
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(password + "\n")


def kept_password_works(path: Path, user: User) -> bool:
    """Whether ``path`` holds the password ``user`` signs in with; a file whose password no
    longer works (it was changed) is deleted, a stale secret being no use to anyone."""
    if not path.is_file():
        return False
    if user.check_password(path.read_text().strip()):
        return True
    path.unlink()
    return False


def shown_path(path: Path) -> str:
    """``path`` as a person at the project's folder would type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def boxed(lines: list[str]) -> str:
    width = max(len(line) for line in lines) + 2
    rule = "=" * (width + 2)
    body = [f"| {line.ljust(width - 1)}|" for line in lines]
    return "\n".join(["", rule, *body, rule, ""])


def wait_until_answers(url: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # it answers, if not with 200 (the login page redirects)
        except OSError:
            time.sleep(0.5)
    return False


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
    from portal.models import Trigger
    from portal.sync.filters import FilterError, find_webstore, merge_filters
    from portal.sync.runs import create_run

    try:
        webstore = find_webstore(code)
        filters = merge_filters(webstore, order_id=order_id, statuses=status, start_date=start_date)
    except FilterError as error:
        fail(str(error), error)
    run_in_foreground(create_run(webstore, filters, Trigger.COMMAND))


@click.command("sync-webstore")
@click.argument("code")
def sync_webstore(code) -> None:
    """Synchronize a webstore now, in the foreground, as its automatic sync does.

    Reads the orders modified since the webstore's watermark and advances it; the run says
    it was started from the command line. Exits as import-orders does; 2 also when an
    automatic run or another command-line sync of the webstore is queued or running.
    """
    from portal.models import Trigger
    from portal.sync.filters import FilterError, find_webstore
    from portal.sync.runs import create_run, reap_dead_runs
    from portal.sync.schedule import active_sync_run, follow_with_refunds, incremental_filters

    try:
        webstore = find_webstore(code)
    except FilterError as error:
        fail(str(error), error)
    # A run whose worker died would hold the webstore until the scheduler reaps it.
    reap_dead_runs()
    if going := active_sync_run(webstore):
        fail(already_syncing(webstore, going))
    run = create_run(webstore, incremental_filters(webstore), Trigger.COMMAND)
    run_in_foreground(run, then=follow_with_refunds)


@click.command("audit-webstore")
@click.argument("code")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The window's first day (YYYY-MM-DD, the store's calendar).  [default: 30 days ago]",
)
def audit_webstore(code, since) -> None:
    """Account for every order the store has from a day on (the last 30 days by default):
    imported, skipped by the webstore's filters, failed, or missing. Missing orders are
    named; Completeness Audits in the portal imports them.

    Exits 0 when no order is missing or failed, 1 when some are, 2 when the store could
    not be asked (or there is no such webstore).
    """
    from portal.models.health import AuditStatus
    from portal.sync import audit as audits
    from portal.sync.filters import FilterError, find_webstore

    try:
        webstore = find_webstore(code)
        audit = audits.audit_webstore(webstore, since=since.date() if since else None)
    except (FilterError, audits.AuditError) as error:
        fail(str(error), error)
    click.echo(
        f"Audit {audit.id} of {webstore.code}, orders created {audit.window_from} to "
        f"{audit.window_to}: {audit.status}"
    )
    if audit.status != AuditStatus.SUCCEEDED:
        fail(audit.error)
    for label, count in (
        ("store orders", audit.store_total),
        ("imported", audit.imported),
        ("skipped by filter", audit.skipped),
        ("failed", audit.failed),
        ("missing", audit.missing),
    ):
        click.echo(f"  {label:<18} {count:>7,}")
    if left := audits.left_to_sync(audit):
        click.echo(
            f"{left:,} more changed after automatic sync's watermark: the next automatic run "
            "reads them."
        )
    for order in audits.missing_orders(audit):
        click.echo(f"Missing: order {order.number} (id {order.woo_order_id}, {order.order_date})")
    for order in audits.failed_orders(audit):
        click.echo(f"Failed: order {order.number} (id {order.woo_order_id}): {order.reason}")
    raise SystemExit(1 if audit.missing or audit.failed else 0)


def already_syncing(webstore, run) -> str:
    which = f"run {run.id} is {run.status}"
    return (
        f"Webstore {webstore.code} is being synchronized already ({which}); "
        "it imports what is new. Try again when it has finished."
    )


def fail(message: str, cause: Exception | None = None) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2) from cause


def run_in_foreground(run, then=None) -> None:
    """Execute a queued run here with a progress bar, report it and exit with its status:
    0 all imported or skipped, 1 some orders failed, 2 it could not run. ``then`` may
    follow it with a run of its own (the refunds of a sync), reported too."""
    from portal.models import RunStatus
    from portal.sync.runs import execute_run

    click.echo(f"Run {run.id}: importing from {run.webstore.code} ({describe(run)})")
    with contextlib.ExitStack() as stack:
        result = execute_run(run.id, progress=ProgressBar(run.id, stack))
    click.echo(
        f"Run {result.id} {result.status}: {result.imported} imported, {result.skipped} "
        f"skipped, {result.changed} changed, {result.failed} failed of {result.fetched} fetched."
    )
    if then is not None and (followed := then(result)) is not None:
        click.echo(
            f"Run {followed.id} (refunds) {followed.status}: {followed.imported} credited, "
            f"{followed.skipped} skipped, {followed.failed} failed."
        )
    if result.reason:
        click.echo(result.reason, err=True)
    if result.status == RunStatus.SUCCEEDED:
        raise SystemExit(0)
    # A run that went through its orders and failed some of them has no reason of its own.
    raise SystemExit(2 if result.reason else 1)


def describe(run) -> str:
    from portal.sync.filters import ImportFilters

    return ImportFilters.from_json(run.filters).describe()


class ProgressBar:
    """The run's progress as a ``click.progressbar``, called as the run settles orders.

    The store says how many orders it lists only with its first page, so the bar is made
    at the first call. Without a terminal click prints just the label, once.
    """

    def __init__(self, run_id: int, stack: contextlib.ExitStack):
        self.run_id = run_id
        self.stack = stack
        self.bar = None

    def __call__(self) -> None:
        from portal.models import SyncRun

        run = db.session.get(SyncRun, self.run_id)
        db.session.refresh(run)  # the import counts with UPDATE statements of its own
        if self.bar is None:
            total = run.store_total
            label = f"Orders to read: {total if total is not None else 'not counted by the store'}"
            # Never iterated: an endless iterable only lets length be None (no total).
            bar = click.progressbar(
                itertools.count(), length=total, label=label, item_show_func=lambda s: s
            )
            self.bar = self.stack.enter_context(bar)
        counts = (
            f"imported {run.imported}  skipped {run.skipped}  changed {run.changed}  "
            f"failed {run.failed}"
        )
        # A listing grows while it is read: more settled than first listed fills the bar.
        self.bar.update(run.settled - self.bar.pos, counts)
