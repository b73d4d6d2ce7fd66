"""Run jobs: the worker claims durable jobs and dispatches them; scheduling of task jobs."""
