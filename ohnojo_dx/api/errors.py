"""The API's error bodies, one shape per kind, every message in Japanese.

- 400: ``{field: [messages]}`` (``non_field_errors`` for the record as a whole), as the forms say them.
- 409: ``{detail, code, version}``: the record changed since the client read it (``conflict``), its year is
  approved and locked (``locked``), or the step does not fit its state (``state``); ``version`` is the
  record's current version, so a client can read it again and retry.
- 401/403/404/405/406/415: ``{detail, code}``.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from kpi import workflow

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
UNREADABLE_BODY = "送信された内容をJSONとして読めません。"


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="日本語のメッセージ")
    code = serializers.CharField(required=False)


class ConflictSerializer(ErrorSerializer):
    version = serializers.IntegerField(help_text="その施策・年度の現在の版（記録がなければ0）")


def api_exception_handler(exc, context):
    """DRF's handler, with every body a JSON object: a parse error or a list of errors becomes ``{field: [...]}``,
    and ``detail`` bodies carry their code."""
    if isinstance(exc, exceptions.ParseError):
        exc = exceptions.ValidationError({NON_FIELD: [UNREADABLE_BODY]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500
    if isinstance(response.data, list):
        response.data = {NON_FIELD: response.data}
    elif set(response.data) == {"detail"}:
        codes = exc.get_codes()
        response.data["code"] = codes if isinstance(codes, str) else exc.default_code
    return response


def conflict(error, current_version):
    """409 for a workflow refusal other than a missing permission."""
    if isinstance(error, workflow.Conflict):
        code = "conflict"
    elif isinstance(error, workflow.Locked):
        code = "locked"
    else:
        code = "state"
    return Response({"detail": str(error), "code": code, "version": current_version}, status=status.HTTP_409_CONFLICT)
