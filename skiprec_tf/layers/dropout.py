"""Dropout made only when used (beyond the paper: the backbones over-fit small data sets)."""

import keras


def optional_dropout(rate: float):
    """A `keras.layers.Dropout(rate)`, or None for rate 0.

    Made only when used: a Dropout layer draws a seed when it is made, which would change the
    initial weights of a model without dropout.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {rate}")
    return keras.layers.Dropout(rate) if rate else None
