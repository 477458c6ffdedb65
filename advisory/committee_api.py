"""Committees over the API: a factory's committees, their members (with "several changes at
once"), worker elections and meetings, through the same selectors and services as the pages.

Reading: the programme's staff, the factory's users and its committee members who sign in
(``can_view_committees``); writing: staff and the factory's users (``can_manage_committees``).
A refused object answers 404; a refused create on a list the principal may read answers 403, as
in the rest of the API. Every member write answers what changed and the rules' warnings (a kind
that only warns about unequal sides accepts the change and says so).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from advisory import committee_selectors as selectors
from advisory import committees as services
from advisory.models import (
    Candidate,
    Committee,
    CommitteeKind,
    CommitteeMember,
    CommitteeRole,
    Election,
    EqualSides,
    Meeting,
    MemberSex,
    Side,
)
from betterwork import permissions
from betterwork.middleware import principal_of, programme_of
from betterwork.permissions import Principal
from factories.models import Factory


@extend_schema_field(OpenApiTypes.STR)
class NamedChoiceField(serializers.ChoiceField):
    """A choice documented as a string with its values in the description: "sex" and "role" name
    other choice sets elsewhere in the API, and one enum name per set keeps the schema clean."""

    def __init__(self, *, choices: Any, **kwargs: Any) -> None:
        values = ", ".join(str(value) for value, _label in choices)
        kwargs.setdefault("help_text", f"One of: {values}.")
        super().__init__(choices=choices, **kwargs)


def _sex(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(choices=MemberSex.choices, **kwargs)


def _role(**kwargs: Any) -> NamedChoiceField:
    return NamedChoiceField(choices=CommitteeRole.choices, **kwargs)


# --- Access -----------------------------------------------------------------------------------


def _factory(request: Request, factory_id: int) -> tuple[Factory, Principal]:
    principal = principal_of(request)
    factory = selectors.access_committee_factory(
        principal=principal, programme=programme_of(request), factory_id=factory_id
    )
    return factory, principal


def _committee(request: Request, pk: int, *, manage: bool = False) -> tuple[Committee, Principal]:
    """A committee the principal reads; with ``manage`` one it keeps (else 404)."""
    principal = principal_of(request)
    committee = selectors.access_committee(
        principal=principal, programme=programme_of(request), committee_id=pk
    )
    if manage and not permissions.can_manage_committees(principal, committee.factory):
        raise Http404
    return committee, principal


def _create_on(request: Request, pk: int) -> tuple[Committee, Principal]:
    """A committee whose list the principal reads and adds to: 403 for readers who may not add."""
    committee, principal = _committee(request, pk)
    if not permissions.can_manage_committees(principal, committee.factory):
        raise exceptions.PermissionDenied
    return committee, principal


# --- Kinds ------------------------------------------------------------------------------------


class CommitteeKindOutput(serializers.ModelSerializer):
    class Meta:
        model = CommitteeKind
        fields = ["id", "code", "name", "equal_sides", "min_members", "max_members"]
        read_only_fields = fields


class CommitteeKindInput(serializers.Serializer):
    code = serializers.SlugField(max_length=30)
    name = serializers.CharField(max_length=120)
    equal_sides = serializers.ChoiceField(choices=EqualSides.choices, default=EqualSides.ENFORCE)
    min_members = serializers.IntegerField(min_value=2, max_value=100)
    max_members = serializers.IntegerField(min_value=2, max_value=100)


class KindList(APIView):
    """The programme's kinds of committee (the PICC and national variants): everyone of the
    programme reads them (a factory's users name one to form a committee); its managers add."""

    @extend_schema(responses=CommitteeKindOutput(many=True))
    def get(self, request: Request, programme_code: str) -> Response:
        programme = programme_of(request)  # everyone of the programme: factory users name a kind too
        return Response(CommitteeKindOutput(selectors.committee_kinds(programme=programme), many=True).data)

    @extend_schema(request=CommitteeKindInput, responses={201: CommitteeKindOutput})
    def post(self, request: Request, programme_code: str) -> Response:
        programme, principal = programme_of(request), principal_of(request)
        if not permissions.can_configure_committee_kinds(principal, programme.pk):
            raise exceptions.PermissionDenied
        data = CommitteeKindInput(data=request.data)
        data.is_valid(raise_exception=True)
        kind = services.committee_kind_save(
            actor=principal, programme=programme, kind=None, data=data.validated_data
        )
        return Response(CommitteeKindOutput(kind).data, status=status.HTTP_201_CREATED)


# --- Committees -------------------------------------------------------------------------------


class CommitteeMemberOutput(serializers.ModelSerializer):
    sex = _sex(read_only=True)
    role = _role(read_only=True)
    signs_in = serializers.SerializerMethodField(help_text="The member signs in to read the records.")

    class Meta:
        model = CommitteeMember
        fields = [
            "id",
            "name",
            "side",
            "sex",
            "union_member",
            "role",
            "position",
            "term_starts_on",
            "term_ends_on",
            "elected_in",
            "signs_in",
        ]
        read_only_fields = fields

    def get_signs_in(self, member: CommitteeMember) -> bool:
        return member.user_id is not None


class CommitteeCheckOutput(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=[
            (selectors.OK, "ok"),
            (selectors.INFO, "info"),
            (selectors.WARNING, "warning"),
            (selectors.REFUSED, "refused"),
        ],
        help_text="refused: a rule the committee breaks (e.g. after its kind's limits changed).",
    )
    message = serializers.CharField()


class CommitteeFiguresOutput(serializers.Serializer):
    members = serializers.IntegerField(source="total")
    management = serializers.IntegerField(source="management.total")
    workers = serializers.IntegerField(source="workers.total")
    women = serializers.IntegerField()
    men = serializers.IntegerField()
    women_share = serializers.FloatField(allow_null=True)
    management_women_share = serializers.FloatField(source="management.women_share", allow_null=True)
    workers_women_share = serializers.FloatField(source="workers.women_share", allow_null=True)
    union_members = serializers.IntegerField(source="union")
    balanced = serializers.BooleanField()
    constituted = serializers.BooleanField(help_text="At least the kind's fewest members: equal sides apply.")


class CommitteeOutput(serializers.Serializer):
    id = serializers.IntegerField(source="committee.pk")
    factory = serializers.IntegerField(source="committee.factory_id")
    kind = serializers.IntegerField(source="committee.kind_id")
    kind_code = serializers.CharField(source="committee.kind.code")
    kind_name = serializers.CharField(source="committee.kind.name")
    established_on = serializers.DateField(source="committee.established_on", allow_null=True)
    is_active = serializers.BooleanField(source="committee.is_active")
    members = CommitteeMemberOutput(source="composition.members", many=True, help_text="Current members.")
    figures = CommitteeFiguresOutput(source="composition")
    checks = CommitteeCheckOutput(many=True)
    meetings_count = serializers.IntegerField()
    last_meeting_on = serializers.DateField(allow_null=True)


class CommitteeInput(serializers.Serializer):
    kind = serializers.IntegerField(help_text="A kind of committee of the programme (its id).")
    established_on = serializers.DateField(required=False, allow_null=True)


class FactoryCommittees(APIView):
    """A factory's active committees with their current members, figures and rule checks."""

    @extend_schema(responses=CommitteeOutput(many=True))
    def get(self, request: Request, programme_code: str, factory_id: int) -> Response:
        factory, _principal = _factory(request, factory_id)
        return Response(CommitteeOutput(selectors.factory_committees(factory=factory), many=True).data)

    @extend_schema(request=CommitteeInput, responses={201: CommitteeOutput})
    def post(self, request: Request, programme_code: str, factory_id: int) -> Response:
        """Form a committee of a kind (one active committee per kind)."""
        factory, principal = _factory(request, factory_id)
        if not permissions.can_manage_committees(principal, factory):
            raise exceptions.PermissionDenied
        data = CommitteeInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.committee_kinds_ensure(factory.programme, actor=principal)
        kind = (
            selectors.committee_kinds(programme=factory.programme)
            .filter(pk=data.validated_data["kind"])
            .first()
        )
        if kind is None:
            raise exceptions.ValidationError({"kind": [_("No such kind of committee in this programme.")]})
        committee = services.committee_create(
            actor=principal,
            factory=factory,
            kind=kind,
            established_on=data.validated_data.get("established_on"),
        )
        return Response(
            CommitteeOutput(selectors.committee_picture(committee=committee)).data,
            status=status.HTTP_201_CREATED,
        )


class CommitteeDetail(APIView):
    @extend_schema(responses=CommitteeOutput)
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        committee, _principal = _committee(request, pk)
        return Response(CommitteeOutput(selectors.committee_picture(committee=committee)).data)


# --- Members ----------------------------------------------------------------------------------


class CommitteeMemberInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    side = serializers.ChoiceField(choices=Side.choices)
    sex = _sex()
    union_member = serializers.BooleanField(required=False, default=False)
    role = _role(required=False, default=CommitteeRole.MEMBER)
    position = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    term_starts_on = serializers.DateField(required=False, help_text="Default: today.")


class CommitteeMemberChangeOutput(serializers.Serializer):
    added = CommitteeMemberOutput(many=True)
    ended = CommitteeMemberOutput(many=True)
    updated = CommitteeMemberOutput(many=True)
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the rules say about the result, when it is not refused.",
    )


