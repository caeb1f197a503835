"""The raw limit for bench/api.py: one bare Django JSON view (no apps, no middleware, no database) served by
the same gunicorn with the same workers. Not part of the app's URLs; run as `gunicorn bench.bare_wsgi:application`."""

import django
from django.conf import settings
from django.http import JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False, SECRET_KEY="bench-only", ALLOWED_HOSTS=["127.0.0.1"], ROOT_URLCONF=__name__,
    INSTALLED_APPS=[], MIDDLEWARE=[], DATABASES={}, USE_TZ=True,
)


def bare(request):
    return JsonResponse({"id": 1, "status": "ok", "items": [1, 2, 3]})


urlpatterns = [path("bare/", bare)]

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
