from django.urls import include, path

from . import views

app_name = "api"

urlpatterns = [
    path("platforms/", views.PlatformListCreate.as_view(), name="platform-list"),
    path("cases/", views.CaseListCreate.as_view(), name="case-list"),
    path("cases/<int:pk>/", views.CaseDetail.as_view(), name="case-detail"),
    path("items/", views.ItemListCreate.as_view(), name="item-list"),
    path("items/approve/", views.ItemBulkApprove.as_view(), name="item-bulk-approve"),
    path("items/<int:pk>/", views.ItemDetail.as_view(), name="item-detail"),
    path("items/<int:pk>/propose/", views.ItemPropose.as_view(), name="item-propose"),
    path("items/<int:pk>/approve/", views.ItemApprove.as_view(), name="item-approve"),
    path("items/<int:pk>/reject/", views.ItemReject.as_view(), name="item-reject"),
    path("items/<int:pk>/return/", views.ItemReturn.as_view(), name="item-return"),
    path("referrals/", views.ReferralList.as_view(), name="referral-list"),
    path("referrals/<int:pk>/", views.ReferralDetail.as_view(), name="referral-detail"),
    path("referrals/<int:pk>/status/", views.ReferralStatusUpdate.as_view(), name="referral-status"),
    path("contact-points/<int:pk>/rotate-secret/", views.ContactPointRotateSecret.as_view(), name="cp-rotate"),
    path("contact-points/<int:pk>/enable/", views.ContactPointEnable.as_view(), name="cp-enable"),
    path("deliveries/", views.DeliveryList.as_view(), name="delivery-list"),
    path("deliveries/<uuid:pk>/", views.DeliveryDetail.as_view(), name="delivery-detail"),
    path("deliveries/<uuid:pk>/redrive/", views.DeliveryRedrive.as_view(), name="delivery-redrive"),
    path("deliveries/<uuid:pk>/manual-submitted/", views.DeliveryManualSubmitted.as_view(),
         name="delivery-manual-submitted"),
    path("", include("referral.api.urls_imports")),
    path("", include("referral.api.urls_evidence")),
]