class CommitteeMembersQuery(serializers.Serializer):
    current = serializers.BooleanField(required=False, default=False, help_text="Only current members.")


class MemberList(APIView):
    """Everyone the committee has had (or ``current`` ones), and one member joining."""

    @extend_schema(parameters=[CommitteeMembersQuery], responses=CommitteeMemberOutput(many=True))
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        committee, _principal = _committee(request, pk)
        query = CommitteeMembersQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        members = selectors.committee_members(committee=committee)
        if query.validated_data["current"]:
            members = [m for m in members if m.term_ends_on is None]
        return Response(CommitteeMemberOutput(members, many=True).data)

    @extend_schema(request=CommitteeMemberInput, responses={201: CommitteeMemberChangeOutput})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        committee, principal = _create_on(request, pk)
        data = CommitteeMemberInput(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.member_add(actor=principal, committee=committee, data=data.validated_data)
        return Response(CommitteeMemberChangeOutput(change).data, status=status.HTTP_201_CREATED)


class CommitteeMembersChangeInput(serializers.Serializer):
    add = CommitteeMemberInput(many=True, required=False, default=list)
    end = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text="Current members whose term ends.",
    )
    ends_on = serializers.DateField(required=False, help_text="The day those terms end (default: today).")


class MembersChange(APIView):
    @extend_schema(
        request=CommitteeMembersChangeInput,
        responses=CommitteeMemberChangeOutput,
        description="Several members joining and leaving at once (both sides growing, a member replaced): "
        "the committee's rules are checked on the state the whole change leaves.",
    )
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        committee, principal = _create_on(request, pk)
        data = CommitteeMembersChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        current = {m.pk: m for m in selectors.current_members(committee=committee)}
        unknown = [pk for pk in data.validated_data["end"] if pk not in current]
        if unknown:
            raise exceptions.ValidationError(
                {
                    "end": [
                        _("Not current members of this committee: %(ids)s.")
                        % {"ids": ", ".join(map(str, unknown))}
                    ]
                }
            )
        change = services.members_change(
            actor=principal,
            committee=committee,
            add=data.validated_data["add"],
            end=[current[pk] for pk in data.validated_data["end"]],
            ends_on=data.validated_data.get("ends_on"),
        )
        return Response(CommitteeMemberChangeOutput(change).data)


