"""The header's notification link, rendered on every signed-in page (so the count shows without JavaScript) and
then refreshed by htmx from /notifications/count/. One indexed COUNT query, only when the header renders it."""

from django import template

from notifications.selectors import header_count

register = template.Library()


@register.inclusion_tag("notifications/_count.html", takes_context=True)
def notification_count(context):
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return {"signed_out": True}
    return header_count(user)
