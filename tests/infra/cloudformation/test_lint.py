"""Every template passes the pinned cfn-lint (errors, warnings and informational findings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cloudformation import TEMPLATE_DIR, TEMPLATES, run_cfn_lint


def test_the_three_stacks_are_present():
    assert {path.name for path in TEMPLATES} == {
        "archive-bucket.yaml",
        "gpu-endpoint.yaml",
        "portal.yaml",
    }


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_template_passes_cfn_lint(template: Path):
    result = run_cfn_lint(template)
    assert result.returncode == 0, f"cfn-lint findings in {template.name}:\n{result.stdout}"


def test_cfn_lint_reports_a_broken_template(tmp_path: Path):
    """The lint gate really lints: a wrong encryption algorithm in the bucket is reported."""
    source = (TEMPLATE_DIR / "archive-bucket.yaml").read_text()
    assert "SSEAlgorithm: AES256" in source
    broken = tmp_path / "archive-bucket.yaml"
    broken.write_text(source.replace("SSEAlgorithm: AES256", "SSEAlgorithm: AES128"))

    result = run_cfn_lint(broken)

    assert result.returncode != 0
    assert "AES128" in result.stdout
