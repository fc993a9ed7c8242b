"""The daemon: ``bin/daemon``'s entry point, the scheduler actor, the trading calendar, systemd notify and watchdog, resume."""
