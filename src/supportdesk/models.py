"""Imports every feature's tables, so ``metadata`` is complete for Alembic and tests."""

from supportdesk.account_access import models as account_access_models
from supportdesk.attachments import models as attachment_models
from supportdesk.audit import models as audit_models
from supportdesk.conversations import models as conversation_models
from supportdesk.core import outbox as outbox_models
from supportdesk.core.db import Base
from supportdesk.identity import models as identity_models
from supportdesk.knowledge import models as knowledge_models
from supportdesk.partners import models as partner_models
from supportdesk.product import models as product_models
from supportdesk.saved_replies import models as saved_reply_models
from supportdesk.staff import models as staff_models
from supportdesk.triage import models as triage_models
from supportdesk.webhooks import models as webhook_models

metadata = Base.metadata

__all__ = [
    "account_access_models",
    "attachment_models",
    "audit_models",
    "conversation_models",
    "identity_models",
    "knowledge_models",
    "metadata",
    "outbox_models",
    "partner_models",
    "product_models",
    "saved_reply_models",
    "staff_models",
    "triage_models",
    "webhook_models",
]
