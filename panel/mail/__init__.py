"""The mail queue and its delivery."""
