"""The browser UI. Every view checks the role on the server (referral/views/access.py)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from .views import alerts, cases, deliveries, referrals, review

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
    path("deliveries/dead/", deliveries.dead_letters, name="dead-letters"),
    path("deliveries/<uuid:pk>/redrive/", deliveries.delivery_redrive, name="delivery-redrive"),
    path("deliveries/manual/", deliveries.manual_tasks, name="manual-tasks"),
    path("deliveries/<uuid:pk>/manual-submitted/", deliveries.delivery_manual_submitted,
         name="delivery-manual-submitted"),
    path("alerts/", alerts.alert_list, name="alert-list"),
    path("alerts/<int:pk>/resolve/", alerts.alert_resolve, name="alert-resolve"),
    path("contact-points/<int:pk>/enable/", alerts.contact_point_enable, name="contact-point-enable"),
    # Analyst workspace areas, each in its own URL module.
    path("", include("referral.views.urls_intake")),
    path("", include("referral.views.urls_evidence")),
    path("", include("referral.views.urls_triage")),
]
