"""The setup page's Send a test alert, in a browser: the answer comes in place."""

from portal import db
from tests.conftest import sign_in_browser
from tests.test_alerts import AlertHook


def test_send_a_test_alert_answers_in_place(page, admin_user, webstore):
    hook = AlertHook()
    try:
        webstore.alert_webhook_url = hook.url
        db.session.commit()
        sign_in_browser(page, admin_user.username)
        page.goto(f"/setup/webstores/{webstore.id}")

        page.get_by_role("button", name="Send a test alert").click()

        answer = page.locator("#alert-test-result article")
        answer.wait_for()
        assert answer.inner_text() == (
            f"Test alert sent by webhook to 127.0.0.1:{hook.server.server_port}."
        )
        assert page.url.endswith(f"/setup/webstores/{webstore.id}")
        [text] = hook.texts()
        assert text.startswith("Test alert for webstore MAIN (Main store)")
    finally:
        hook.close()
