"""After the pull request: checks, reviews, merges and comment commands."""
