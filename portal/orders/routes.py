from flask import render_template

from portal.orders import bp


@bp.get("/")
def index():
    return render_template("orders/index.html")
