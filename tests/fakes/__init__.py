"""Local fakes of the platforms' servers (LINE, Slack): real HTTP on loopback, recording requests."""
