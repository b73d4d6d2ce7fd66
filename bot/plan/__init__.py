"""Plan: an issue becomes atomic tasks, stored and scheduled."""
