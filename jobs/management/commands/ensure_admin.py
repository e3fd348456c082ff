from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.accounts import admin_user_ensure


class Command(BaseCommand):
    help = "Create the 'admin' superuser if missing (password: DASHBOARD_ADMIN_PASSWORD)."

    def handle(self, *args, **options):
        self.stdout.write(admin_user_ensure(password=settings.DASHBOARD_ADMIN_PASSWORD))
