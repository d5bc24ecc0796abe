"""Channels: translate platform events into neutral inputs and neutral replies into platform messages."""
