"""Inputs and views of the services (the API's request and response bodies); no personal data unmasked in lists."""
