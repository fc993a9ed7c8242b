"""The dashboard's pages, API, exports and guard, through the real app over ASGI (no server)."""

from __future__ import annotations

import csv
import io
import json
import logging
import re

import trio

from actors.cli import main
from actors.config import Settings
from actors.fakes.memory_persister import MemoryPersister
from actors.report import SCHEMA_VERSION
from actors.secrets import Secret
from actors.system import open_system
from actors.web.actions import ActionResult, SystemActions
from actors.web.app import create_app
from actors.web.export import report_csv
from actors.web.live import Observed
from actors.web.security import CSP, REPORT_CSP
from actors.web.sse import EventHub
from actors.web.status import system_status
from actors.web.store_view import RunStore
from tests.web.conftest import asgi_client
from tests.web.stored import IMG, RUN_ID, SCRIPT

PAGES = ["/", f"/runs/{RUN_ID}", f"/runs/{RUN_ID}/tickers/AAPL", "/system", f"/runs/{RUN_ID}/report.html"]


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html, flags=re.I)


class TestPages:
    async def test_runs_page_lists_the_run_with_status_counts_and_duration(self, client):
        page = await client.get("/")
        assert page.status_code == 200
        row = re.search(rf'<tr class="status-completed" data-run="{RUN_ID}">(.*?)</tr>', page.text, re.S).group(1)
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        assert cells[:9] == [RUN_ID, "2026-07-24 15:00:00", "COMPLETED", "sim", "4", "3", "2", "1/1", "12.5 s"]
        assert "Scan now" not in page.text  # no actions attached

    async def test_run_page_has_the_ranked_table_phases_and_errors(self, client):
        page = await client.get(f"/runs/{RUN_ID[:12]}")  # a unique prefix is enough
        assert page.status_code == 200
        text = page.text
        assert [m for m in re.findall(r'/tickers/(\w+)">', text)] == ["AAPL", "MSFT", "CLX"]
        assert "adjust 0.55" in text  # the debate cell, as in the terminal table
        assert "(no contract within the delta target)" in text
        assert re.search(r"<td>data_fetch</td><td class=\"state\">ok</td>\s*<td class=\"num\">1.2 s</td>", text)
        assert "no such symbol &lt;img src=x onerror=alert(1)&gt;" in text
        assert "data as of</th><td>2026-07-24" not in text  # stored as-of dates are the data's
        assert "2024-01-05" in text

    async def test_ticker_page_shows_the_case_with_untrusted_text_escaped(self, client):
        """The bull's reply holds a <script> and an <img onerror>: both are shown as text, never as markup."""
        page = await client.get(f"/runs/{RUN_ID}/tickers/aapl")
        assert page.status_code == 200
        text = page.text
        assert SCRIPT not in text and IMG not in text
        assert "Looks strong. &lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in text
        assert "trend up &lt;img src=x onerror=alert(1)&gt;" in text
        assert _scripts(text) == ['<script src="/static/live.js" defer>']
        for role in ("bull · bullish · conviction 0.70", "bear · bearish · conviction 0.40",
                     "risk · bullish · adjust · conviction 0.55"):
            assert role in text
        assert "break-even at expiry</th><td>154.20" in text  # strike 150 + mid 4.20 (call)
        svg = re.search(r"<svg.*?</svg>", text, re.S).group(0)
        assert 'class="strike"' in svg and 'class="break-even"' in svg and "break-even 154.20" in svg

    async def test_ticker_page_shows_keys_other_branches_add_when_present(self, stored_db, monkeypatch):
        """news, quote_age_s and data_flags (added by the news and live-data work) are rendered, escaped."""
        store = RunStore(stored_db)
        original = store.report

        async def with_keys(run_id):
            report = await original(run_id)
            report["results"][0].update(
                quote_age_s=95.0, data_flags=["mixed-dates"],
                news=[{"id": 1, "title": f"Beat {SCRIPT}", "source": "Wire", "url": "javascript:alert(1)",
                       "published_at": "2026-07-24T12:00:00Z", "sentiment": "positive", "impact": 0.8,
                       "event_type": "earnings", "reasoning": "beat", "weight": 1.0, "points": 2.5}])
            return report

        monkeypatch.setattr(store, "report", with_keys)
        async with asgi_client(create_app(store, hub=EventHub())) as c:
            text = (await c.get(f"/runs/{RUN_ID}/tickers/AAPL")).text
        assert "quote 1 min 35 s old" in text and "mixed-dates" in text
        assert "Beat &lt;script&gt;" in text and "+2.5" in text
        assert "javascript:" not in text  # only http(s) links

    async def test_unknown_run_and_ticker_are_404_pages(self, client):
        assert (await client.get("/runs/nope")).status_code == 404
        missing = await client.get(f"/runs/{RUN_ID}/tickers/TSLA")
        assert missing.status_code == 404 and "has no result for &#39;TSLA&#39;" in missing.text

    async def test_no_database_yet_is_said_plainly(self, tmp_path):
        async with asgi_client(create_app(RunStore(tmp_path / "none.db"), hub=EventHub())) as c:
            page = await c.get("/")
            api = await c.get("/api/runs")
        assert page.status_code == 200 and "no database there (has a scan been run?)" in page.text
        assert api.status_code == 503 and "no database there" in api.json()["error"]

    async def test_system_page_without_a_daemon_says_so_and_invents_nothing(self, client):
        text = (await client.get("/system")).text
        assert "no daemon attached: showing the database only" in text
        assert "<h2>Circuit breaker</h2>" not in text and "<h2>LLM health</h2>" not in text

    async def test_system_page_renders_the_status_provider_and_the_observed_breaker(self, stored_db):
        observed = Observed()
        observed.note("breaker", {"state": "open", "reason": "3 consecutive failures", "at": "2026-07-24T15:00:00+00:00"})
        observed.note("health", {"backend": "ollama", "status": "healthy", "latency": 0.02, "detail": "ok", "at": "x"})

        async def status():
            return {"queues": {"persister": "0/64", "debate_pool": "2/16"}, "next_scan": "2026-07-27 09:45 America/New_York",
                    "data_sources": [{"name": "cboe", "last_fetch": "15:00", "last_error": "<b>429</b>"}]}

        app = create_app(RunStore(stored_db), hub=EventHub(), observed=observed, status=status)
        async with asgi_client(app) as c:
            text = (await c.get("/system")).text
        assert "no daemon attached" not in text
        assert "3 consecutive failures" in text and 'id="health-status">healthy' in text
        assert "debate_pool" not in text and "debate pool</th><td>2/16" in text
        assert "2026-07-27 09:45 America/New_York" in text and "&lt;b&gt;429&lt;/b&gt;" in text


