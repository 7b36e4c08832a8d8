"""Training: the Keras fit loop and its callbacks, checkpoints and crash recovery, distribution,
the optimizers, two-stage SkipRec, and the run directory every run writes."""
