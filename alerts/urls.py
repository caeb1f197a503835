"""Alert pages (supervisors and admins)."""

from django.urls import path

from . import views

urlpatterns = [
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve, name="alert-resolve"),
    path("contact-points/<int:pk>/enable/", views.contact_point_enable, name="contact-point-enable"),
]