class TestApi:
    async def test_api_run_is_the_show_json_document(self, client, stored_db, capsys):
        assert main(["show", RUN_ID, "--db", str(stored_db), "--json"]) == 0
        assert (await client.get(f"/api/runs/{RUN_ID}")).json() == json.loads(capsys.readouterr().out)
        assert (await client.get("/api/runs/nope")).status_code == 404

    async def test_api_runs_and_healthz(self, client):
        document = (await client.get("/api/runs")).json()
        runs = document["runs"]
        assert document["schema_version"] == SCHEMA_VERSION
        assert [r["run_id"] for r in runs] == [RUN_ID] and runs[0]["status"] == "COMPLETED"
        assert (await client.get("/healthz")).json() == {"ok": True, "events": 0}


class TestExports:
    async def test_csv_has_one_row_per_ranked_ticker(self, client):
        response = await client.get(f"/runs/{RUN_ID}.csv")
        assert response.headers["content-type"].startswith("text/csv")
        assert f'filename="option-alpha-{RUN_ID}.csv"' in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [(r["rank"], r["ticker"], r["contract"], r["verdict"]) for r in rows] == [
            ("1", "AAPL", "AAPL240216C00150000", "adjust"), ("2", "MSFT", "", ""), ("3", "CLX", "CLX240216C00150000", "")]

    def test_csv_cells_a_spreadsheet_would_run_are_quoted(self):
        report = {"results": [{"rank": 1, "ticker": "X", "no_option_reason": "=HYPERLINK(\"http://x\")", "catalysts": []}]}
        row = next(csv.DictReader(io.StringIO(report_csv(report))))
        assert row["no_option_reason"] == "'=HYPERLINK(\"http://x\")"

    async def test_html_report_is_self_contained_and_scriptless(self, client):
        text = (await client.get(f"/runs/{RUN_ID}/report.html")).text
        assert _scripts(text) == []
        assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing loaded from elsewhere
        assert '<link rel="stylesheet"' not in text and "<style>" in text
        assert 'id="ticker-AAPL"' in text and "Looks strong. &lt;script&gt;" in text


