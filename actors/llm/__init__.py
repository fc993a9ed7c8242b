"""The LLM client layer: the one place that talks to LLMs, turning every misbehaviour into a typed outcome in bounded time."""

from actors.llm.budget import Timeouts
from actors.llm.factory import BACKENDS, make_client
from actors.llm.outcome import CallOutcome, FailureKind
from actors.llm.protocol import ChatClient, ChatMessage, Observer, ProbeResult, complete_or_cancelled
from actors.llm.retry import RetryPolicy
from actors.llm.structured import ReplyInvalid, json_schema, parse_reply, strict_retry_instruction

__all__ = [
    "BACKENDS",
    "CallOutcome",
    "ChatClient",
    "ChatMessage",
    "FailureKind",
    "Observer",
    "ProbeResult",
    "ReplyInvalid",
    "RetryPolicy",
    "Timeouts",
    "complete_or_cancelled",
    "json_schema",
    "make_client",
    "parse_reply",
    "strict_retry_instruction",
]
