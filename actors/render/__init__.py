"""Plain-text renderings of a run for the terminal: the ranked table, the per-ticker panel, the width rule.

Everything here is pure (dicts in, text out) and reads the same JSON-shaped dicts ``--json``
prints (:mod:`actors.report`), so another front end (the dashboard) can reuse the content.
"""
