"""The committee's own tests, as an outside developer writes them with the Fengqiao SDK
(fixtures from the `fengqiao` pytest plugin; the conformance kit)."""

import pytest

from core.sdk import conformance

SAMPLE = {"agency": "某某国际旅行社", "departed_on": "2026-10-01", "destination": "三亚", "complaint": "shopping"}


@pytest.fixture
def fengqiao_entry_points():
    return True  # find the installed committee the way a deployment does


@pytest.fixture
def fengqiao_config():
    return 'enabled_channels = ["general", "tourism"]\n'


def test_conforms(fengqiao_registry):
    conformance.assert_conforms(fengqiao_registry, "tourism", sample=SAMPLE)


def test_statistics_compute(fengqiao_registry, fengqiao_room, fengqiao_cipher, fengqiao_run):
    people = fengqiao_room("tourism")
    values = fengqiao_run(conformance.check_statistics(
        fengqiao_registry, "tourism", room=people["room"], user=people["admin"], cipher=fengqiao_cipher,
        sample=SAMPLE, dispute_type="consumer"))
    assert values["tourism_registered_cases"] == 3
