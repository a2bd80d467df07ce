"""``flask`` commands: create-user, seed-demo."""

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
    from sandbox import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET

    from portal.setup.demo import seed_demo_webstore

    webstore = seed_demo_webstore(store_url, DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET)
    click.echo(f"Webstore {webstore.code} points at the sandbox store {webstore.base_url}.")
