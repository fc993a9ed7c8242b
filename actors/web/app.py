"""The dashboard's Starlette app: pages, the JSON API, the SSE feed, exports and the two actions.

::

    app = create_app(RunStore(db), hub=hub, observed=observed, actions=None, status=None, token=None)

Parameters of :func:`create_app` (all explicit; the daemon passes what it has):

- ``store``: a :class:`~actors.web.store_view.RunStore`, the read-only view of the database.
- ``hub``: the :class:`~actors.web.sse.EventHub` behind ``/events`` (fed by the bus or a poll).
- ``observed``: the LLM side as seen on the bus (:class:`~actors.web.live.Observed`), or None.
- ``actions``: an :class:`~actors.web.actions.Actions` object; without one (``bin/scan serve``)
  the pages offer no buttons and the POST routes answer 404.
- ``status``: an async callable returning the system page's sections (a mapping of section name
  to a mapping or a list of mappings), rendered as given; without one (and without ``observed``)
  the page says "no daemon attached: showing the database only". Nothing is invented.
- ``token`` / ``loopback_only``: see :mod:`actors.web.security`.
- ``history``: price history for the ticker chart (:class:`~actors.web.history.LocalHistory`),
  or None: the chart shows the last close alone.

Routes: ``/`` runs, ``/runs/{id}`` a run, ``/runs/{id}/tickers/{ticker}`` a ticker,
``/runs/{id}/report.html`` and ``/runs/{id}.csv`` exports, ``/system``, ``/events`` (SSE),
``/api/runs``, ``/api/runs/{id}`` (the ``bin/scan show RUN --json`` document), ``/healthz``,
``/fragments/runs`` (the runs table body, for live refresh), POST ``/actions/scan`` and
``/runs/{id}/resume``.
"""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from actors.errors import StoreError
from actors.report import SCHEMA_VERSION
from actors.secrets import Secret
from actors.store.reader import RunNotFound
from actors.web import export
from actors.web.actions import Actions
from actors.web.history import HistoryProvider
from actors.web.live import Observed
from actors.web.security import REPORT_CSP, DashboardGuard
from actors.web.sse import EventHub, sse_frames
from actors.web.store_view import RunStore
from actors.web.templating import templates
from actors.web.views import find_row, result_row, ticker_view

__all__ = ["StatusProvider", "create_app"]

logger = logging.getLogger(__name__)

StatusProvider = Callable[[], Awaitable[Mapping[str, Any]]]

_PACKAGE = __name__.rsplit(".", 1)[0]
_RESUMABLE = ("PARTIAL", "INTERRUPTED")
#: Ranked rows a run page shows unless ``?top=N`` asks for more (all are in the CSV and JSON).
RUN_PAGE_ROWS = 200


