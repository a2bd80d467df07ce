"""The app for jobs, built once per process.

RQ forks a work horse per job: an app (and its connection pool) built in the parent must
not be used in the child, so the app is built in the process where the job runs. A job
run in-process where an app context is already active (the CLI, a test) uses that app.
"""

import os
from contextlib import contextmanager

from flask import current_app, has_app_context

_app = None
_pid = None


def get_app():
    global _app, _pid
    if _app is None or _pid != os.getpid():
        from app import create_app

        _app, _pid = create_app(), os.getpid()
    return _app


@contextmanager
def app_context():
    if has_app_context():
        yield current_app._get_current_object()
        return
    with get_app().app_context():
        yield
