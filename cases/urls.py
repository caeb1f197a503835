"""Pages of cases and items: the home page, case list and page, the triage queue, the item page and its actions."""

from django.urls import path

from .views import cases, items, triage

urlpatterns = [
    path("", cases.home, name="home"),
    path("cases/", cases.case_list, name="case-list"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("items/<int:pk>/propose/", cases.item_propose, name="item-propose"),
    path("queue/", triage.queue, name="triage-queue"),
    path("queue/bulk/", triage.queue_bulk, name="triage-queue-bulk"),
    path("items/<int:pk>/", items.item_detail, name="item-detail"),
    path("items/<int:pk>/assign/", items.item_assign, name="item-assign"),
    path("items/<int:pk>/discard/", items.item_discard, name="item-discard"),
    path("items/<int:pk>/hold/", items.item_hold, name="item-hold"),
    path("items/<int:pk>/release/", items.item_release, name="item-release"),
    path("cases/<int:pk>/close/", cases.case_close, name="case-close"),
    path("cases/<int:pk>/reopen/", cases.case_reopen, name="case-reopen"),
    path("cases/<int:pk>/assign/", cases.case_assign, name="case-assign"),
]
