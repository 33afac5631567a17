"""API permissions: who may use the payments API (staff and peer services).

A copy of the monolith's core/permissions.py; IsStaffOrServiceOrReadOnly is unused here but
kept so that core/schema.py stays a copy too."""

from rest_framework import permissions

from .auth import ServicePrincipal


def is_staff_or_service(user):
    """Staff, or a peer service with a valid token: they may change the catalog and see all of it."""
    return bool(user and (user.is_staff or isinstance(user, ServicePrincipal)))


class IsStaffOrService(permissions.BasePermission):
    """Only staff or a peer service (stock reservations)."""

    def has_permission(self, request, view):
        return is_staff_or_service(request.user)


class IsStaffOrServiceOrReadOnly(permissions.BasePermission):
    """Anyone may read; only staff or a peer service may write."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return is_staff_or_service(request.user)
