"""Reports: usage and monthly reports, dataset exports of the request archive, and model
evaluation (they read usage and the archive)."""
