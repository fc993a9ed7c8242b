"""Tests for actors.health."""
