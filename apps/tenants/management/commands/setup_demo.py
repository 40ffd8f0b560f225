"""`manage.py setup_demo`: the demo tenant, its key and its owner's sign-in, on first run only.

`make run` calls it on every start; it prints the key and password the one time they exist.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.tenants.onboarding import DEMO_SLUG, set_up_demo


class Command(BaseCommand):
    help = "Create the demo tenant, an API key and its owner 'demo' if missing; print them once."

    def handle(self, *args, **options) -> None:
        demo = set_up_demo()
        if demo is None:
            self.stdout.write(
                f"Demo tenant {DEMO_SLUG!r} exists (its key and password were shown once)."
            )
            return
        self.stdout.write(f"api_key {demo.api_key}")
        self.stdout.write(f"username {demo.username}")
        if demo.password is not None:
            self.stdout.write(f"password {demo.password}")