def create_app(store: RunStore, *, hub: EventHub, observed: Observed | None = None, actions: Actions | None = None,
               status: StatusProvider | None = None, token: Secret | None = None,
               loopback_only: bool = True, history: HistoryProvider | None = None) -> DashboardGuard:
    """The ASGI app of the dashboard (see the module docstring for the parameters)."""
    env = templates()

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        body = env.get_template(name).render(
            actions=actions is not None, notice=request.query_params.get("notice"), **context)
        return HTMLResponse(body, status_code=status_code)

    async def load_report(request: Request) -> dict[str, Any] | Response:
        try:
            return await store.report(request.path_params["run_id"])
        except RunNotFound as exc:
            return page(request, "error.html", 404, title="run not found", message=str(exc))
        except StoreError as exc:
            return page(request, "error.html", 503, title="database unavailable", message=str(exc))

    async def runs_page(request: Request) -> Response:
        try:
            runs, problem = await store.runs(), None
        except StoreError as exc:
            runs, problem = [], str(exc)
        return page(request, "runs.html", title="runs", runs=runs, problem=problem, db=str(store.db))

    async def runs_fragment(request: Request) -> Response:
        try:
            runs = await store.runs()
        except StoreError:
            runs = []
        return page(request, "runs_rows.html", runs=runs)

    async def run_page(request: Request) -> Response:
        report = await load_report(request)
        if isinstance(report, Response):
            return report
        top = _top(request.query_params.get("top"))
        rows = [result_row(r) for r in report["results"][:top]]
        return page(request, "run.html", title=f"run {report['run_id']}", report=report, rows=rows,
                    resumable=report["status"] in _RESUMABLE, shown_all=len(rows) == len(report["results"]))

    async def ticker_page(request: Request) -> Response:
        report = await load_report(request)
        if isinstance(report, Response):
            return report
        closes: Sequence[tuple[str, float]] = ()
        row = find_row(report, request.path_params["ticker"])
        if history is not None and row is not None:
            closes = await history(await store.settings(report["run_id"]), row)
        view = ticker_view(report, request.path_params["ticker"], closes)
        if view is None:
            return page(request, "error.html", 404, title="ticker not in this run",
                        message=f"run {report['run_id']} has no result for {request.path_params['ticker']!r}")
        return page(request, "ticker.html", title=f"{view['row']['ticker']} in {report['run_id']}",
                    report=report, view=view)

    async def system_page(request: Request) -> Response:
        sections = dict(await status()) if status is not None else None
        return page(request, "system.html", title="system", sections=sections, observed=observed,
                    attached=status is not None or observed is not None, db=str(store.db),
                    hub=hub.statistics())

    async def report_html(request: Request) -> Response:
        report = await load_report(request)
        if isinstance(report, Response):
            return report
        return HTMLResponse(export.report_html(report), headers={
            "content-disposition": f'inline; filename="{export.file_stem(report)}.html"',
            "content-security-policy": REPORT_CSP})

    async def report_csv(request: Request) -> Response:
        report = await load_report(request)
        if isinstance(report, Response):
            return report
        return Response(export.report_csv(report), media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{export.file_stem(report)}.csv"'})

    async def api_runs(request: Request) -> Response:
        try:
            return JSONResponse({"schema_version": SCHEMA_VERSION, "runs": await store.runs()})
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)

    async def api_run(request: Request) -> Response:
        try:
            return JSONResponse(await store.report(request.path_params["run_id"]))
        except RunNotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "events": hub.statistics().last_id})

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            with hub.connect(request.headers.get("last-event-id")) as client:
                async with contextlib.aclosing(sse_frames(client)) as frames:
                    async for frame in frames:
                        yield frame

        return _ClosingStreamingResponse(stream(), media_type="text/event-stream",
                                         headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    def answered(target: str, message: str) -> Response:
        return RedirectResponse(f"{target}?notice={_quote(message)}", status_code=303)

    async def scan_now(request: Request) -> Response:
        if actions is None:
            return PlainTextResponse("no actions: this dashboard shows the database only", status_code=404)
        result = await actions.scan_now()
        logger.info("dashboard: scan now: %s", result.message)
        return answered("/", result.message)

    async def resume(request: Request) -> Response:
        if actions is None:
            return PlainTextResponse("no actions: this dashboard shows the database only", status_code=404)
        run_id = request.path_params["run_id"]
        result = await actions.resume(run_id)
        logger.info("dashboard: resume %s: %s", run_id, result.message)
        return answered(f"/runs/{_quote(run_id)}", result.message)

    routes = [
        Route("/", runs_page),
        Route("/fragments/runs", runs_fragment),
        Route("/system", system_page),
        Route("/events", events),
        Route("/healthz", healthz),
        Route("/api/runs", api_runs),
        Route("/api/runs/{run_id}", api_run),
        Route("/actions/scan", scan_now, methods=["POST"]),
        Route("/runs/{run_id}.csv", report_csv),
        Route("/runs/{run_id}/report.html", report_html),
        Route("/runs/{run_id}/resume", resume, methods=["POST"]),
        Route("/runs/{run_id}/tickers/{ticker}", ticker_page),
        Route("/runs/{run_id}", run_page),
        Mount("/static", app=StaticFiles(packages=[(_PACKAGE, "static")]), name="static"),
    ]
    return DashboardGuard(Starlette(routes=routes), token=token, loopback_only=loopback_only)


class _ClosingStreamingResponse(StreamingResponse):
    """Closes its body generator when the response ends, also when the browser left mid-stream.

    Starlette leaves a generator suspended at ``yield`` when the connection drops; closing it
    here ends the hub client at once (instead of at garbage collection).
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with trio.CancelScope(shield=True):
                await self.body_iterator.aclose()  # type: ignore[union-attr]


def _top(text: str | None) -> int:
    """``?top=N`` (N >= 1), else :data:`RUN_PAGE_ROWS`."""
    return int(text) if text is not None and text.isdigit() and int(text) >= 1 else RUN_PAGE_ROWS


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")
