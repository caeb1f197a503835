"""URL module wired into the site; filled in by its area."""

urlpatterns = []
