"""Admin: users with their role and platform, permission groups, and API keys (created here, shown once, stored
hashed). Every change is audited (core/audited_admin.py): role, platform, flags, groups, a password change (never
the hash), a key's creation and revocation (named by its prefix, never its hash)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from accounts import two_factor
from accounts.models import User, UserAPIKey
from accounts.signals import api_key_issued
from audit import chain as audit
from audit.audited_admin import CHANGED, AuditedAdmin
from core.errors import DomainError


@admin.register(User)
class DeskUserAdmin(AuditedAdmin, UserAdmin):
    list_display = ["username", "role", "platform", "is_active", "last_login"]
    list_filter = ["role", "platform", "is_active"]
    fieldsets = UserAdmin.fieldsets + (("Desk", {"fields": ("role", "platform", "reveal_previews")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Desk", {"fields": ("role", "platform")}),)
    audit_ignore_fields = ("last_login",)  # moves at every sign-in, not an admin change
    actions = ["reset_second_factor"]

    @admin.action(description="Reset the second factor (lost phone): the user enrols again")
    def reset_second_factor(self, request, queryset):
        """Through the service: the admin's role checked, each reset an audit event (two_factor.reset)."""
        for user in queryset:
            try:
                count = two_factor.two_factor_reset(actor=request.user, user_id=user.pk)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                self.message_user(request, f"{user.username}: {count} second-factor device(s) removed; they enrol "
                                           "again at their next sign-in.", messages.SUCCESS)

    def user_change_password(self, request, id, form_url=""):
        """The password form saves outside save_model: audited here, in one transaction with the change."""
        with transaction.atomic():
            before = User.objects.filter(pk=id).values_list("password", flat=True).first() if str(id).isdigit() \
                else None
            response = super().user_change_password(request, id, form_url)
            user = User.objects.filter(pk=id).first() if before is not None else None
            if user is not None and user.password != before:
                audit.record(actor=request.user, verb="admin.user.password_changed", obj=user,
                             after={"password": CHANGED, "usable": user.has_usable_password()})
        return response


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(AuditedAdmin, APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "user"]
    search_fields = [*APIKeyModelAdmin.search_fields, "user__username"]
    audit_object_id = "prefix"  # the primary key embeds the hash: a key is named by its prefix (as the services do)
    audit_ignore_fields = ("id", "hashed_key")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:  # the user and the other admins are told (notifications/receivers.py)
                api_key_issued.send(sender=UserAPIKey, key=obj, user=obj.user, actor=request.user)


admin.site.unregister(Group)
# django-otp's own device pages would add, change and remove second factors outside the audit (and show the keys):
# devices are enrolled by their user (/me/two-factor/) and reset by the action above.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
# The library's own key model is not what authenticates (UserAPIKey is): off the admin, so that no key is
# minted or revoked there outside the audit.
admin.site.unregister(APIKey)


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    audit_name = "auth_group"  # cases.Group (the managed list of organisations) is "group"
