from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal.auth import bp, sessions
from portal.auth.access import require_sign_in
from portal.auth.forms import LoginForm
from portal.auth.login import TooManyFailures, authenticate

bp.before_app_request(require_sign_in)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("orders.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data, request.remote_addr)
        except TooManyFailures as error:
            form.form_errors.append(str(error))
            status = 429
        else:
            if user:
                start_afresh()
                sessions.start_session(user)
                login_user(user)
                return redirect(safe_next(request.args.get("next")))
            form.form_errors.append("Unknown username or wrong password.")
            status = 401
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    token = current_user.session_token
    start_afresh()
    logout_user()
    sessions.end_session(token)
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


def start_afresh() -> None:
    """Sign-in and sign-out start the browser's session anew, with a new CSRF token: one read
    before (by the last user of this browser, or from a page left open) no longer works."""
    session.clear()
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)  # the old one, kept for this request


def safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site."""
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("orders.index")
