"""The application factory: ``flask --app app run``."""

import logging

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from config import Config
from portal import db, htmx, login_manager


def create_app(
    config: type[Config] | None = None, instance_path: str | None = None, **overrides
) -> Flask:
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    config = config or Config
    app.config.from_object(config)
    app.config.update(overrides)
    config.finish(app)

    from portal import csrf, db, migrate, models, security  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    from portal.converters import IdConverter

    app.url_map.converters["id"] = IdConverter

    from portal import (
        accounting,
        audits,
        auth,
        cli,
        credit_memos,
        customers,
        documents,
        health,
        imports,
        items,
        metrics,
        orders,
        search,
        setup,
        webhooks,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(customers.bp)
    app.register_blueprint(items.bp)
    app.register_blueprint(credit_memos.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(setup.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(audits.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(accounting.bp)
    cli.init_app(app)
    register_error_pages(app)
    htmx.init_app(app)
    security.init_app(app)
    return app


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        message = "This form is out of date (its security token is missing or expired). "
        message += "Reload the page and try again."
        return render_error(400, "Please reload the page", message)

    @app.errorhandler(OperationalError)
    def database_down(error):
        logging.getLogger(__name__).error("database unavailable: %s", error.orig)
        # Render as nobody: loading the signed-in user would ask the database again.
        g._login_user = login_manager.anonymous_user()
        message = "The database is not answering right now. Try again in a minute; "
        message += "if it lasts, tell whoever runs the connector."
        return render_error(503, "Database unavailable", message)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
        message = f"What was sent is larger than the portal accepts ({limit:g} MB at most), "
        message += "so none of it was read or saved. Go back and send less at once."
        return render_error(413, "Too much at once", message)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code >= 500:
            # A failed statement leaves the transaction aborted, and the page's layout
            # reads the signed-in user: start afresh (the failed request saves nothing).
            db.session.rollback()
        return render_error(error.code, error.name, error.description)


def render_error(status: int, title: str, message: str):
    template = "partials/error.html" if htmx.is_htmx() else "error.html"
    return render_template(template, status=status, title=title, message=message), status
