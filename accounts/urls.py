"""Signing in (password, then the second factor), enrolling an authenticator, signing out."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login-verify"),
    path("me/two-factor/", views.two_factor_enrol, name="two-factor-enrol"),
    path("me/two-factor/remove/", views.two_factor_remove, name="two-factor-remove"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django ≥ 5)
]
