from flask import current_app, jsonify, request

from portal import csrf
from portal.webhooks import bp, deliveries


@bp.post("/woocommerce/<code>")
@csrf.exempt
def receive(code: str):
    # Held to WEBHOOK_MAX_BYTES by the delivery's own check, which answers the store in its
    # words, instead of to the forms' MAX_CONTENT_LENGTH; one byte more, which that check
    # reads to notice a chunked body over the limit.
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"] + 1
    answer = deliveries.receive(code, request)
    return jsonify(answer.body), answer.status
