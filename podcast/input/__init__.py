"""Input: reading and validating issue and show files into typed, located records."""
