"""The AI debate (prompts: ``actors.core.prompts``): the schedule, the pool (and its actor), and the wiring of the LLM side.

The LLM side of a process is three supervised actors, started once by
:func:`actors.debate.wiring.open_debate_runner`; dependencies point one way (down)::

    coordinator ─▶ PhaseRunner ─CheckNow─▶ llm-health ─LLMHealth─▶ llm-breaker ─▶ bus
                        └─RunDebates─▶ debate-pool ─Admit─────────────▲
                                         └─▶ LLM client ─AttemptOutcome┘

See the wiring module's docstring for who sends what.
"""
