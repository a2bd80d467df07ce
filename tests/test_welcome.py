"""`make run`'s start-up box: where the portal is, who signs in, and what runs."""

import re

import sqlalchemy as sa

from portal import db
from portal.models import Role, User


def test_the_box_gives_the_new_admins_password_once(runner, live_server, demo_webstore):
    first = runner.invoke(args=["welcome", "admin", "--url", f"{live_server}/"])
    again = runner.invoke(args=["welcome", "admin", "--url", f"{live_server}/"])

    assert first.exit_code == 0, first.output
    assert "| Webstore Connector is running" in first.output
    assert f"| Open       {live_server}/" in first.output
    password = re.search(r"Sign in    admin / (\S+)   \(new: note the password", first.output)[1]
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    assert admin.role == Role.ADMIN and admin.check_password(password)
    assert "DEMO: import by hand, or turn automatic sync on in Setup > Webstores > DEMO" in (
        first.output
    )
    # The box ends the output; the password is never shown again.
    assert first.output.rstrip().splitlines()[-1].startswith("====")
    assert password not in again.output
    assert "Sign in    admin, with the password shown when it was created" in again.output


def test_the_box_says_when_the_portal_does_not_answer(runner, app):
    result = runner.invoke(args=["welcome", "admin", "--url", "http://127.0.0.1:9/", "--wait", "1"])

    assert "| The portal does not answer at http://127.0.0.1:9/" in result.output
