"""The AI debate: prompts, the pool of workers, and its wiring to the LLM, breaker and health monitor."""
