"""Make sure an administrator account exists (used by `make run`)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the admin user PORTAL_ADMIN_USER (default 'admin') if missing, with password "
        "PORTAL_ADMIN_PASSWORD, or a generated one printed once."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("PORTAL_ADMIN_USER", "admin")
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin account '{username}' exists; its password is unchanged.")
            return
        password = os.environ.get("PORTAL_ADMIN_PASSWORD") or secrets.token_urlsafe(15)
        User.objects.create_superuser(username=username, email="", password=password)
        if os.environ.get("PORTAL_ADMIN_PASSWORD"):
            self.stdout.write(f"Created admin account '{username}' with PORTAL_ADMIN_PASSWORD.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created admin account '{username}' with password: {password}\n"
                    "It is shown only this once: note it now."
                )
            )
