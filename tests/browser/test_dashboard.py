"""The dashboard in a real browser (headless Chromium): pages, live progress, reconnects, escaping, slow clients."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import World, screenshot
from tests.browser.llm import INJECTED

pytestmark = pytest.mark.browser

LIVE = "() => document.getElementById('live').dataset.state === 'live'"


def _live_item(run_id: str, phase: str) -> str:
    return f'#live-progress li[data-key="progress:{run_id}:{phase}"]'


def test_runs_page_lists_the_completed_run_and_goes_live(world: World, page):
    page.goto(world.url + "/")
    page.wait_for_function(LIVE)
    row = page.locator(f'tr[data-run="{world.first.run_id}"]')
    assert row.locator("td.status").inner_text() == "COMPLETED"
    assert row.locator("td").nth(7).inner_text() == "3/3"  # debates completed / requested
    assert page.locator("#live").get_attribute("data-snapshots") == "1"
    assert page.locator("#scan-now").is_visible()  # an actions object is attached
    screenshot(page, "runs")


def test_run_page_shows_the_ranked_table_with_contracts_and_debates(world: World, page):
    run_id = world.first.run_id
    page.goto(f"{world.url}/runs/{run_id}")
    rows = page.locator("table.ranked tbody tr")
    assert rows.count() == 16
    assert page.locator("#run-status").inner_text() == "COMPLETED"
    debated = page.locator("table.ranked tbody tr td.debate").all_inner_texts()
    assert sum(1 for text in debated if text != "-") == 3
    assert [p.inner_text() for p in page.locator("#phases tr td:first-child").all()][0] == "data_fetch"
    screenshot(page, "run")
    first_debated = next(i for i, text in enumerate(debated) if text != "-")
    rows.nth(first_debated).locator("a").click()
    page.wait_for_url(f"**/runs/{run_id}/tickers/*")
    assert page.locator("article.thesis").count() == 3


def test_ticker_page_shows_an_llm_script_as_text(world: World, page):
    """Every LLM summary ends with a <script>: it is displayed as text and never runs."""
    run_id = world.first.run_id
    report = page.request.get(f"{world.url}/api/runs/{run_id}").json()
    ticker = next(r["ticker"] for r in report["results"] if r["debate"])
    page.goto(f"{world.url}/runs/{run_id}/tickers/{ticker}")
    summaries = page.locator("article.thesis .summary-text").all_inner_texts()
    assert len(summaries) == 3 and all(text.endswith(INJECTED) for text in summaries)
    assert page.evaluate("window.__owned") is None
    assert page.locator("main script").count() == 0
    assert page.locator("svg.chart line.strike").count() == 1
    assert page.locator("svg.chart line.break-even").count() == 1
    assert page.locator("svg.chart polyline.closes").count() == 1  # the sim history, regenerated and checked
    screenshot(page, "ticker")


def test_system_page_shows_what_the_system_reported(world: World, page):
    page.goto(world.url + "/system")
    assert page.locator("#no-daemon").count() == 0
    assert page.get_by_role("heading", name="LLM health").is_visible()
    assert page.get_by_role("heading", name="Circuit breaker").is_visible()
    actors = page.locator("h2:has-text('actors') + table tbody tr td:first-child").all_inner_texts()
    assert actors[0] == "persister" and "coordinator" in actors  # what the supervisor reports, in start order
    screenshot(page, "system")


#: Test-side recorder (injected through the DevTools protocol, not the page): every value the
#: debate phase's live progress shows, in order, kept across the page loads of the test.
RECORDER = """
(() => {
  const seen = JSON.parse(sessionStorage.getItem("seen") || "[]");
  window.__seen = seen;
  new MutationObserver(() => {
    document.querySelectorAll('#live-progress li[data-key$=":ai_debate"]').forEach((li) => {
      const value = li.dataset.run + " " + li.dataset.done;
      if (seen[seen.length - 1] !== value) { seen.push(value); sessionStorage.setItem("seen", JSON.stringify(seen)); }
    });
  }).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""


def test_live_progress_advances_during_a_scan_started_from_the_page(world: World, page):
    """Scan now (a same-origin POST) starts a scan in the system; its phases advance live on the page."""
    page.add_init_script(RECORDER)
    page.goto(world.url + "/")
    page.wait_for_function(LIVE)
    page.locator("#scan-now").click()
    page.wait_for_url("**/?notice=*")
    notice = page.locator("#notice").inner_text()
    assert notice.startswith("scan ") and notice.endswith(" started")
    run_id = notice.split()[1]
    page.wait_for_function(LIVE)
    # A second request while it runs is refused with a message.
    page.locator("#scan-now").click()
    page.wait_for_url("**/?notice=*")
    assert page.locator("#notice").inner_text() == f"refused: scan {run_id} is still running"
    page.wait_for_function(LIVE)
    page.wait_for_function(f"() => (window.__seen || []).some((v) => v.startsWith('{run_id} ') && v !== '{run_id} 0')")
    screenshot(page, "runs-live")  # mid-debate
    page.wait_for_function(f"""() => {{
        const row = document.querySelector('tr[data-run="{run_id}"] td.status');
        return row && row.textContent === 'COMPLETED'; }}""", timeout=30_000)
    seen = [v.split(" ")[1] for v in page.evaluate("window.__seen") if v.startswith(run_id + " ")]
    counted = [int(d) for d in seen if d.isdigit()]
    assert counted[-1] == 3 and len(set(counted)) >= 2 and counted == sorted(counted), seen  # advanced, never back
    page.wait_for_function(f"() => !document.querySelector('#live-progress li[data-run=\"{run_id}\"]')")


def test_a_reconnecting_browser_gets_what_it_missed_by_last_event_id(world: World, page):
    page.goto(world.url + "/")
    page.wait_for_function(LIVE)
    before = world.call(world.hub.statistics)

    def drop_and_publish():  # atomically: the browser cannot reconnect in between
        world.hub.close_clients()
        for done in range(1, 6):
            world.hub.publish("progress", {"run_id": "gap-run", "phase": "scoring", "state": "running",
                                           "done": done, "total": 5}, key="progress:gap-run:scoring")

    world.call(drop_and_publish)
    page.wait_for_function(f"""() => {{
        const item = document.querySelector('{_live_item("gap-run", "scoring")}');
        return item && item.dataset.done === '5'; }}""")
    after = world.call(world.hub.statistics)
    assert after.replayed == before.replayed + 1  # served from the ring, by Last-Event-ID
    live = page.locator("#live")
    assert live.get_attribute("data-snapshots") == "1"  # no second snapshot: the missed events themselves
    assert live.get_attribute("data-opens") == "2"
    world.call(lambda: world.hub.publish("progress", {"run_id": "gap-run", "phase": "scoring", "state": "ok",
                                                      "seconds": 1.0}, key="progress:gap-run:scoring"))


def test_a_slow_sse_client_does_not_delay_a_fast_one(world: World, page):
    """A client that never reads its stream: the browser still gets every update at once."""
    page.goto(world.url + "/")
    page.wait_for_function(LIVE)
    parts = urlsplit(world.url)
    slow = socket.create_connection((parts.hostname, parts.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        slow.sendall(f"GET /events HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        deadline = time.monotonic() + 10
        while world.call(lambda: world.hub.statistics().clients) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        padding = "x" * 4000
        for batch in range(40):  # 4,000 events of 4 kB: far more than the slow socket's buffers hold

            def publish(batch=batch):
                for i in range(100):
                    n = batch * 100 + i + 1
                    world.hub.publish("progress", {"run_id": "slow-test", "phase": f"p{n % 100}", "state": "running",
                                                   "done": n, "total": 4000, "pad": padding},
                                      key=f"progress:slow-test:p{n % 100}")

            world.call(publish)
        page.wait_for_function(f"""() => {{
            const item = document.querySelector('{_live_item("slow-test", "p0")}');
            return item && item.dataset.done === '4000'; }}""", timeout=20_000)
        stats = world.call(world.hub.statistics)
        assert stats.resyncs >= 1  # the slow client fell behind and skipped ahead; it held no unbounded buffer
    finally:
        slow.close()
