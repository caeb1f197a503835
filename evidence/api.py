"""Evidence over the API: `GET|POST /api/v1/items/{id}/evidence/` (multipart upload, field `file`)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from cases import selectors as case_selectors
from core.errors import NotFound
from core.permissions import IsAnalystOrSupervisor, IsUnitStaff
from evidence import actions as service
from evidence.models import Evidence

MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file


class EvidenceIn(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, use_url=False)


class MatchOut(serializers.Serializer):
    evidence = serializers.IntegerField()
    item = serializers.IntegerField()
    case = serializers.IntegerField()
    match = serializers.ChoiceField(choices=["sha256", "pdq"])
    distance = serializers.IntegerField()


class EvidenceOut(serializers.ModelSerializer):
    pdq = serializers.SerializerMethodField()
    seen_before = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = ["id", "item", "original_name", "mime", "size", "sha256", "md5", "pdq", "pdq_quality",
                  "seen_before", "uploaded_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pdq(self, obj) -> str | None:
        return obj.pdq or None

    @extend_schema_field(MatchOut(many=True))
    def get_seen_before(self, obj):
        return [m.as_dict() for m in self.context.get("seen_before", {}).get(obj.pk, [])]


class ItemEvidence(generics.ListAPIView):
    """The item's evidence (unit staff), and uploading a file to it (analysts and supervisors).

    Uploads: 415 when the type is not accepted or the bytes and the name disagree, 413 over the size limit
    (or an image declaring too many pixels), 400 without a file.
    """

    serializer_class = EvidenceOut
    parser_classes = [MultiPartParser]

    def get_permissions(self):
        return [IsAnalystOrSupervisor()] if self.request.method == "POST" else [IsUnitStaff()]

    def _item_id(self) -> int:
        pk = self.kwargs["pk"]
        if not case_selectors.items_for(self.request.user).filter(pk=pk).exists():
            raise NotFound("Not found.")
        return pk

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no item
            return Evidence.objects.none()
        return Evidence.objects.filter(item_id=self._item_id())

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "seen_before": service.seen_before_many(page)}
        return self.get_paginated_response(EvidenceOut(page, many=True, context=context).data)

    @extend_schema(request={"multipart/form-data": EvidenceIn}, responses={201: EvidenceOut})
    def post(self, request, pk: int):
        item_id = self._item_id()
        # Refuse an oversized body before reading it (the file would otherwise be spooled to disk first).
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = service.max_bytes()
        if length > limit + MULTIPART_SLACK:
            raise service.UploadTooLarge(service.too_large_message(limit))
        data = EvidenceIn(data=request.data)
        data.is_valid(raise_exception=True)
        added = service.evidence_add(actor=request.user, item_id=item_id, upload=data.validated_data["file"])
        context = {"request": request, "seen_before": {added.evidence.pk: added.seen_before}}
        return Response(EvidenceOut(added.evidence, context=context).data, status=status.HTTP_201_CREATED)
