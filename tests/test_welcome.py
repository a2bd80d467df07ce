"""`make run`'s start-up box: where the portal is, who signs in, and what runs."""

import re
import stat
from pathlib import Path

import sqlalchemy as sa

from app import create_app
from config import TestConfig
from portal import db
from portal.models import Role, User


def welcome(runner, url: str, kept: Path):
    return runner.invoke(args=["welcome", "admin", "--url", url, "--password-file", str(kept)])


def test_the_box_gives_the_new_admins_password_once_and_keeps_it_in_a_file(
    runner, live_server, demo_webstore, tmp_path
):
    kept = tmp_path / "instance" / "admin-password.txt"
    first = welcome(runner, f"{live_server}/", kept)
    again = welcome(runner, f"{live_server}/", kept)

    assert first.exit_code == 0, first.output
    assert "| Webstore Connector is running" in first.output
    assert f"| Open       {live_server}/" in first.output
    password = re.search(r"Sign in    admin / (\S+)   \(new: also kept in (\S+)\)", first.output)
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    assert admin.role == Role.ADMIN and admin.check_password(password[1])
    assert "DEMO: import by hand, or turn automatic sync on in Setup > Webstores > DEMO" in (
        first.output
    )
    # The box ends the output; the request log that follows may scroll it away, so the
    # password waits in a file only its owner reads, which later boxes point at.
    assert first.output.rstrip().splitlines()[-1].startswith("====")
    assert password[2] == str(kept) and kept.read_text() == password[1] + "\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert password[1] not in again.output
    assert f"Sign in    admin, with the password kept in {kept}" in again.output


def test_the_kept_password_goes_once_it_no_longer_signs_in(runner, live_server, tmp_path):
    kept = tmp_path / "admin-password.txt"
    welcome(runner, f"{live_server}/", kept)
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    admin.set_password("a password of my own choosing")
    db.session.commit()

    later = welcome(runner, f"{live_server}/", kept)

    assert "Sign in    admin, with the password shown when it was created" in later.output
    assert not kept.exists()


def test_by_default_the_password_is_kept_in_the_instance_folder(
    app, database_url, live_server, tmp_path
):
    elsewhere = create_app(TestConfig, str(tmp_path), SQLALCHEMY_DATABASE_URI=database_url)

    with elsewhere.app_context():
        result = elsewhere.test_cli_runner().invoke(
            args=["welcome", "admin", "--url", f"{live_server}/"]
        )
        # Its session's connection goes back to the pool before the pool is closed: else
        # it is left open, and warns when collected during a later test.
        db.session.remove()
        db.engine.dispose()

    kept = tmp_path / "admin-password.txt"
    assert f"(new: also kept in {kept})" in result.output
    assert kept.read_text().strip() in result.output


def test_the_box_says_when_the_portal_does_not_answer(runner, app, tmp_path):
    kept = str(tmp_path / "admin-password.txt")
    result = runner.invoke(
        args=["welcome", "admin", "--url", "http://127.0.0.1:9/", "--wait", "1"]
        + ["--password-file", kept]
    )

    assert "| The portal does not answer at http://127.0.0.1:9/" in result.output
