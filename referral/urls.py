"""Pages of review, referrals and the outbox. Every view checks the role on the server (core/access.py)."""

from django.urls import path

from .views import deliveries, orders, referrals, review, review_jobs, url_preview, withdrawals

urlpatterns = [
    path("intake/preview/", url_preview.url_preview, name="intake-preview"),
    path("review/", review.review_list, name="review-list"),
    path("review/decide/", review.review_decide, name="review-decide"),
    path("review/jobs/", review_jobs.review_job_create, name="review-job-create"),
    path("review/jobs/<uuid:pk>/", review_jobs.review_job_detail, name="review-job-detail"),
    path("review/jobs/<uuid:pk>/progress/", review_jobs.review_job_progress, name="review-job-progress"),
    path("review/jobs/<uuid:pk>/start/", review_jobs.review_job_start, name="review-job-start"),
    path("items/<int:pk>/order/", orders.item_order, name="item-order"),
    path("items/<int:pk>/approve/", review.item_decide, {"action": "approve"}, name="item-approve"),
    path("items/<int:pk>/return/", review.item_decide, {"action": "return"}, name="item-return"),
    path("items/<int:pk>/reject/", review.item_decide, {"action": "reject"}, name="item-reject"),
    path("referrals/", referrals.referral_list, name="referral-list"),
    path("referrals/<int:pk>/", referrals.referral_detail, name="referral-detail"),
    path("referrals/<int:pk>/order/", referrals.referral_order, name="referral-order"),
    path("orders/report/", referrals.orders_report, name="orders-report"),
    path("referrals/<int:pk>/withdraw/", withdrawals.referral_withdraw, name="referral-withdraw"),
    path("referrals/<int:pk>/clarify/", withdrawals.referral_clarify, name="referral-clarify"),
    path("referrals/withdraw/", withdrawals.referrals_bulk_withdraw, name="referrals-bulk-withdraw"),
    path("deliveries/dead/", deliveries.dead_letters, name="dead-letters"),
    path("deliveries/<uuid:pk>/redrive/", deliveries.delivery_redrive, name="delivery-redrive"),
    path("deliveries/manual/", deliveries.manual_tasks, name="manual-tasks"),
    path("deliveries/<uuid:pk>/manual-submitted/", deliveries.delivery_manual_submitted,
         name="delivery-manual-submitted"),
]
