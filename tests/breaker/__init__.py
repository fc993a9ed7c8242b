"""Tests for actors.breaker."""
