"""LINE: the webhook edge, events as neutral actions, rendering, sending (reply, push, retries), the rich menu."""
