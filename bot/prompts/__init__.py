"""Task-type prompt templates (the templates themselves live in the repository's prompts/)."""
