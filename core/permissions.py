"""Role checks, made on the server for every endpoint. Object scoping (liaison → own platform) is in selectors."""

from rest_framework.permissions import BasePermission

from core import roles as r


class _RolePermission(BasePermission):
    roles: frozenset = frozenset()
    message = "Your role does not allow this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and r.has_role(user, self.roles))


class IsUnitStaff(_RolePermission):
    roles = r.UNIT_STAFF
    message = "Only the unit's analysts, supervisors and admins may do this."


class IsAnalystOrSupervisor(_RolePermission):
    roles = r.TRIAGERS
    message = "Only analysts and supervisors may do this."


class IsAnalyst(_RolePermission):
    roles = r.PROPOSERS
    message = "Only analysts may propose items."


class IsSupervisor(_RolePermission):
    roles = r.DECIDERS
    message = "Only supervisors may decide on proposed items."


class IsLiaison(_RolePermission):
    roles = r.LIAISONS
    message = "Only platform liaisons may report a referral's status."


class IsAdminRole(_RolePermission):
    roles = r.ADMINS
    message = "Only admins may do this."


class CanReadReferrals(_RolePermission):
    roles = r.REFERRAL_READERS
