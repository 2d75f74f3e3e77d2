"""Scheduled follow-ups, update notices, retention purge and the staff digest (the EventBridge tick).

`handler.handle_tick(settings, now=..., clients...)` is the entry point; `schedule` decides (pure), `starter`
starts one exactly once, `retention` deletes personal data after the retention period, `digest` tells staff.
"""
