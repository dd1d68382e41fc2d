"""The rating engines (issue 4): credit scorecard and contribution stars, both models as versioned data."""
