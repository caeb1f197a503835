"""The item form's live URL preview: the canonical form, the platform, warnings, and the items already logged with
that URL (and whether their content was already taken down, which only the referral app knows)."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from cases import selectors as case_selectors
from cases.models import Item
from core.access import UNIT_STAFF, role_required
from platforms.content_urls import InvalidURL, canonicalize, resolve_platform, url_warnings, validate_url
from referral.models import ReferralStatus

PREVIEW_ITEMS = 5


@require_safe
@role_required(*UNIT_STAFF)
def url_preview(request):
    """The item form's live preview: canonical URL, platform, warnings, and the items already logged with it."""
    raw = request.GET.get("url", "")
    context = {"raw": raw.strip()}
    if raw.strip():
        try:
            url = validate_url(raw)
            canonical = canonicalize(url)
        except InvalidURL as exc:
            context["error"] = str(exc)
        except ValueError:
            context["error"] = "The URL's host name is not valid."
        else:
            items = list(
                Item.objects.filter(canonical_url=canonical, case__in=case_selectors.cases_for(request.user))
                .select_related("case").prefetch_related("referrals__platform").order_by("id")[:PREVIEW_ITEMS]
            )
            for item in items:
                item.removed = any(r.status == ReferralStatus.REMOVED for r in item.referrals.all())
            case_id = request.GET.get("case", "")
            context.update({
                "canonical": canonical,
                "platform": resolve_platform(url),
                "warnings": url_warnings(url),
                "items": items,
                "removed": any(item.removed for item in items),
                "case_id": int(case_id) if case_id.isdigit() else None,
            })
    return render(request, "referral/_url_preview.html", context)