class TestGuard:
    async def test_every_response_carries_the_csp_forbidding_inline_script(self, client):
        for path in [*PAGES[:-1], "/api/runs", "/healthz", "/static/live.js", "/runs/nope"]:
            response = await client.get(path)
            assert response.headers.get_list("content-security-policy") == [CSP], path
            assert response.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP

    async def test_the_exported_report_may_style_itself_but_run_no_script(self, client):
        response = await client.get(f"/runs/{RUN_ID}/report.html")
        assert response.headers.get_list("content-security-policy") == [REPORT_CSP]
        assert "default-src 'none'" in REPORT_CSP and "script-src" not in REPORT_CSP

    async def test_loopback_dashboard_refuses_other_host_names(self, stored_db):
        """DNS rebinding: a page on another site resolving to 127.0.0.1 sends its own Host."""
        async with asgi_client(create_app(RunStore(stored_db), hub=EventHub()), host="evil.example:8787") as c:
            response = await c.get("/api/runs")
        assert response.status_code == 400 and "loopback only" in response.text

    async def test_token_is_required_beyond_loopback(self, stored_db, caplog):
        caplog.set_level(logging.DEBUG)
        token = "s3cr3t-T0ken;x"
        app = create_app(RunStore(stored_db), hub=EventHub(), token=Secret(token), loopback_only=False)
        async with asgi_client(app, host="dash.example:8787") as c:
            assert (await c.get("/")).status_code == 401
            assert (await c.get("/api/runs", headers={"authorization": "Bearer wrong"})).status_code == 401
            assert (await c.get("/?token=wrong")).status_code == 401
            assert (await c.get("/healthz")).status_code == 200  # shows nothing of the data
            assert (await c.get("/api/runs", headers={"authorization": f"Bearer {token}"})).status_code == 200
            login = await c.get(f"/runs/{RUN_ID}?token={token}&x=1")
            assert login.status_code == 303 and login.headers["location"] == f"/runs/{RUN_ID}?x=1"
            assert "HttpOnly" in login.headers["set-cookie"] and "SameSite=Strict" in login.headers["set-cookie"]
            assert (await c.get(f"/runs/{RUN_ID}")).status_code == 200  # the cookie now
        server_lines = [r.getMessage() for r in caplog.records if not r.name.startswith("httpx")]  # not the client's
        assert not [line for line in server_lines if token in line]

    async def test_posts_must_come_from_the_dashboard_itself(self, stored_db):
        calls: list[str] = []

        class Recorder:
            async def scan_now(self):
                calls.append("scan")
                return ActionResult(accepted=True, message="scan r2 started", run_id="r2")

            async def resume(self, run_id):
                calls.append(run_id)
                return ActionResult(accepted=False, message="refused: no")

        async with asgi_client(create_app(RunStore(stored_db), hub=EventHub(), actions=Recorder())) as c:
            assert (await c.post("/actions/scan")).status_code == 403  # neither Origin nor Referer
            assert (await c.post("/actions/scan", headers={"origin": "http://evil.example"})).status_code == 403
            assert (await c.post("/actions/scan", headers={"origin": "null"})).status_code == 403
            assert (await c.post("/actions/scan", headers={"referer": "http://127.0.0.1:9999/"})).status_code == 403
            assert calls == []
            done = await c.post("/actions/scan", headers={"origin": "http://127.0.0.1:8787"})
            assert done.status_code == 303 and done.headers["location"] == "/?notice=scan%20r2%20started"
            also = await c.post(f"/runs/{RUN_ID}/resume", headers={"referer": f"http://127.0.0.1:8787/runs/{RUN_ID}"})
            assert also.status_code == 303
            assert "Scan now" in (await c.get("/")).text
        assert calls == ["scan", RUN_ID]

    async def test_without_actions_there_are_no_buttons_and_posts_are_404(self, client):
        response = await client.post("/actions/scan", headers={"origin": "http://127.0.0.1:8787"})
        assert response.status_code == 404
        assert "Resume this run" not in (await client.get(f"/runs/{RUN_ID}")).text


