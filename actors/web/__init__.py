"""The dashboard: server-rendered pages over the read-only store, and a live SSE feed of the bus.

``create_app`` (:mod:`actors.web.app`) builds the Starlette app; ``serve_dashboard``
(:mod:`actors.web.serve`) serves it with Hypercorn's trio worker inside a caller's nursery;
:mod:`actors.web.sse` is the event hub, :mod:`actors.web.live` feeds it.
"""
