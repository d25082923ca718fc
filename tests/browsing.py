"""What the players' browser tests share: logging in, a phone or a browser without
JavaScript, screenshots kept as test artifacts (test-artifacts/, not committed).

The `page` fixture (tests/conftest.py) is a desktop Chromium page; `open_page`
opens another one in the same browser, as a phone (390×844) or with JavaScript off.
"""

from pathlib import Path

from playwright import sync_api

from tests.factories import PASSWORD

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"width": 390, "height": 844}
# How the browser tests look at a page: desktop and phone with htmx; a phone without JavaScript.
SHAPES = ["desktop", "phone", "no-js"]


def open_page(page: sync_api.Page, shape: str = "desktop") -> sync_api.Page:
    """A new page in its own context (its own cookies) in `page`'s browser, in `shape`."""
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(
        viewport=PHONE if shape != "desktop" else None,
        java_script_enabled=shape != "no-js",
        is_mobile=shape != "desktop",
        has_touch=shape != "desktop",
    )
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    return opened


def log_in(page: sync_api.Page, base_url: str, username: str, path: str) -> None:
    """Log in through the form (no JavaScript needed) and land on `path`."""
    page.goto(f"{base_url}/accounts/login/?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{path}")


def screenshot(page: sync_api.Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def scrolls_sideways(page: sync_api.Page) -> bool:
    """Whether the page is wider than the window (a phone would scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
