"""The ASGI web server that hosts the LINE and Slack channels, health checks and metrics."""
