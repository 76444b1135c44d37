"""The service's Prometheus metrics, on a registry of its own (no process-wide state: two
apps in one process count apart)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "zhenshen_http_requests", "HTTP requests answered", ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "zhenshen_http_request_seconds", "Time to answer a request", ["method", "route"],
            registry=self.registry,
        )
        self.sweeps = Counter(
            "zhenshen_sweeps", "Clock sweeps run by this process", ["outcome"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "zhenshen_sweep_alerts", "Reminders and notices raised by this process's sweeps",
            registry=self.registry,
        )
        self.case_reads = Counter(
            "zhenshen_case_reads", "Cases sent by GET, from memory or read from the store "
            "(see casecache)", ["source"], registry=self.registry,
        )
