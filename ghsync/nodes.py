"""The shapes of the GraphQL nodes ghsync stores, as TypedDicts (the fields it reads).

They follow `github/queries/PullRequestPage.graphql` with its fragments, `CheckRuns.graphql`
and `RepoMetadataFields.graphql`; the client returns JSON of these shapes, records.py maps it.
"""

from __future__ import annotations

from typing import Generic, NotRequired, TypedDict, TypeVar

T = TypeVar("T")


class Connection(TypedDict, Generic[T]):
    """A GraphQL connection; only its (complete) `nodes` matter here."""

    nodes: list[T | None]


def items(connection: Connection[T] | None) -> list[T]:
    """A connection's items; a null connection or a null item (hidden node) is skipped."""
    if connection is None:
        return []
    return [node for node in connection["nodes"] if node is not None]


class Login(TypedDict):
    login: str


Actor = TypedDict("Actor", {"__typename": str, "login": str})
RequestedReviewer = TypedDict(
    "RequestedReviewer",
    {
        "__typename": str,
        "login": NotRequired[str],  # User, Bot, Mannequin
        "slug": NotRequired[str],  # Team
        "organization": NotRequired[Login | None],  # Team, when the query asks for it
    },
)


class Name(TypedDict):
    name: str


class IssueNumber(TypedDict):
    number: int


class Milestone(TypedDict):
    title: str


class ReviewRequest(TypedDict):
    requestedReviewer: RequestedReviewer | None


class Review(TypedDict):
    fullDatabaseId: str | int | None
    state: str
    submittedAt: str | None
    author: Actor | None


class GitActor(TypedDict):
    email: str | None
    name: str | None
    user: Login | None


class Commit(TypedDict):
    oid: str
    message: str
    authoredDate: str
    committedDate: str
    author: GitActor | None


class PullRequestCommit(TypedDict):
    commit: Commit


class ChangedFile(TypedDict):
    path: str
    additions: int
    deletions: int
    changeType: str


class CommitRef(TypedDict):
    id: str
    oid: str


class HeadCommit(TypedDict):
    commit: CommitRef


class PullRequestNode(TypedDict):
    """A node of PullRequestPage's `pullRequests` (fields ghsync stores)."""

    id: str
    fullDatabaseId: str | int | None
    number: int
    title: str
    body: str | None
    state: str
    isDraft: bool
    createdAt: str
    updatedAt: str
    closedAt: str | None
    mergedAt: str | None
    additions: int
    deletions: int
    changedFiles: int
    baseRefName: str
    headRefName: str
    headRefOid: str
    author: Actor | None
    milestone: Milestone | None
    labels: Connection[Name] | None
    assignees: Connection[Login] | None
    closingIssuesReferences: Connection[IssueNumber] | None
    reviewRequests: Connection[ReviewRequest] | None
    reviews: Connection[Review] | None
    commits: Connection[PullRequestCommit] | None
    files: Connection[ChangedFile] | None
    headCommit: Connection[HeadCommit] | None  # commits(last: 1): the head commit's node id


class App(TypedDict):
    name: str
    slug: str


class CheckRun(TypedDict):
    databaseId: int | None
    name: str
    status: str
    conclusion: str | None
    startedAt: str | None
    completedAt: str | None


class CheckSuite(TypedDict):
    app: App | None
    status: str
    checkRuns: Connection[CheckRun] | None


class StatusContext(TypedDict):
    context: str
    state: str
    createdAt: str | None


class Status(TypedDict):
    contexts: list[StatusContext]


class CommitChecks(TypedDict):
    """A Commit node of the CheckRuns query: its check suites (complete) and legacy statuses."""

    id: str
    oid: str
    checkSuites: Connection[CheckSuite] | None
    status: Status | None


class RepositoryNode(TypedDict):
    """The fields of RepoMetadataFields that `repositories` stores."""

    id: str
    nameWithOwner: str
    isArchived: bool
    pushedAt: str | None
