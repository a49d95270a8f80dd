from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from supportdesk.conversations.queries import open_chat_counts
from supportdesk.deps import SESSION_COOKIE, AdminDep, AgentDep, SupervisorDep, SvcDep
from supportdesk.staff import actions
from supportdesk.staff.models import Agent, Presence
from supportdesk.staff.queries import get_agent, list_agents, list_specialists

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


class AgentPublic(BaseModel):
    id: int
    email: str
    name: str
    roles: list[str]
    languages: list[str]
    locale: str
    max_chats: int
    presence: str
    open_chats: int | None = None

    @classmethod
    def of(cls, agent: Agent, open_chats: int | None = None) -> AgentPublic:
        return cls(
            id=agent.id,
            email=agent.email,
            name=agent.name,
            roles=agent.roles,
            languages=agent.languages,
            locale=agent.locale,
            max_chats=agent.max_chats,
            presence=agent.presence,
            open_chats=open_chats,
        )


class LoginOut(BaseModel):
    token: str
    csrf_token: str
    expires_in: int
    agent_id: int
    name: str
    roles: list[str]


@router.post("/login")
async def login(body: LoginIn, svc: SvcDep, response: Response) -> LoginOut:
    result = await actions.do_login(svc, body.email, body.password)
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=result.expires_in,
        httponly=True,
        samesite="strict",
        secure=svc.settings.cookie_secure,
        path="/",
    )
    return LoginOut(
        token=result.token,
        csrf_token=result.csrf_token,
        expires_in=result.expires_in,
        agent_id=result.principal.agent_id,
        name=result.principal.name,
        roles=sorted(result.principal.roles),
    )


@router.post("/logout", status_code=204)
async def logout(agent: AgentDep, svc: SvcDep, response: Response) -> None:
    await actions.do_logout(svc, agent)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=svc.settings.cookie_secure,
    )


class MeOut(AgentPublic):
    is_supervisor: bool
    # The session's CSRF token, for a console that uses the cookie session: a page of
    # another origin cannot read this response, so it cannot learn the token.
    csrf_token: str | None


@router.get("/me")
async def me(agent: AgentDep, svc: SvcDep) -> MeOut:
    """Who is signed in: profile, roles, locale, and the session's CSRF token."""
    row = await get_agent(svc, agent.agent_id)
    return MeOut(
        **AgentPublic.of(row).model_dump(),
        is_supervisor=agent.is_supervisor,
        csrf_token=agent.csrf_token,
    )


class SettingsIn(BaseModel):
    locale: Literal["ja", "en"]


@router.put("/me/settings")
async def update_settings(body: SettingsIn, agent: AgentDep, svc: SvcDep) -> dict[str, str]:
    """The agent's own preferences; today the interface language."""
    await actions.do_set_locale(svc, agent, body.locale)
    return {"locale": body.locale}


class PresenceIn(BaseModel):
    presence: Literal["online", "away", "offline"]


@router.put("/me/presence")
async def set_presence(body: PresenceIn, agent: AgentDep, svc: SvcDep) -> dict[str, str]:
    await actions.do_set_presence(svc, agent.agent_id, Presence(body.presence), actor=agent)
    return {"presence": body.presence}


@router.get("/agents")
async def agents(_: SupervisorDep, svc: SvcDep) -> list[AgentPublic]:
    """Every agent with presence and current load, for supervisors."""
    async with svc.db.read() as session:
        load = await open_chat_counts(session)
    return [AgentPublic.of(agent, load.get(agent.id, 0)) for agent in await list_agents(svc)]


class SpecialistOut(BaseModel):
    id: int
    name: str
    presence: str
    languages: list[str]
    open_chats: int


@router.get("/specialists")
async def specialists(_: AgentDep, svc: SvcDep) -> list[SpecialistOut]:
    """Active technical-support agents, online first, for a transfer's optional
    preferred specialist."""
    async with svc.db.read() as session:
        load = await open_chat_counts(session)
    return [
        SpecialistOut(
            id=agent.id,
            name=agent.name,
            presence=agent.presence,
            languages=agent.languages,
            open_chats=load.get(agent.id, 0),
        )
        for agent in await list_specialists(svc)
    ]


class AgentCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1000)
    roles: list[str] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    locale: Literal["ja", "en"] = "en"
    max_chats: int | None = Field(default=None, ge=1, le=100)


@router.post("/agents", status_code=201)
async def create_agent(body: AgentCreate, admin: AdminDep, svc: SvcDep) -> AgentPublic:
    agent = await actions.do_create_agent(
        svc,
        email=body.email,
        name=body.name,
        password=body.password,
        roles=body.roles,
        languages=body.languages,
        locale=body.locale,
        max_chats=body.max_chats,
        actor=admin,
    )
    return AgentPublic.of(agent)
