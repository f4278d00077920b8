"""Tests of supervised-practice tracks: dated milestones, journey prompts, evidence, attestation, export."""
