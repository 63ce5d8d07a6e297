from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from convhub.models.base import Base


class RateLimitCounter(Base):
    """One fixed window of a rate limit or quota (``limits``' key: plan, client, group, period).

    Kept in the database so that every process of a PostgreSQL deployment counts the same
    requests (DECISIONS §10). ``expires_at`` is seconds since the epoch (what ``limits`` works
    in); a window past it starts again from zero on the next hit.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
