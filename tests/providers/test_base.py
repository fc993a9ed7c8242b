"""The provider registry and the Protocol both providers satisfy."""

from __future__ import annotations

import pytest

from actors.errors import ConfigError
from actors.providers import Provider, make_provider, provider_names
from actors.providers.sim import SimProvider
from actors.providers.snapshot import SnapshotProvider


def test_registry_builds_snapshot_and_sim():
    """make_provider knows live, snapshot and sim and passes options through."""
    assert provider_names() == ("live", "sim", "snapshot")
    snapshot = make_provider("snapshot")
    sim = make_provider("sim", size=12, seed=3)
    assert isinstance(snapshot, SnapshotProvider) and isinstance(sim, SimProvider)
    assert len(sim.default_universe()) == 12
    assert isinstance(snapshot, Provider) and isinstance(sim, Provider)


def test_unknown_provider_is_config_error():
    """An unknown name lists the known ones."""
    with pytest.raises(ConfigError, match=r"unknown provider 'yahoo'; expected one of live, sim, snapshot"):
        make_provider("yahoo")


@pytest.mark.parametrize(
    ("options", "expected"),
    [({"size": 0}, r"size: expected an integer in 1\.\.1000000"), ({"colour": "red"}, r"bad options \['colour'\]")],
)
def test_bad_options_are_config_errors(options, expected):
    """Rejected or unknown options become ConfigError naming them."""
    with pytest.raises(ConfigError, match=expected):
        make_provider("sim", **options)
