"""One Pydantic model per event type; these are also the wire shapes clients see.

Events are published only after the transaction that caused them commits. Each event
carries the routing facts of its conversation (``ConversationFacts``), so the gateway
decides who receives it without querying the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConversationFacts(Wire):
    """What the permission rules need to know about a conversation."""

    id: int
    portal_id: int
    tier: str
    state: str
    assigned_agent_id: int | None
    participant_ids: list[int] = Field(default_factory=list)


class AuthorPublic(Wire):
    type: Literal["customer", "agent", "system"]
    id: int | None = None
    name: str = ""
    tier: str | None = None  # the agent's tier in this conversation when they wrote


class ItemPublic(Wire):
    conversation_id: int
    seq: int
    kind: Literal["message", "note", "system", "card"]
    author: AuthorPublic
    body: str
    data: dict[str, Any] | None = None
    client_key: str | None = None
    created_at: datetime
    _json: dict[str, Any] | None = PrivateAttr(default=None)

    def as_json(self) -> dict[str, Any]:
        """The JSON form, computed once: the same item goes to the sender's ``ack`` and to
        every receiving socket's ``item`` frame."""
        if self._json is None:
            self._json = self.model_dump(mode="json")
        return self._json


class AgentRef(Wire):
    id: int
    name: str
    tier: str | None = None


class ConversationPublic(Wire):
    id: int
    portal_id: int
    state: str
    tier: str
    subject: str
    locale: str
    assigned_agent: AgentRef | None = None
    queue_position: int | None = None
    last_seq: int
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    rated: bool = False


class _Event(Wire):
    def frame(self) -> dict[str, Any]:
        """What a client receives (routing facts stay on the server)."""
        return self.model_dump(mode="json", exclude={"facts"})

    def frame_bytes(self) -> bytes:
        return orjson.dumps(self.frame())


class ItemEvent(_Event):
    type: Literal["item"] = "item"
    facts: ConversationFacts
    internal: bool
    item: ItemPublic

    def frame(self) -> dict[str, Any]:
        return {
            "type": "item",
            "conversation_id": self.facts.id,
            "item": self.item.as_json(),
        }


class ConversationEvent(_Event):
    """A conversation's state, tier, assignee or queue position changed."""

    type: Literal["conversation"] = "conversation"
    facts: ConversationFacts
    conversation: ConversationPublic


class QueueEvent(_Event):
    """A tier's queue changed; staff of that tier receive it."""

    type: Literal["queue"] = "queue"
    tier: str
    waiting: int
    oldest_waiting_since: datetime | None


class TypingEvent(_Event):
    """Ephemeral: never stored."""

    type: Literal["typing"] = "typing"
    facts: ConversationFacts
    conversation_id: int
    who: AuthorPublic
    internal: bool = False


class PresenceEvent(_Event):
    type: Literal["presence"] = "presence"
    agent_id: int
    presence: str


Event = Annotated[
    ItemEvent | ConversationEvent | QueueEvent | TypingEvent | PresenceEvent,
    Field(discriminator="type"),
]
EVENTS = TypeAdapter(list[Event])


def encode_events(events: list[Any]) -> bytes:
    """Serialise a batch for a bus that crosses processes."""
    return orjson.dumps([event.model_dump(mode="json") for event in events])


def decode_events(payload: bytes) -> list[Any]:
    return EVENTS.validate_json(payload)
