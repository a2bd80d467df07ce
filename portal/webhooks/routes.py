from flask import jsonify, request

from portal import csrf
from portal.webhooks import bp, deliveries


@bp.post("/woocommerce/<code>")
@csrf.exempt
def receive(code: str):
    answer = deliveries.receive(code, request)
    return jsonify(answer.body), answer.status
