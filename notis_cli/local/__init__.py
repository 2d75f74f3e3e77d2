"""The local stack's stand-ins for what AWS runs for a deployed app (SQS event sources, the schedule)."""
