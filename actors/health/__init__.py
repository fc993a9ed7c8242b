"""The LLM health monitor: pings the backend's cheap endpoint and publishes LLMHealth reports."""

from actors.health.monitor import (
    HealthMonitor,
    HealthStatistics,
    open_health_monitor,
    run_health_monitor,
)

from actors.health.supervised import HealthReports, health_actor

__all__ = ["HealthMonitor", "HealthReports", "HealthStatistics", "health_actor", "open_health_monitor",
           "run_health_monitor"]