async def test_scan_now_is_refused_with_a_message_while_a_scan_runs(stored_db):
    """SystemActions starts the scan in the owner's nursery and refuses a second one until it ends."""
    release = trio.Event()
    requests = []

    class System:  # the one method SystemActions calls
        async def scan(self, request):
            requests.append(request)
            await release.wait()

    async with trio.open_nursery() as nursery:
        actions = SystemActions(System(), nursery=nursery, source="sim", universe=lambda: ("AAA", "BBB"))
        app = create_app(RunStore(stored_db), hub=EventHub(), actions=actions)
        origin = {"origin": "http://127.0.0.1:8787"}
        async with asgi_client(app) as c:
            first = await c.post("/actions/scan", headers=origin, follow_redirects=True)
            await trio.testing.wait_all_tasks_blocked()
            second = await c.post("/actions/scan", headers=origin, follow_redirects=True)
            assert "started" in first.text and len(requests) == 1
            assert f"refused: scan {requests[0].run_id} is still running" in second.text
            assert requests[0].universe == ("AAA", "BBB") and requests[0].reason == "dashboard"
            resume = await c.post(f"/runs/{RUN_ID}/resume", headers=origin, follow_redirects=True)
            assert "refused: this process cannot resume runs" in resume.text
            release.set()
            await trio.testing.wait_all_tasks_blocked()
            third = await c.post("/actions/scan", headers=origin, follow_redirects=True)
            assert "started" in third.text and len(requests) == 2
            release = trio.Event()
        nursery.cancel_scope.cancel()


async def test_system_status_reports_the_running_actors(stored_db, tmp_path):
    """The status provider over a real open system: its supervised actors, the bus, the source."""
    settings = Settings(source="sim", universe_size=5)
    async with open_system(settings, db=tmp_path / "x.db", disabled="--no-debate",
                           persister=MemoryPersister().run) as system:
        status = system_status(system, source="sim", next_scan=lambda: "2026-07-27T13:45:00Z")
        app = create_app(RunStore(stored_db), hub=EventHub(), status=status)
        async with asgi_client(app) as c:
            text = (await c.get("/system")).text
        sections = await status()
    assert [a["actor"] for a in sections["actors"]] == ["persister", "fetcher", "coordinator"]
    assert all(a["running"] == "yes" and a["restarts"] == 0 for a in sections["actors"])
    assert sections["data_source"] == {"source": "sim", "debates": "--no-debate"}
    assert "2026-07-27T13:45:00Z" in text and "<td>coordinator</td>" in text and "no daemon attached" not in text


async def test_run_page_shows_the_top_rows_and_says_how_many_there_are(client):
    """?top=N limits the ranked table (a 20,000-ticker run is not one page); the note links to all."""
    two = (await client.get(f"/runs/{RUN_ID}?top=2")).text
    assert re.findall(r'/tickers/(\w+)">', two) == ["AAPL", "MSFT"]
    assert "showing the top 2 of 3" in two and 'href="?top=3"' in two
    assert "showing the top" not in (await client.get(f"/runs/{RUN_ID}")).text
