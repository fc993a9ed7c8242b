"""The store_* settings: validated by name, and turned into the persister's arguments."""

import pytest

from actors.config import load_settings
from actors.errors import ConfigError
from actors.store.persister import Persister, store_options


def test_store_settings_become_persister_arguments(tmp_path):
    """Timeout, retry delays and the size cap (MiB → bytes) reach the persister; 0 means no cap."""
    settings = load_settings(env={"OPTION_ALPHA_STORE_BUSY_RETRY_DELAYS": "0.5,1"},
                             flags={"store_busy_timeout": "2", "store_max_size_mb": "0.5"})
    options = store_options(settings, tmp_path / "x.db")
    assert options == {"db_path": tmp_path / "x.db", "busy_timeout": 2.0, "busy_retry_delays": (0.5, 1.0),
                       "max_size_bytes": 512 * 1024}
    Persister(**options)  # accepted as is
    assert store_options(load_settings(env={}), "y.db")["max_size_bytes"] is None


@pytest.mark.parametrize("name, value", [
    ("STORE_BUSY_TIMEOUT", "-1"), ("STORE_BUSY_RETRY_DELAYS", "1,x"), ("STORE_MAX_SIZE_MB", "-3"),
])
def test_bad_store_settings_name_the_field_and_the_source(name, value):
    """A bad value is a ConfigError naming the field and the environment variable."""
    with pytest.raises(ConfigError, match=f"{name.lower()}: .*from env OPTION_ALPHA_{name}"):
        load_settings(env={f"OPTION_ALPHA_{name}": value})
