"""The Jinja environment of the shipped templates (``actors/web/templates/``), autoescaped."""

from __future__ import annotations

from typing import Any

import jinja2

from actors.web.views import fmt_seconds

__all__ = ["templates"]


def _num(value: Any, fmt: str = ".2f") -> str:
    return format(value, fmt) if isinstance(value, (int, float)) and not isinstance(value, bool) else "-"


def templates() -> jinja2.Environment:
    """The shipped templates; every value is HTML-escaped unless a template marks it safe."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("actors.web", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["seconds"] = fmt_seconds
    env.filters["num"] = _num
    return env
