"""SQLAlchemy tables, one module per entity."""

from convhub.models.api_client import ApiClient
from convhub.models.base import Base
from convhub.models.config_object import ConfigObject, ConfigReference
from convhub.models.tenant import Tenant

__all__ = ["ApiClient", "Base", "ConfigObject", "ConfigReference", "Tenant"]
