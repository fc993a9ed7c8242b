"""The AI debate: the pool of workers, and its wiring to the LLM, breaker and health monitor (prompts: ``actors.core.prompts``)."""
