"""Pages of the desk's own checks (included by config/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("referrals/<int:pk>/reminder/", views.referral_remind, name="referral-reminder-page"),
]