class MemberDetail(APIView):
    @extend_schema(responses=CommitteeMemberOutput)
    def get(self, request: Request, programme_code: str, pk: int, member_id: int) -> Response:
        committee, _principal = _committee(request, pk)
        return Response(
            CommitteeMemberOutput(selectors.access_member(committee=committee, member_id=member_id)).data
        )

    @extend_schema(request=CommitteeMemberInput, responses=CommitteeMemberChangeOutput)
    def patch(self, request: Request, programme_code: str, pk: int, member_id: int) -> Response:
        committee, principal = _committee(request, pk, manage=True)
        member = selectors.access_member(committee=committee, member_id=member_id)
        data = CommitteeMemberInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        change = services.member_update(actor=principal, member=member, data=data.validated_data)
        return Response(CommitteeMemberChangeOutput(change).data)


class CommitteeEndTermInput(serializers.Serializer):
    term_ends_on = serializers.DateField()


class MemberEnd(APIView):
    @extend_schema(request=CommitteeEndTermInput, responses=CommitteeMemberChangeOutput)
    def post(self, request: Request, programme_code: str, pk: int, member_id: int) -> Response:
        """End a member's term (history is kept)."""
        committee, principal = _committee(request, pk, manage=True)
        member = selectors.access_member(committee=committee, member_id=member_id)
        data = CommitteeEndTermInput(data=request.data)
        data.is_valid(raise_exception=True)
        change = services.member_end(
            actor=principal, member=member, ends_on=data.validated_data["term_ends_on"]
        )
        return Response(CommitteeMemberChangeOutput(change).data)


# --- Elections --------------------------------------------------------------------------------


class CommitteeCandidateOutput(serializers.ModelSerializer):
    sex = _sex(read_only=True)

    class Meta:
        model = Candidate
        fields = ["id", "name", "sex", "union_member", "votes", "elected"]
        read_only_fields = fields


