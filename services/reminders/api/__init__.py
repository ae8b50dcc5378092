"""Reminders' HTTP API: strategies, jobs, call tasks, contact logging, promises, plans, webhooks."""
