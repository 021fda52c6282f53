"""Results of background LLM jobs."""
