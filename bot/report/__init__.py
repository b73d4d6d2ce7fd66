"""What people see on GitHub: the status comment, notes and the check run."""
