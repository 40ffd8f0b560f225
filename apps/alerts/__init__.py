"""Camera alerts: camera events (tracks, visits, snapshots, sweeps), their API, and the
signed webhooks that announce them (alerts/webhooks/).
"""
