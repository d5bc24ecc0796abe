"""Slack: the Bolt app, the checks before Bolt, listeners, delivery to DMs and threads, rendering, Home tab."""
