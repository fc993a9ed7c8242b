"""Fake servers shipped as tools: a local stand-in for the Anthropic Messages API (``bin/fake-anthropic``)."""
