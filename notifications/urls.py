"""The notification centre's pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/count/", views.notification_count, name="notification-count"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/preferences/", views.notification_preferences, name="notification-preferences"),
]
