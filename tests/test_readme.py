"""The README tells a newcomer what `make run` really does."""

import re
from pathlib import Path

from portal.setup.demo import seed_demo_webstore

ROOT = Path(__file__).parents[1]


def words(text: str) -> str:
    return " ".join(text.split())


def test_every_setting_the_makefile_takes_from_the_environment_is_in_the_readme():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    settings = re.findall(r"^export (\w+) \?=", makefile, re.M)
    table = set(re.findall(r"^\| `(\w+)`", readme, re.M))

    assert settings == ["SANDBOX_PORT", "PORT", "PORTAL_URL", "SANDBOX_URL"]
    assert [name for name in settings if name not in table] == []


def test_the_readme_says_the_demo_has_write_back_off_as_it_is_set_up(app, store):
    demo = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)
    readme = words((ROOT / "README.md").read_text())

    assert demo.writeback_enabled is False
    assert "those set up before write-back existed have it off, and so does `DEMO`" in readme
    assert "turn it on in **Setup → Webstores → DEMO → Update the webstore order**" in readme


def test_the_readme_says_where_make_run_keeps_the_new_admins_password():
    readme = words((ROOT / "README.md").read_text())
    procfile = (ROOT / "Procfile").read_text()

    assert "welcome admin --url" in procfile  # its default file: instance/admin-password.txt
    assert "the password is also kept in `instance/admin-password.txt`" in readme
