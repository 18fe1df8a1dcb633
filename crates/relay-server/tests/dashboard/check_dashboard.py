"""Drives the relay's web dashboard in headless Chromium over WebDriver
(selenium) and prints what it saw as JSON; tests/dashboard.rs asserts on it.

argv: relay_url chromium chromedriver write_token read_token screenshot_path
"""
import json
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

relay, chromium, chromedriver, write_token, read_token, screenshot = sys.argv[1:7]
seen = {}


def http(method, path, token=None, body=None, headers=None):
    request = urllib.request.Request(relay + path, method=method, data=body)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def send_message(request_id):
    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 8,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    status, _ = http("POST", "/v1/messages", body=body,
                     headers={"content-type": "application/json", "x-request-id": request_id})
    return status


options = webdriver.ChromeOptions()
options.binary_location = chromium
profile = tempfile.mkdtemp(prefix="cc-relay-chromium-")
for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + profile, "--window-size=1280,1000"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
wait = WebDriverWait(driver, 10)


def css(selector):
    return driver.find_element(By.CSS_SELECTOR, selector)


def sign_in(token):
    driver.get(relay + "/ui/")
    wait.until(ec.visibility_of_element_located((By.ID, "token"))).send_keys(token)
    css("#signin-form button[type=submit]").click()
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, '#providers tr[data-provider="primary"]')))


def confirm():
    wait.until(ec.visibility_of_element_located((By.ID, "confirm-ok"))).click()


try:
    # Sign in; the provider row shows.
    sign_in(write_token)
    row = css('#providers tr[data-provider="primary"]')
    seen["provider_row"] = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    seen["mode"] = css("#mode").text

    # A request sent to the relay appears on the live page within 2 s.
    css('nav a[data-page="live"]').click()
    wait.until(ec.visibility_of_element_located((By.ID, "events")))
    wait.until(ec.text_to_be_present_in_element((By.ID, "live-state"), "connected"))
    started = time.monotonic()
    seen["live_status"] = send_message("dash-live-0001")
    WebDriverWait(driver, 5, poll_frequency=0.05).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, '#events tr[data-id="dash-live-0001"]')))
    seen["live_seconds"] = time.monotonic() - started
    seen["live_row"] = [td.text for td in css('#events tr[data-id="dash-live-0001"]').find_elements(By.TAG_NAME, "td")]

    # The filter hides what does not match, and pausing holds the table.
    css("#filter").send_keys("no-such-provider")
    seen["filtered_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "#events tr[data-id]"))
    css("#filter").clear()
    css("#pause").click()
    send_message("dash-paused-0002")
    wait.until(ec.text_to_be_present_in_element((By.ID, "live-state"), "1 new"))
    seen["paused_hidden"] = not driver.find_elements(By.CSS_SELECTOR, '#events tr[data-id="dash-paused-0002"]')
    css("#pause").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, '#events tr[data-id="dash-paused-0002"]')))

    # The charts render from the live events.
    for i in range(6):
        send_message(f"dash-chart-{i:04}")
    css('nav a[data-page="overview"]').click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-rate path.series")
               and len(d.find_elements(By.CSS_SELECTOR, "#chart-latency circle")) >= 8)
    seen["rate_points"] = int(css("#chart-rate path.series").get_attribute("data-points"))
    seen["latency_dots"] = len(driver.find_elements(By.CSS_SELECTOR, "#chart-latency circle"))
    # Wait for a poll to show the requests in the table, then keep a screenshot.
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#providers tr[data-provider="primary"] td:nth-child(6)').text == "8")
    driver.save_screenshot(screenshot)

    # Disabling the provider from the page is visible in /v1/providers.
    css('#providers button[data-action="disable"][data-provider="primary"]').click()
    confirm()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#providers tr[data-provider="primary"] td[data-state]')
               .get_attribute("data-state") == "disabled")
    _, providers = http("GET", "/v1/providers")
    seen["v1_active_after_disable"] = [p["active"] for p in providers["data"] if p["name"] == "primary"]
    seen["notice"] = css("#notice").text
    css('#providers button[data-action="enable"][data-provider="primary"]').click()
    confirm()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#providers tr[data-provider="primary"] td[data-state]')
               .get_attribute("data-state") == "active")
    _, providers = http("GET", "/v1/providers")
    seen["v1_active_after_enable"] = [p["active"] for p in providers["data"] if p["name"] == "primary"]

    # The configuration page shows the redacted configuration.
    css('nav a[data-page="config"]').click()
    wait.until(lambda d: "providers" in d.find_element(By.ID, "config-text").text)
    seen["config_text"] = css("#config-text").text

    # A read-only token: every write control is disabled, and the API refuses.
    css("#sign-out").click()
    sign_in(read_token)
    seen["read_only_mode"] = css("#mode").text
    buttons = driver.find_elements(By.CSS_SELECTOR, "button.write")
    seen["read_only_buttons"] = len(buttons)
    seen["read_only_enabled_buttons"] = sum(1 for b in buttons if b.is_enabled())
    seen["read_only_api_status"], _ = http("POST", "/admin/providers/primary/disable", token=read_token)
    _, stats = http("GET", "/admin/stats", token=read_token)
    seen["still_enabled"] = not stats["providers"][0]["disabled_by_operator"]

    # No console errors, and nothing requested from another host.
    seen["console"] = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    hosts = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith(("data:", "blob:")):
                hosts.add(urlparse(url).netloc)
    seen["hosts"] = sorted(hosts)
    seen["resource_hosts"] = driver.execute_script(
        "return [...new Set(performance.getEntriesByType('resource').map(e => new URL(e.name).host))]")
finally:
    driver.quit()

print(json.dumps(seen))
