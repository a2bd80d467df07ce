"""The app for jobs, built once per process tree.

RQ forks a work horse per job. The worker (``jobs.worker``) builds the app before it
forks, and each horse takes it over, without the connections its database pools hold:
those stay the parent's, and the horse opens its own. A job run in-process where an app
context is already active (the CLI, a test) uses that app.
"""

import os
from contextlib import contextmanager

from flask import current_app, has_app_context

_app = None
_pid = None


def get_app():
    global _app, _pid
    if _app is None:
        from app import create_app

        _app, _pid = create_app(), os.getpid()
    elif _pid != os.getpid():
        # Forked: the pooled connections are the parent's sockets. Dropped without closing
        # them (close=False), which would end them for the parent too.
        from portal import db

        with _app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
        _pid = os.getpid()
    return _app


@contextmanager
def app_context():
    if has_app_context():
        yield current_app._get_current_object()
        return
    with get_app().app_context():
        yield
