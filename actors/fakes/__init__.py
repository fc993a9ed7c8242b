"""Test doubles shipped as tools, kept out of the production packages.

- ``ollama`` (``bin/fake-ollama``) and ``anthropic`` (``bin/fake-anthropic``): real HTTP servers on
  127.0.0.1 speaking the Ollama API and the Anthropic Messages API, with scripted faults;
  ``h11_server`` (shared HTTP plumbing), ``ollama_model``/``ollama_profile``/``ollama_replies``/``ollama_schema`` and
  ``anthropic_replies`` are their parts.
- ``ollama_testing`` / ``anthropic_testing``: ``FakeOllama`` / ``FakeAnthropic``, each server run
  as a subprocess for tests and benchmarks; ``pytest_plugin`` loads their fixtures.
- ``memory_persister``: ``MemoryPersister``, the persister's protocol in memory, for virtual-time tests.

Production code never imports this package (``tests/test_layout.py`` checks it).
"""
