"""Every query the API and services run, one module per table family; callers pass the Session."""
