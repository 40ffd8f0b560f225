"""Usage metering: one usage event per API request, queued on the request path, drained
into daily roll-ups, kept for its retention.
"""
