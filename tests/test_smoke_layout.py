"""The layout the rest of the project builds on."""

import messages.convert


def test_converter_reports_paths():
    """A bad field is reported with its JSON path."""
    import attrs
    import pytest

    @attrs.frozen
    class Doc:
        bid: float

    with pytest.raises(messages.convert.DocumentError, match=r"\$\.bid: expected a number"):
        messages.convert.structure({"bid": "x"}, Doc)
