"""SQLAlchemy tables, one module per entity."""

from convhub.models.api_client import ApiClient
from convhub.models.asset import Asset
from convhub.models.availability import EntryPointAvailability, NotificationSent
from convhub.models.base import Base
from convhub.models.config_object import ConfigObject, ConfigReference
from convhub.models.conversation import Conversation
from convhub.models.delivery import Delivery
from convhub.models.delivery_log import CallbackHealth, DeliveryAttempt
from convhub.models.message import Message
from convhub.models.rate_limit import RateLimitCounter
from convhub.models.tenant import Tenant

__all__ = [
    "ApiClient",
    "Asset",
    "Base",
    "CallbackHealth",
    "ConfigObject",
    "ConfigReference",
    "Conversation",
    "Delivery",
    "DeliveryAttempt",
    "EntryPointAvailability",
    "Message",
    "NotificationSent",
    "RateLimitCounter",
    "Tenant",
]
