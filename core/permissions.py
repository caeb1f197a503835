"""Role checks, made on the server for every endpoint. Object scoping (liaison → own platform) is in selectors."""

from rest_framework.permissions import BasePermission

from accounts.models import Role


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role does not allow this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.role in self.roles)


class IsUnitStaff(_RolePermission):
    roles = (Role.ANALYST, Role.SUPERVISOR, Role.ADMIN)
    message = "Only the unit's analysts, supervisors and admins may do this."


class IsAnalystOrSupervisor(_RolePermission):
    roles = (Role.ANALYST, Role.SUPERVISOR)
    message = "Only analysts and supervisors may do this."


class IsAnalyst(_RolePermission):
    roles = (Role.ANALYST,)
    message = "Only analysts may propose items."


class IsSupervisor(_RolePermission):
    roles = (Role.SUPERVISOR,)
    message = "Only supervisors may decide on proposed items."


class IsLiaison(_RolePermission):
    roles = (Role.LIAISON,)
    message = "Only platform liaisons may report a referral's status."


class IsAdminRole(_RolePermission):
    roles = (Role.ADMIN,)
    message = "Only admins may do this."


class CanReadReferrals(_RolePermission):
    roles = (Role.ANALYST, Role.SUPERVISOR, Role.ADMIN, Role.LIAISON)
