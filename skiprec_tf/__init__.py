"""skiprec_tf: user-adaptive layer skipping for very deep sequential recommenders (SkipRec)."""

__version__ = "0.1.0"
