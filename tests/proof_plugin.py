"""Pytest hooks and fixtures of the proof report (:mod:`tests.proof`)."""

from __future__ import annotations

from collections.abc import Generator
from typing import cast

import pytest

from hub.settings import PROJECT_ROOT
from tests.proof import Profile, ProfileName, ProofReport, ProofRow

_REPORT = pytest.StashKey[ProofReport]()
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--proof-profile",
        choices=("ci", "full"),
        default="ci",
        help="load profile of tests/faults and tests/security (default: ci)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_REPORT] = ProofReport()


def _profile(config: pytest.Config) -> Profile:
    return Profile(cast(ProfileName, config.getoption("--proof-profile")))


@pytest.fixture(scope="session")
def proof_profile(request: pytest.FixtureRequest) -> Profile:
    return _profile(request.config)


@pytest.fixture
def proof(request: pytest.FixtureRequest) -> ProofRow:
    """This test's row of the proof report; its outcome is filled in by pytest."""
    report = request.config.stash[_REPORT]
    return report.row(request.node.nodeid, request.node.name.removeprefix("test_"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" or report.failed:
        outcome = "pass" if report.passed else ("skipped" if report.skipped else "FAIL")
        item.config.stash[_REPORT].set_outcome(item.nodeid, outcome)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    config = terminalreporter.config
    report = config.stash[_REPORT]
    if not report.rows:
        return
    path = report.write(ARTIFACTS, profile=_profile(config))
    terminalreporter.section(f"proof ({_profile(config).name} profile)")
    terminalreporter.write_line(report.text())
    terminalreporter.write_line(f"written to {path.relative_to(PROJECT_ROOT)}")
