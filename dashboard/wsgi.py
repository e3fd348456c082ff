import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()

# Production serves hashed static files from a manifest that `collectstatic` writes: without
# it every page would be a 500. Refuse to start instead, saying what to run.
from jobs.staticcheck import require_collected_static  # noqa: E402

require_collected_static()
