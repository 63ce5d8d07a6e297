"""Who receives a message: the orchestration's applications, escalation and handoff, agent
availability, timeouts (DECISIONS §7)."""
