"""Reminders the user asked for, delivered later through a job queue (saq) on the same Redis.

The engine decides *what* to remind and *when* (bot/core/dates.py, `Turn.effects`); this package keeps
the schedule (`queue.py`) and, when a reminder falls due, runs it as a normal turn and sends the replies
through the user's channel (`worker.py`).
"""
