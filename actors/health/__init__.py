"""The LLM health monitor: pings the backend's cheap endpoint and publishes LLMHealth reports."""

from actors.health.monitor import (
    HealthMonitor,
    HealthStatistics,
    open_health_monitor,
    run_health_monitor,
)

__all__ = ["HealthMonitor", "HealthStatistics", "open_health_monitor", "run_health_monitor"]
