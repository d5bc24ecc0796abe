"""The conversation: the engine that drives the flows' machines, and what it keeps beside them (items,
fill-ins, reminders, the offered choices, showing a state, the checklist)."""
