"""The browser UI. Every view checks the role on the server (referral/views/access.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .views import cases, referrals, review

urlpatterns = [
    path("", cases.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django ≥ 5)
    path("cases/", cases.case_list, name="case-list"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("items/<int:pk>/propose/", cases.item_propose, name="item-propose"),
    path("review/", review.review_list, name="review-list"),
    path("items/<int:pk>/approve/", review.item_decide, {"action": "approve"}, name="item-approve"),
    path("items/<int:pk>/return/", review.item_decide, {"action": "return"}, name="item-return"),
    path("items/<int:pk>/reject/", review.item_decide, {"action": "reject"}, name="item-reject"),
    path("referrals/", referrals.referral_list, name="referral-list"),
    path("referrals/<int:pk>/", referrals.referral_detail, name="referral-detail"),
]
