"""API v1: platforms and their contact points (admins write, unit staff read)."""

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput
from core.permissions import IsAdminRole, IsUnitStaff
from platforms import serializers as platform_s
from platforms import services as platform_services
from platforms.models import Platform


class PlatformListCreate(generics.ListAPIView):
    serializer_class = platform_s.PlatformOut

    def get_permissions(self):
        return [IsAdminRole()] if self.request.method == "POST" else [IsUnitStaff()]

    def get_queryset(self):
        return Platform.objects.select_related("legal").prefetch_related("domains", "contact_points")

    @extend_schema(request=platform_s.PlatformIn, responses={201: platform_s.PlatformOut})
    def post(self, request):
        data = platform_s.PlatformIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            platform = platform_services.platform_create(actor=request.user, **data.validated_data)
        except IntegrityError as exc:  # a concurrent create took the slug or a domain
            raise InvalidInput("The platform's slug or a domain is already taken.") from exc
        platform = Platform.objects.select_related("legal").prefetch_related("domains", "contact_points").get(
            pk=platform.pk)
        return Response(platform_s.PlatformOut(platform).data, status=status.HTTP_201_CREATED)


class ContactPointRotateSecret(APIView):
    permission_classes = [IsAdminRole]

    @extend_schema(request=platform_s.RotateSecretIn, responses=platform_s.ContactPointOut)
    def post(self, request, pk: int):
        data = platform_s.RotateSecretIn(data=request.data)
        data.is_valid(raise_exception=True)
        cp = platform_services.contact_point_rotate_secret(actor=request.user, contact_point_id=pk,
                                                           **data.validated_data)
        return Response(platform_s.ContactPointOut(cp).data)


class ContactPointEnable(APIView):
    permission_classes = [IsAdminRole]

    @extend_schema(request=None, responses=platform_s.ContactPointOut)
    def post(self, request, pk: int):
        cp = platform_services.contact_point_enable(actor=request.user, contact_point_id=pk)
        return Response(platform_s.ContactPointOut(cp).data)



class PlatformLegalSet(APIView):
    """The admin keeps a platform's legal directory (what removal orders are addressed with)."""

    permission_classes = [IsAdminRole]

    @extend_schema(request=platform_s.LegalIn, responses=platform_s.PlatformOut)
    def put(self, request, pk: int):
        platform_services.platform_legal_set(actor=request.user, platform_id=pk, legal=request.data)
        platform = Platform.objects.select_related("legal").prefetch_related("domains", "contact_points").get(pk=pk)
        return Response(platform_s.PlatformOut(platform).data)
