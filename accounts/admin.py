"""Admin: users with their role and platform, and API keys (created here, shown once, stored hashed)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from rest_framework_api_key.admin import APIKeyModelAdmin

from accounts.models import User, UserAPIKey


@admin.register(User)
class DeskUserAdmin(UserAdmin):
    list_display = ["username", "role", "platform", "is_active", "last_login"]
    list_filter = ["role", "platform", "is_active"]
    fieldsets = UserAdmin.fieldsets + (("Desk", {"fields": ("role", "platform", "reveal_previews")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Desk", {"fields": ("role", "platform")}),)


@admin.register(UserAPIKey)
class UserAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "user"]
    search_fields = [*APIKeyModelAdmin.search_fields, "user__username"]
