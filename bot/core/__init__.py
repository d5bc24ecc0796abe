"""The pure conversation core: no network, Redis, LINE or Slack imports may appear in this package."""
