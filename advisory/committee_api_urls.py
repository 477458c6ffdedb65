"""Committee endpoints, under /api/v1/p/<code>/advisory/."""

from django.urls import path

from advisory import committee_api as api

COMMITTEE = "committees/<int:pk>/"
ELECTION = COMMITTEE + "elections/<int:election_id>/"

urlpatterns = [
    path("committee-kinds/", api.KindList.as_view(), name="api-committee-kinds"),
    path("factories/<int:factory_id>/committees/", api.FactoryCommittees.as_view(), name="api-committees"),
    path(COMMITTEE, api.CommitteeDetail.as_view(), name="api-committee"),
    path(COMMITTEE + "members/", api.MemberList.as_view(), name="api-committee-members"),
    path(COMMITTEE + "members/change/", api.MembersChange.as_view(), name="api-committee-members-change"),
    path(COMMITTEE + "members/<int:member_id>/", api.MemberDetail.as_view(), name="api-committee-member"),
    path(
        COMMITTEE + "members/<int:member_id>/end/", api.MemberEnd.as_view(), name="api-committee-member-end"
    ),
    path(COMMITTEE + "elections/", api.ElectionList.as_view(), name="api-committee-elections"),
    path(ELECTION, api.ElectionDetail.as_view(), name="api-committee-election"),
    path(ELECTION + "candidates/", api.ElectionCandidates.as_view(), name="api-committee-candidates"),
    path(ELECTION + "votes/", api.ElectionVotes.as_view(), name="api-committee-votes"),
    path(ELECTION + "results/", api.ElectionResults.as_view(), name="api-committee-results"),
    path(COMMITTEE + "meetings/", api.MeetingList.as_view(), name="api-committee-meetings"),
    path(COMMITTEE + "meetings/<int:meeting_id>/", api.MeetingDetail.as_view(), name="api-committee-meeting"),
]
