"""The facade's Content-Security-Policy in a real browser (headless Chromium): Swagger UI, the browsable
API, the admin and the shop's pages all work under it, and the browser reports no violation.

A violation shows twice, so that neither can slip by: in the console log ("Refused to ... because it
violates the following Content Security Policy directive"), and as a `securitypolicyviolation`
event, which a script the browser runs before each page's own records.
"""

import os
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_FLAGS, WAIT_SECONDS, chromedriver  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    const blocked = event.blockedURI || "inline";
    window.__violations.push(`${event.violatedDirective} blocked ${blocked} in ${event.sourceFile}`);
});
"""


@pytest.fixture
def browser(chromedriver, shop, tmp_path) -> Iterator[webdriver.Chrome]:  # noqa: F811 (the fixture above)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(chromedriver), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, url: str, ready_css: str):
    """Open url, wait until ready_css is on it, and return what matched."""
    driver.get(url)
    try:
        WebDriverWait(driver, WAIT_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, ready_css))
    except TimeoutException:
        assert_no_violation(driver)  # the likeliest reason, said plainly
        raise
    return driver.find_elements(By.CSS_SELECTOR, ready_css)


def assert_no_violation(driver) -> None:
    violations = driver.execute_script("return window.__violations || [];")
    console = [entry["message"] for entry in driver.get_log("browser")]
    refused = [message for message in console if "Content Security Policy" in message or "Uncaught" in message]
    assert violations == [] and refused == [], f"{driver.current_url}: {violations} {refused}"


@pytest.mark.parametrize("docs", ["api/docs/", "api/catalog/docs/"])
def test_swagger_ui_renders_its_operations_under_the_policy(browser, shop, docs):
    operations = open_page(browser, shop.url + docs, ".opblock")

    assert len(operations) >= 3
    # It is alive, not just drawn: an operation opens.
    operations[0].find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock.is-open"))
    assert_no_violation(browser)


def test_the_browsable_api_renders_and_runs_its_scripts_under_the_policy(browser, shop):
    open_page(browser, f"{shop.url}api/catalog/products/", ".response-info")

    assert browser.execute_script("return typeof window.jQuery;") == "function"
    assert "Product" in browser.title
    assert_no_violation(browser)


def test_the_admin_works_under_the_policy(browser, shop):
    open_page(browser, f"{shop.url}admin/login/", "#id_username")
    browser.find_element(By.ID, "id_username").send_keys("admin")
    browser.find_element(By.ID, "id_password").send_keys("admin")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    open_page(browser, f"{shop.url}admin/auth/user/", "#result_list")

    # The change list's actions run from the admin's script files.
    browser.find_element(By.ID, "action-toggle").click()
    assert browser.find_elements(By.CSS_SELECTOR, "tr.selected")
    assert_no_violation(browser)


@pytest.mark.parametrize("path", ["", "products/?category=coffee", "cart/", "accounts/login/"])
def test_the_shop_s_pages_show_no_violation(browser, shop, path):
    open_page(browser, shop.url + path, "[data-testid=served-by]")

    assert_no_violation(browser)
