"""One repository as a job sees it: access, config (narrowed to the operator's policy),
permissions."""
