"""How the OpenAPI schema describes every endpoint, kept apart from the API views so DRF's
settings can import it early (``DEFAULT_SCHEMA_CLASS``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


def _may_be_blank(field: Any) -> bool:
    """Whether a field may hold an empty string: it says so, or (read-only) its model's field does."""
    if getattr(field, "allow_blank", False):
        return True
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    try:
        model_field = model._meta.get_field(field.source) if model is not None else None
    except FieldDoesNotExist:
        return False
    return isinstance(model_field, models.CharField) and model_field.blank


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()


ERRORS = {
    "400": OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="The request was refused: each field's errors, or non_field_errors, or detail.",
    ),
    "401": OpenApiResponse(ErrorOutput, description="No valid token or session."),
    "403": OpenApiResponse(
        ErrorOutput, description="Not yours to do, or a session's write without its CSRF token."
    ),
    "404": OpenApiResponse(ErrorOutput, description="No such record or programme, or not one for you."),
    "429": OpenApiResponse(ErrorOutput, description="Too many requests: wait and ask again."),
}


class AutoSchema(openapi.AutoSchema):
    """Documents the errors an endpoint may answer besides its own responses, with the body DRF
    gives them: refused input (400), no or a wrong sign-in (401, 403), what is not there or not
    the principal's to see (404: the platform never says which) and the throttle (429)."""

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        """A field that may be blank says so: an empty string is no URL or e-mail address."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if "format" in schema and schema.get("type") == "string" and _may_be_blank(field):
            formatted = {key: schema.pop(key) for key in ("type", "format", "maxLength") if key in schema}
            schema["anyOf"] = [formatted, {"type": "string", "maxLength": 0}]
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        parameters = self._get_parameters()
        signed_in = not all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        codes = []
        if self.method in ("POST", "PUT", "PATCH", "DELETE") or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if signed_in:
            codes += ["401", "403"]
        if signed_in or any(p["in"] == "path" for p in parameters):
            codes.append("404")
        if self.view.get_throttles():
            codes.append("429")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ERRORS[code], code, direction=direction)
        return responses
