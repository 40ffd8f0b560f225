"""The tenant dashboard: the web pages a tenant's members use (top floor: it may read every app).

Layout, one rule: each area of the dashboard (accounts, overview, keys, services, usage,
reports, requests, try_it, cameras, alerts, webhooks, exports) is one module in `views/`, and
its forms, where it has any, are the module of the same name in `forms/` (views/cameras.py,
forms/cameras.py). `urls.py` lists every URL. Shared by all areas: access.py (which tenant, which
role), pages.py (rendering a tenant page), once.py (forms sent once), overview_data.py (the
overview's figures). The operator admin is apps/operator.

Naming: "Requests" is the request archive (one row per API request a service chose to save);
"Alerts" are camera events (one per visit of an object).
"""
