"""API v1 paths of review decisions, referrals and the outbox (included by config/api_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("items/approve/", views.ItemBulkApprove.as_view(), name="item-bulk-approve"),
    path("items/return/", views.ItemBulkReturn.as_view(), name="item-bulk-return"),
    path("items/reject/", views.ItemBulkReject.as_view(), name="item-bulk-reject"),
    path("items/<int:pk>/approve/", views.ItemApprove.as_view(), name="item-approve"),
    path("items/<int:pk>/reject/", views.ItemReject.as_view(), name="item-reject"),
    path("items/<int:pk>/return/", views.ItemReturn.as_view(), name="item-return"),
    path("referrals/", views.ReferralList.as_view(), name="referral-list"),
    path("referrals/status/", views.ReferralBulkStatus.as_view(), name="referral-bulk-status"),
    path("referrals/withdraw/", views.ReferralBulkWithdraw.as_view(), name="referral-bulk-withdraw"),
    path("referrals/<int:pk>/", views.ReferralDetail.as_view(), name="referral-detail"),
    path("referrals/<int:pk>/order/", views.ReferralOrderDocument.as_view(), name="referral-order"),
    path("referrals/<int:pk>/scrutiny/", views.OrderScrutiny.as_view(), name="referral-scrutiny"),
    path("referrals/<int:pk>/order-reports/", views.OrderReport.as_view(), name="referral-order-reports"),
    path("referrals/<int:pk>/withdraw/", views.ReferralWithdraw.as_view(), name="referral-withdraw"),
    path("referrals/<int:pk>/clarify/", views.ReferralClarify.as_view(), name="referral-clarify"),
    path("referrals/<int:pk>/status/", views.ReferralStatusUpdate.as_view(), name="referral-status"),
    path("platforms/<int:pk>/pre-information/", views.PlatformPreInform.as_view(), name="platform-pre-information"),
    path("reports/tco/", views.TcoReport.as_view(), name="report-tco"),
    path("deliveries/", views.DeliveryList.as_view(), name="delivery-list"),
    path("deliveries/<uuid:pk>/", views.DeliveryDetail.as_view(), name="delivery-detail"),
    path("deliveries/<uuid:pk>/redrive/", views.DeliveryRedrive.as_view(), name="delivery-redrive"),
    path("deliveries/<uuid:pk>/manual-submitted/", views.DeliveryManualSubmitted.as_view(),
         name="delivery-manual-submitted"),
]
