"""The web chat: a page at /chat that talks to the same engine and store as LINE and Slack."""
