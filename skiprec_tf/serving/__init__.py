"""Serving: the SavedModel export, real skipping on stacked weights, warm-up and recommend."""
