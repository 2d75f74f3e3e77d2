"""Sending notices: ledger (exactly once), rate limiter, SES calls, the worker, the staff view."""
