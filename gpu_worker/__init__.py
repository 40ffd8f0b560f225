"""IPC AI inference worker: a standalone detection server (SageMaker container contract).

Nothing here knows about tenants or imports from the portal: the portal talks to it over HTTP.
"""

__version__ = "0.1.0"
