"""The production stack as the README starts it, for the system tests.

The README's own commands (read from its production section, so that the two cannot part)
run as separate processes, each in a process group of its own: `flask db upgrade` and
`flask create-user`, then gunicorn serving ``app:create_app()`` on a free loopback port
with 2 workers, an ``rq worker`` and the ``rq cron`` scheduler. Their environment is a
production install's, no more: a PostgreSQL database and a Redis server of their own,
``SECRET_KEY``, ``WEBSTORE_SECRETS_KEY`` and ``PUBLIC_URL`` (the gunicorn server). A
sandbox store (``stack.store``) serves over HTTP beside them. Their logs are kept in
test-artifacts/production-stack/ when a test fails.
"""

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from sandbox.process import SandboxProcess
from tests.conftest import (
    ARTIFACTS,
    PASSWORD,
    database_beside,
    free_port,
    make_database,
    redis_server,
)

PROJECT = Path(__file__).resolve().parents[2]
README = PROJECT / "README.md"
BIN = Path(sys.executable).parent
SECTION = "## More workers, and production"
# How the README's commands are found in its production section: by their program.
COMMANDS = {
    "schema": r"^(flask db upgrade)$",
    "admin": r"^(flask create-user .+)$",
    "web": r"`(gunicorn [^`]+)`",
    "worker": r"`(rq worker [^`]+)`",
    "scheduler": r"`(rq cron [^`]+)`",
}
WEB_WORKERS = 2
START_TIMEOUT = 30
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => console.error(
  `CSP violation: ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));
"""


def production_commands() -> dict[str, str]:
    """The commands of the README's production section, as written, by what they start."""
    section = README.read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    commands = {}
    for name, pattern in COMMANDS.items():
        found = re.findall(pattern, section, re.MULTILINE)
        assert len(found) == 1, f"the README's production section has {found} for {name}"
        commands[name] = found[0]
    return commands


def web_command(command: str, port: int) -> str:
    """The README's gunicorn command on ``port`` with WEB_WORKERS workers."""
    command, binds = re.subn(r"--bind \S+", f"--bind 127.0.0.1:{port}", command)
    command, workers = re.subn(r"--workers \d+", f"--workers {WEB_WORKERS}", command)
    assert (binds, workers) == (1, 1), f"no --bind or --workers in {command!r}"
    return command


@pytest.fixture(scope="module")
def system_database_url() -> str:
    """A PostgreSQL database of the system tests' own beside TEST_DATABASE_URL's, on its
    server: ``test`` gives ``test_system``."""
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if not test_url.startswith("postgresql"):
        pytest.skip("the production stack runs on PostgreSQL: set TEST_DATABASE_URL to one")
    return database_beside(test_url, "_system")


@dataclass
class Stack:
    """The running stack: where the portal answers, its processes and their logs."""

    url: str
    env: dict
    logs: Path
    admin: str
    password: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    store: SandboxProcess | None = None

    def run(self, name: str, command: str) -> None:
        """Run a command to its end, as an operator types it; its output goes to the log."""
        with (self.logs / f"{name}.log").open("ab") as log:
            finished = subprocess.run(
                ["bash", "-c", command],
                cwd=PROJECT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
            )
        assert finished.returncode == 0, f"{command!r} failed:\n{self.log(name)}"

    def start(self, name: str, command: str) -> subprocess.Popen:
        """Start a long-running process in a group of its own."""
        with (self.logs / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                cwd=PROJECT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.processes[name]

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_until(self, condition, what: str, timeout: float = START_TIMEOUT):
        """Wait for ``condition()`` to be true, while every process lives."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            for name, process in self.processes.items():
                assert process.poll() is None, f"{name} exited:\n{self.log(name)}"
            assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
            time.sleep(0.05)
        return result

    def alive(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is None]

    def stop(self) -> None:
        """Ask every process to stop, then kill what is left of their groups."""
        for process in self.processes.values():
            signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            signal_group(process, signal.SIGKILL)  # the group's stragglers too
            process.wait()


def signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=10).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis server of the stack's own, on a free port, keeping nothing on disk: every
    database number of a shared one may be another suite's, which empties it at will."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, system_database_url, redis_url):
    """The README's production stack, up and healthy, and its sandbox store (``store``);
    stopped at the end of the module."""
    database_url = system_database_url
    commands = production_commands()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stack = Stack(
        url=url,
        env={
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            # The service user's: gunicorn keeps its control socket there.
            "HOME": str(tmp_path_factory.mktemp("home")),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_hex(32),
            "WEBSTORE_SECRETS_KEY": Fernet.generate_key().decode(),
            "PUBLIC_URL": url,
            "PORTAL_PASSWORD": PASSWORD,
        },
        logs=tmp_path_factory.mktemp("production-stack"),
        admin=commands["admin"].split()[2],
        password=PASSWORD,
    )
    failures = request.session.testsfailed
    # Delivering webhooks to loopback addresses, as the real-store kit's mu-plugin lets a
    # real store; started beside the stack, which takes longer.
    store = SandboxProcess(seed=1, orders=30, extra_args=("--webhook-allow-loopback",))
    pool = ThreadPoolExecutor(1)
    starting = pool.submit(store.start)
    pool.shutdown(wait=False)
    try:
        make_database(database_url, fresh=True)
        stack.run("schema", commands["schema"])
        stack.start("web", web_command(commands["web"], port))
        stack.start("worker", commands["worker"])
        stack.start("scheduler", commands["scheduler"])
        stack.run("admin", commands["admin"])  # while they start
        stack.wait_until(lambda: answers(f"{url}/healthz"), "the portal answers")
        stack.wait_until(
            lambda: "Successfully registered 4 cron jobs" in stack.log("scheduler"),
            "the scheduler registers its jobs",
        )
        stack.store = starting.result()
        yield stack
    finally:
        stack.stop()
        starting.exception()  # its start has ended, whatever it came to
        store.stop()
        if request.session.testsfailed > failures or sys.exc_info()[0] is not None:
            kept = ARTIFACTS / "production-stack"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(stack.logs, kept)


@pytest.fixture
def page(browser, stack):
    """A browser tab on the stack's portal that reports every policy violation as a console
    error, whatever the browser says of it."""
    context = browser.new_context(base_url=stack.url)
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
