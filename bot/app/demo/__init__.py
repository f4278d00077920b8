"""The offline demo: a fake Slack workspace and one chapter module per feature, run through the real app."""
