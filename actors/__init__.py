"""option-alpha: an options scanner as trio actors. ``runtime/`` is the kernel; the rest are actors.

The layout, imports pointing down (``tests/test_layout.py`` keeps the graph acyclic; the
``core`` and ``runtime`` import tests keep those two layers standing alone)::

    launcher ── cli ──┬── cli_runs           bin/scan runs | show (read-only)
                      └── scan_app           one scan's wiring
                             │
      actors   coordinator, fetcher, fetch_score, providers/, store/ (persister, reader),
               debate/ (pool, wiring), breaker/, health/, llm/ (factory → ollama_client,
               claude_client → protocol, retry, budget, outcome, structured)
                             │
      core/    pure logic, no trio, no I/O: scoring/, options/, pricing, plausible, ranking, prompts
      runtime/ the kernel: mailboxes, request/reply, supervisor, event bus (imports nothing of ours)
      messages (top-level package): the message types and the cattrs converter; imports nothing of ours

    fakes/     test doubles shipped as tools: fake Ollama and Anthropic servers, FakeOllama /
               FakeAnthropic, MemoryPersister, the pytest plugin; nothing above imports them
"""
