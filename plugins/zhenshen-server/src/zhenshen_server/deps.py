"""What a route is handed: the service state, the caller, and the desk it asks about.

Every route that works on a desk takes one :class:`DeskCall` (``Depends(desk_call(action))``):
it has authenticated the caller (401), checked the role may call ``action`` at all (403) and
that the desk is within the caller's reach (404, so a desk's existence does not leak), and it
offers :meth:`DeskCall.case` (404 for a case outside the caller's scope) and
:meth:`DeskCall.audit`. Routes that take no desk use :func:`caller`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from zhenshen_core import AuditRecord, Case, CaseEvent, Desk
from zhenshen_core.errors import CaseNotFoundError
from zhenshen_core.storage.audit import AuditOutcome
from zhenshen_server import audit as audit_log
from zhenshen_server.auth import Principal, cached_principal, principal_for_token
from zhenshen_server.casecache import Reach
from zhenshen_server.errors import ApiError, forbidden, not_found, unauthorized
from zhenshen_server.masking import shown, shown_events
from zhenshen_server.roles import Role, allows
from zhenshen_server.settings import DEFAULT_DESK
from zhenshen_server.state import ServiceState

#: The tag that says which desk received a case; a case without one belongs to ``default``.
DESK_TAG = "desk:"

_bearer = HTTPBearer(auto_error=False, description="An API key (zsk_…) or an OIDC JWT")


def service(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


#: The bearer credentials of a request, as FastAPI reads them (and documents the scheme).
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def caller(request: Request, credentials: Credentials) -> Principal:
    """The authenticated caller (401 with ``WWW-Authenticate`` when there is none).

    On the event loop when memory answers (a cached API key); the store read or the JWT check
    goes to a worker thread. FastAPI runs a plain ``def`` dependency in a thread every time,
    a hop that costs more than the cached check itself."""
    if credentials is None:
        header = request.headers.get("authorization")
        raise unauthorized(
            "use Authorization: Bearer <key or token>" if header else "credentials required"
        )
    state = service(request)
    token = credentials.credentials
    principal = await cached_principal(token, state.keys)
    # A key from memory came after a round trip that proved memory current since the
    # request arrived: what else memory holds (case bodies) is current too.
    request.state.proved_current = principal is not None
    if principal is None:
        principal = await run_in_threadpool(principal_for_token, token, state.keys,
                                            state.verifier)
    request.state.principal = principal
    return principal


def desk_of(case: Case) -> str:
    for tag in case.tags:
        if tag.startswith(DESK_TAG):
            return tag[len(DESK_TAG):]
    return DEFAULT_DESK


@dataclass
class DeskCall:
    state: ServiceState
    principal: Principal
    desk_id: str
    desk: Desk
    remote: str | None
    #: Memory was proved current after the request arrived (see :func:`caller`).
    proved_current: bool = False

    def reach(self, case: Case) -> Reach:
        """What decides who sees ``case``; who submitted it is read only for an ``intake``
        caller, the one role it matters to."""
        submitted_by = None
        if self.principal.role is Role.INTAKE:
            events = self.state.store.events(case.id)
            submitted_by = events[0].actor if events else ""
        return Reach(desk_of(case), frozenset(d.id for d in case.departments), submitted_by)

    def reaches(self, reach: Reach) -> bool | None:
        """Whether a case of ``reach`` is in the caller's scope on this desk (None: who
        submitted it must be read first)."""
        if reach.desk != self.desk_id:
            return False
        role = self.principal.role
        if role is Role.DEPARTMENT:
            return self.principal.department in reach.departments
        if role is Role.INTAKE:
            if reach.submitted_by is None:
                return None
            return bool(reach.submitted_by) and reach.submitted_by == self.principal.subject
        return True

    def sees(self, case: Case) -> bool:
        """Whether the case is in the caller's scope on this desk."""
        return bool(self.reaches(self.reach(case)))

    def case(self, case_id: str) -> Case:
        return self.reached(case_id)[0]

    def reached(self, case_id: str) -> tuple[Case, Reach]:
        """The case and its reach; 404 when there is none or the caller may not see it."""
        try:
            case = self.state.store.get(case_id)
        except CaseNotFoundError:
            raise not_found() from None
        reach = self.reach(case)
        if not self.reaches(reach):
            raise not_found()
        return case, reach

    def show(self, document: Any, case: str | None = None, what: str = "case") -> Any:
        """The document masked, or whole for a ``pii`` caller (and that read audited)."""
        if self.principal.pii:
            self.audit("read_personal_data", case, "ok", {"what": what})
        return shown(document, self.principal, self.desk.settings.mask_policy)

    def show_events(self, events: list[CaseEvent], case: Case) -> list[dict[str, Any]]:
        """A case's history masked in the case's scope, or whole for a ``pii`` caller."""
        if self.principal.pii:
            self.audit("read_personal_data", case.id, "ok", {"what": "events"})
        return shown_events(events, case, self.principal, self.desk.settings.mask_policy)

    def audit(
        self,
        action: str,
        case: str | None,
        outcome: AuditOutcome,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self.state.store.record_audit(self.audit_record(action, case, outcome, detail))

    def audit_record(
        self,
        action: str,
        case: str | None,
        outcome: AuditOutcome,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        """The record :meth:`audit` would store, for a write that stores it itself."""
        return audit_log.make(
            who=self.principal.subject,
            role=self.principal.role.value,
            action=action,
            desk=self.desk_id,
            case=case,
            outcome=outcome,
            remote=self.remote,
            detail=detail,
        )


#: Actions that write, with their audit-log names: a refused attempt is audited too (outcome
#: ``denied``) under the name its success would have.
WRITES = {"case.create": "receive_case", "case.event": "post_event", "admin": "admin"}


def require(principal: Principal, action: str) -> None:
    if not allows(principal.role, action):
        raise forbidden(f"the role {principal.role.value!r} may not {action.replace('.', ' ')}")


def _denied(request: Request, principal: Principal, action: str, desk: str | None) -> None:
    """A write the caller may not make is logged: who tried what, where, from where."""
    if action in WRITES:
        audit_log.record(
            service(request).store,
            who=principal.subject,
            role=principal.role.value,
            action=WRITES[action],
            desk=desk,
            case=request.path_params.get("case_id"),
            outcome="denied",
            remote=_remote(request),
        )


def desk_call(action: str) -> Callable[..., Awaitable[DeskCall]]:
    """The dependency of a desk route for ``action``."""

    async def dependency(desk: str, request: Request, credentials: Credentials) -> DeskCall:
        # On the event loop: only a refusal touches the store (its audit record, in a thread).
        # The caller is authenticated by a call, not by Depends(caller): a level of FastAPI's
        # dependency solving costs more than a cached key's check.
        principal = await caller(request, credentials)
        state = service(request)
        loaded = state.desk(desk)
        try:
            require(principal, action)
            if loaded is None or not principal.reaches(desk):
                raise ApiError(404, "not_found", "no such desk")
        except ApiError:
            await run_in_threadpool(_denied, request, principal, action, desk)
            raise
        return DeskCall(state, principal, desk, loaded.desk, _remote(request),
                        getattr(request.state, "proved_current", False))

    return dependency


def role_call(action: str) -> Callable[..., Awaitable[Principal]]:
    """The dependency of a route outside any desk: the caller, when its role may ``action``."""

    async def dependency(request: Request, credentials: Credentials) -> Principal:
        principal = await caller(request, credentials)
        try:
            require(principal, action)
        except ApiError:
            await run_in_threadpool(_denied, request, principal, action, None)
            raise
        return principal

    return dependency
