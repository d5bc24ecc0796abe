"""Telemetry: Prometheus metrics and structured JSON logs, fed by the conversation's turn observer hooks."""
