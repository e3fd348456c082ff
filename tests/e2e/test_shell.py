"""The page shell as a person sees it: login, navigation, strict CSP, htmx with CSRF."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_shows_the_shell_under_a_strict_csp(page, live_server, admin_user, login):
    response = page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp

    login(page, admin_user, "pw-ada-admin")
    assert page.locator(".user").inner_text() == "ada-admin"
    assert "us-east-1" in page.locator(".endpoint").inner_text()
    assert page.locator("nav.nav a").first.is_visible()
    # htmx loaded (through django-htmx, with the nonce) and configured not to inject styles.
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False


def test_htmx_requests_carry_the_csrf_token(page, live_server, admin_user, login):
    login(page, admin_user, "pw-ada-admin")
    # Logging out is a CSRF-protected POST: through htmx it only works if the token is sent.
    status = page.evaluate(
        """() => new Promise(resolve => {
            document.body.addEventListener('htmx:afterRequest',
                e => resolve(e.detail.xhr.status), {once: true});
            htmx.ajax('POST', '/accounts/logout/', {target: '#main', swap: 'none'});
        })"""
    )
    assert status == 200  # the redirect to the login page, followed by the browser
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")


def test_usable_on_a_phone(browser, live_server, admin_user, login):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    login(page, admin_user, "pw-ada-admin")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.locator("nav.nav a").first.is_visible()
    context.close()
