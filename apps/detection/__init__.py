"""The public detection API, the inference client, usage metering and reports."""