class CommitteeElectionOutput(serializers.ModelSerializer):
    candidates = CommitteeCandidateOutput(many=True, read_only=True)

    class Meta:
        model = Election
        fields = [
            "id",
            "held_on",
            "seats",
            "voters",
            "ballots_cast",
            "notes",
            "results_recorded_at",
            "candidates",
        ]
        read_only_fields = fields


class CommitteeElectionInput(serializers.Serializer):
    held_on = serializers.DateField()
    seats = serializers.IntegerField(min_value=1, max_value=100)
    voters = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    ballots_cast = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


def _election_row(committee: Committee, election_id: int) -> Election:
    election = (
        selectors.committee_elections(committee=committee)
        .filter(pk=election_id)
        .prefetch_related("candidates")
        .first()
    )
    if election is None:
        raise Http404
    return election


class ElectionList(APIView):
    @extend_schema(responses=CommitteeElectionOutput(many=True))
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        committee, _principal = _committee(request, pk)
        rows = selectors.committee_elections(committee=committee).prefetch_related("candidates")
        return Response(CommitteeElectionOutput(rows, many=True).data)

    @extend_schema(request=CommitteeElectionInput, responses={201: CommitteeElectionOutput})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        """Record a worker election: its day, seats, workers entitled to vote and ballots cast."""
        committee, principal = _create_on(request, pk)
        data = CommitteeElectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        election = services.election_create(actor=principal, committee=committee, data=data.validated_data)
        return Response(
            CommitteeElectionOutput(_election_row(committee, election.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ElectionDetail(APIView):
    @extend_schema(responses=CommitteeElectionOutput)
    def get(self, request: Request, programme_code: str, pk: int, election_id: int) -> Response:
        committee, _principal = _committee(request, pk)
        return Response(CommitteeElectionOutput(_election_row(committee, election_id)).data)


class CommitteeCandidateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    sex = _sex()
    union_member = serializers.BooleanField(required=False, default=False)


class ElectionCandidates(APIView):
    @extend_schema(request=CommitteeCandidateInput, responses={201: CommitteeCandidateOutput})
    def post(self, request: Request, programme_code: str, pk: int, election_id: int) -> Response:
        """Nominate a candidate (until the results are recorded)."""
        committee, principal = _committee(request, pk, manage=True)
        election = selectors.access_election(committee=committee, election_id=election_id)
        data = CommitteeCandidateInput(data=request.data)
        data.is_valid(raise_exception=True)
        candidate = services.candidate_add(actor=principal, election=election, data=data.validated_data)
        return Response(CommitteeCandidateOutput(candidate).data, status=status.HTTP_201_CREATED)


class CommitteeVoteCount(serializers.Serializer):
    candidate = serializers.IntegerField()
    votes = serializers.IntegerField(min_value=0)


class CommitteeVotesInput(serializers.Serializer):
    votes = CommitteeVoteCount(many=True)
    voters = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    ballots_cast = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)


class ElectionVotes(APIView):
    @extend_schema(
        request=CommitteeVotesInput,
        responses=CommitteeElectionOutput,
        description="Votes per candidate; ballots cast and voters when given. A candidate has at most "
        "one vote per ballot, and the votes add up to at most ballots × seats.",
    )
    def put(self, request: Request, programme_code: str, pk: int, election_id: int) -> Response:
        committee, principal = _committee(request, pk, manage=True)
        election = selectors.access_election(committee=committee, election_id=election_id)
        data = CommitteeVotesInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.election_votes_record(
            actor=principal,
            election=election,
            votes={row["candidate"]: row["votes"] for row in data.validated_data["votes"]},
            ballots_cast=data.validated_data["ballots_cast"],
            voters=data.validated_data["voters"],
        )
        return Response(CommitteeElectionOutput(_election_row(committee, election_id)).data)


class CommitteeResultsInput(serializers.Serializer):
    replace_workers = serializers.BooleanField(
        required=False, default=False, help_text="End the current worker members' terms the day before."
    )


class CommitteeResultsOutput(serializers.Serializer):
    election = CommitteeElectionOutput()
    change = CommitteeMemberChangeOutput()


class ElectionResults(APIView):
    @extend_schema(
        request=CommitteeResultsInput,
        responses=CommitteeResultsOutput,
        description="The `seats` candidates with most votes are elected and join the worker side from the "
        "day of the election. A tie for the last seat answers 400: resolve it first.",
    )
    def post(self, request: Request, programme_code: str, pk: int, election_id: int) -> Response:
        committee, principal = _committee(request, pk, manage=True)
        election = selectors.access_election(committee=committee, election_id=election_id)
        data = CommitteeResultsInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.election_results_record(
            actor=principal, election=election, replace_workers=data.validated_data["replace_workers"]
        )
        return Response(
            CommitteeResultsOutput(
                {"election": _election_row(committee, election_id), "change": result.change}
            ).data
        )


# --- Meetings ---------------------------------------------------------------------------------


class CommitteeMeetingRowOutput(serializers.Serializer):
    id = serializers.IntegerField(source="meeting.pk")
    held_on = serializers.DateField(source="meeting.held_on")
    serving = serializers.IntegerField(help_text="Members serving on the day.")
    present = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="Present ÷ serving.")
    present_management = serializers.IntegerField()
    serving_management = serializers.IntegerField()
    present_workers = serializers.IntegerField()
    serving_workers = serializers.IntegerField()
    quorate = serializers.BooleanField(help_text="More than half of each side present.")
    decisions = serializers.IntegerField()


class CommitteeDecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    item = serializers.IntegerField(
        source="item_id", allow_null=True, help_text="A plan item of the factory."
    )


class CommitteeMeetingOutput(serializers.ModelSerializer):
    attendees = serializers.SerializerMethodField()
    decisions = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = ["id", "held_on", "agenda", "minutes", "attendees", "decisions", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_attendees(self, meeting: Meeting) -> list[int]:
        return sorted(selectors.meeting_attendee_ids(meeting=meeting))

    @extend_schema_field(CommitteeDecisionOutput(many=True))
    def get_decisions(self, meeting: Meeting) -> list[dict[str, Any]]:
        return CommitteeDecisionOutput(selectors.meeting_decisions(meeting=meeting), many=True).data  # type: ignore[return-value]


class CommitteeDecisionInput(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="An existing decision."
    )
    text = serializers.CharField()
    item = serializers.IntegerField(required=False, allow_null=True, default=None)


class CommitteeMeetingInput(serializers.Serializer):
    held_on = serializers.DateField()
    agenda = serializers.CharField(required=False, allow_blank=True, default="")
    minutes = serializers.CharField(required=False, allow_blank=True, default="")
    attendees = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="Members present (ids)."
    )
    decisions = CommitteeDecisionInput(many=True, required=False, default=list)


class MeetingList(APIView):
    @extend_schema(responses=CommitteeMeetingRowOutput(many=True))
    def get(self, request: Request, programme_code: str, pk: int) -> Response:
        """The committee's meetings, newest first, with attendance by side and quorum."""
        committee, _principal = _committee(request, pk)
        return Response(
            CommitteeMeetingRowOutput(selectors.committee_meetings(committee=committee), many=True).data
        )

    @extend_schema(request=CommitteeMeetingInput, responses={201: CommitteeMeetingOutput})
    def post(self, request: Request, programme_code: str, pk: int) -> Response:
        committee, principal = _create_on(request, pk)
        data = CommitteeMeetingInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        meeting = services.meeting_save(
            actor=principal,
            committee=committee,
            meeting=None,
            data=values,
            attendee_ids=values["attendees"],
            decisions=values["decisions"],
        )
        return Response(CommitteeMeetingOutput(meeting).data, status=status.HTTP_201_CREATED)


class MeetingDetail(APIView):
    @extend_schema(
        responses={200: CommitteeMeetingOutput, 404: OpenApiResponse(description="No such meeting for you.")}
    )
    def get(self, request: Request, programme_code: str, pk: int, meeting_id: int) -> Response:
        committee, _principal = _committee(request, pk)
        return Response(
            CommitteeMeetingOutput(selectors.access_meeting(committee=committee, meeting_id=meeting_id)).data
        )

    @extend_schema(
        request=CommitteeMeetingInput,
        responses=CommitteeMeetingOutput,
        description="Fields left out keep their values; `attendees` and `decisions`, when given, replace them "
        "(a decision keeps its id when given it).",
    )
    def patch(self, request: Request, programme_code: str, pk: int, meeting_id: int) -> Response:
        committee, principal = _committee(request, pk, manage=True)
        meeting = selectors.access_meeting(committee=committee, meeting_id=meeting_id)
        data = CommitteeMeetingInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        attendees = values.get("attendees")
        if attendees is None:
            attendees = sorted(selectors.meeting_attendee_ids(meeting=meeting))
        decisions = values.get("decisions")
        if decisions is None:
            decisions = [
                {"id": d.pk, "text": d.text, "item": d.item_id}
                for d in selectors.meeting_decisions(meeting=meeting)
            ]
        saved = services.meeting_save(
            actor=principal,
            committee=committee,
            meeting=meeting,
            data=values,
            attendee_ids=attendees,
            decisions=decisions,
        )
        return Response(CommitteeMeetingOutput(saved).data)
