from flask import render_template

from portal.imports import bp


@bp.get("/new")
def new():
    return render_template("imports/new.html")


@bp.get("/")
def results():
    return render_template("imports/results.html")
