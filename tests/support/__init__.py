"""Test-only helpers that no benchmark needs (the archiving portal, CloudFormation templates).
What starts and polls real processes for both tests and bench lives in harness/."""
