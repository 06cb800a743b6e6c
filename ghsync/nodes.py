"""The shapes of the GraphQL answers ghsync reads, as TypedDicts (the fields it reads).

They follow the operations in `github/queries/` with their fragments. The client returns JSON;
`shaped` is the one place it becomes one of these types (github/fetch.py calls it on every
answer), so mypy checks the path from the query to the row (records.py, tables.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NotRequired, TypedDict, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")
"""A root node of a query's answer (a PR, a commit)."""
Owner = TypeVar("Owner", bound=Mapping[str, object])
"""An owner node (a TypedDict with an `id`) of a nested connection."""


def shaped(data: object, shape: type[T]) -> T:
    """`data`, a GraphQL answer as JSON, as the TypedDict `shape` of its operation: the one
    cast between JSON and the typed nodes. Nothing is checked at run time; the shapes mirror
    the .graphql files, which tests validate against GitHub's schema and run on the emulator."""
    return cast(T, data)


class PageInfo(TypedDict):
    hasNextPage: bool
    endCursor: str | None


class Connection(TypedDict, Generic[T]):
    """A GraphQL connection: its `nodes` (complete after nested completion), and the paging
    fields where the query asks them."""

    nodes: list[T | None]
    totalCount: NotRequired[int]
    pageInfo: NotRequired[PageInfo]


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
    id: str
    fullDatabaseId: str | int | None
    state: str
    submittedAt: str | None
    author: Actor | None


class GitActor(TypedDict):
    email: str | None
    name: str | None
    user: Login | None


class Commit(TypedDict):
    id: str
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
    headCommit: NotRequired[Connection[HeadCommit] | None]
    """PullRequestHead's `commits(last: 1)`: asked only when `commits` lacks the head."""


class PullRequestHeadNode(TypedDict):
    """A PullRequest node of PullRequestHead."""

    id: str
    headCommit: Connection[HeadCommit] | None


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
    id: str
    app: App | None
    status: str
    checkRuns: NotRequired[Connection[CheckRun] | None]
    """CheckSuiteRuns' pages (the commit's query leaves the runs out)."""


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


class UpdatedAt(TypedDict):
    updatedAt: str


class RepositoryMetadata(RepositoryNode):
    """An item of RepoMetadata: the repository and its most recently updated PR."""

    pullRequests: Connection[UpdatedAt]


class OrgRepository(TypedDict):
    nameWithOwner: str
    isArchived: bool


class Organization(TypedDict):
    repositories: Connection[OrgRepository]


class OrgRepositoriesData(TypedDict):
    organization: Organization


class RepositoryPullRequests(TypedDict):
    pullRequests: Connection[PullRequestNode]


class PullRequestPageData(TypedDict):
    repository: RepositoryPullRequests


def big_int(value: str | int | None) -> int | None:
    """A `BigInt` (GitHub sends it as a string) as an int."""
    return int(value) if value is not None else None


def head_commit_id(node: PullRequestNode) -> str | None:
    """The node id of the PR's head commit (input of the check-run fetch): the commit of its
    `commits` whose oid is `headRefOid` (the last one, mostly), else PullRequestHead's."""
    for each in reversed(items(node["commits"])):
        if each["commit"]["oid"] == node["headRefOid"]:
            return each["commit"]["id"]
    heads = items(node.get("headCommit"))
    return heads[0]["commit"]["id"] if heads else None


@dataclass(frozen=True)
class Nested(Generic[R, Owner, T]):
    """A connection that may hold more items than its query asked, on the owner nodes of each
    root node (a PR, a commit): how to find and read it, and how the completion query
    (PullRequestNested, CommitCheckSuites, CheckSuiteRuns: batches of `node(id:)`) asks its
    next page.
    Completion (github/fetch.py) appends the pages in place."""

    shape: type[Owner]
    """The owner's node type; a completion answer is a node of it with only this connection."""
    field: str
    owners: Callable[[R], Sequence[Owner]]
    """The owners of the connection in a root node (the root itself, or e.g. a PR's reviews)."""
    read: Callable[[Owner], Connection[T] | None]
    flag: str | None = None
    """The completion query's `@include` variable that asks this connection (None: the query
    asks one connection per owner type)."""
    first_page: Callable[[Owner, Connection[T]], None] | None = None
    """Stores the first page of a connection its owner's query leaves out (completion asks
    every page of it); None: the owner's query asks the first page."""
    operation: str = "PullRequestNested"
    """The completion query (a batched `node(id:)` operation of `queries/`)."""

    def due(self, root: R) -> list[Due[Owner, T]]:
        """The next page to ask of each of the root's owners whose connection is incomplete."""
        return [due for owner in self.owners(root) if (due := self._due(owner)) is not None]

    def _due(self, owner: Owner) -> Due[Owner, T] | None:
        connection = self.read(owner)
        if connection is None:
            return Due(self, owner, None) if self.first_page is not None else None
        info = connection.get("pageInfo")
        return Due(self, owner, info["endCursor"]) if info and info["hasNextPage"] else None


@dataclass(frozen=True)
class Due(Generic[Owner, T]):
    """One page of one owner's nested connection to ask (`after` its cursor)."""

    nested: Nested[Any, Owner, T]
    owner: Owner
    after: str | None

    @property
    def owner_id(self) -> str:
        return str(self.owner["id"])

    def variables(self) -> dict[str, object]:
        """The completion query's variables for this page."""
        flag = {self.nested.flag: True} if self.nested.flag else {}
        return {"id": self.owner_id, "after": self.after, **flag}

    def add(self, answer: object) -> bool:
        """Append the page in `answer` (the owner node as the completion query answers it);
        False when the answer has no such connection (the owner changed)."""
        page = self.nested.read(shaped(answer, self.nested.shape))
        if page is None:
            return False
        connection = self.nested.read(self.owner)
        if connection is None:
            assert self.nested.first_page is not None
            self.nested.first_page(self.owner, page)
        else:
            connection["nodes"] += page["nodes"]
            connection["pageInfo"] = page["pageInfo"]
        return True
