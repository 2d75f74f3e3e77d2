"""Campaigns: one per uploaded recipient file, from the S3 notification to recipients on the send queue."""
