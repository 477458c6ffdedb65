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


def _model_field(field: Any) -> Any:
    """The model's own column a serializer field shows, when it shows one directly."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None:
        return None
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    return model_field if model_field.concrete and not model_field.many_to_many else None


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
    "415": OpenApiResponse(ErrorOutput, description="A body of a media type this operation does not read."),
    "429": OpenApiResponse(ErrorOutput, description="Too many requests: wait and ask again."),
}


class AutoSchema(openapi.AutoSchema):
    """Documents the errors an endpoint may answer besides its own responses, with the body DRF
    gives them: refused input (400), no or a wrong sign-in (401, 403), what is not there or not
    the principal's to see (404: the platform never says which), a body in a media type it does
    not read (415) and the throttle (429)."""

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        """What a field may hold besides its type, as its model says even where the serializer
        declares the field itself: null, or (text) an empty string, which is no URL or e-mail address."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        model_field = _model_field(field)
        if field.read_only and getattr(model_field, "null", False) and "type" in schema:
            schema["nullable"] = True
        blank = getattr(field, "allow_blank", False) or (
            isinstance(model_field, models.CharField) and model_field.blank
        )
        if "format" in schema and schema.get("type") == "string" and blank:
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
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
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
