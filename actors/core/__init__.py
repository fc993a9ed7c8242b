"""Pure logic, no I/O and no trio: scoring, options selection, pricing, plausibility bounds, ranking, debate prompts.

Modules here import only the standard library, attrs/cattrs, ``messages`` and ``actors.core``
itself (``tests/core/test_core_imports.py`` checks it), so the actors call them as plain
functions and the tests run them without an event loop.
"""
