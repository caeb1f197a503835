"""Bulk intake over the API: upload a CSV into a case (202, imported by a worker), poll the job, get the report."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import selectors as case_selectors
from core.errors import Conflict, NotFound
from core.permissions import IsAnalystOrSupervisor, IsUnitStaff
from core.schema import ERROR
from intake import actions as intake_actions
from intake import parsing
from intake import selectors as intake_selectors
from intake.models import ImportJob, ImportStatus

# Multipart framing around the file: a request this much over the limit is refused before it is read.
_MULTIPART_SLACK = 64 * 1024


class ImportIn(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)
    case = serializers.IntegerField(min_value=1)


class ImportCreated(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ImportStatus.choices)


class ImportLineError(serializers.Serializer):
    line = serializers.IntegerField()
    reason = serializers.CharField()


class ImportOut(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ImportStatus.choices)
    total = serializers.IntegerField()
    processed = serializers.IntegerField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = ImportLineError(many=True, help_text=f"The first {parsing.ERRORS_SHOWN} rejected lines.")
    failure = serializers.CharField(help_text="Why the import failed or stopped at the row limit; else empty.")


def _job_for(request, pk) -> ImportJob:
    job = ImportJob.objects.filter(pk=pk, case__in=case_selectors.cases_for(request.user)).first()
    if job is None:
        raise NotFound("No such import.")
    return job


class ImportCreate(APIView):
    parser_classes = [MultiPartParser]
    permission_classes = [IsAnalystOrSupervisor]

    @extend_schema(request={"multipart/form-data": ImportIn},
                   responses={202: ImportCreated, 404: OpenApiResponse(ERROR.response, "No such case (or not yours)."),
                              413: OpenApiResponse(ERROR.response, "Over IMPORT_MAX_BYTES or IMPORT_MAX_ROWS.")})
    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > parsing.max_bytes() + _MULTIPART_SLACK:
            intake_actions.check_size(length - _MULTIPART_SLACK)
        data = ImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        intake_actions.check_size(upload.size)
        case = case_selectors.cases_for(request.user).filter(pk=data.validated_data["case"]).first()
        if case is None:
            raise NotFound(f"Case {data.validated_data['case']} does not exist.")
        job = intake_actions.create_import(actor=request.user, case=case, fileobj=upload, original_name=upload.name)
        return Response({"id": str(job.pk), "status": job.status}, status=status.HTTP_202_ACCEPTED)


class ImportDetail(APIView):
    permission_classes = [IsUnitStaff]

    @extend_schema(responses=ImportOut)
    def get(self, request, pk):
        return Response(intake_selectors.job_summary(_job_for(request, pk)))


class CSVRenderer(BaseRenderer):
    """Lets a client ask for text/csv; the report is a file response, errors are still JSON text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class ImportReport(APIView):
    permission_classes = [IsUnitStaff]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="line,outcome,item,reason"),
                              409: OpenApiResponse(ERROR.response, "The import has not finished: no report yet.")})
    def get(self, request, pk):
        job = _job_for(request, pk)
        if not job.report:
            raise Conflict(f"Import {job.pk} is {job.status}: its report is written when it finishes.")
        return FileResponse(job.report.open("rb"), as_attachment=True, filename=f"import-{job.pk}-report.csv",
                            content_type="text/csv")
