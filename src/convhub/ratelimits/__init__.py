"""Rate limits and quotas per API client, from the SLA's plans (DECISIONS §10)."""
