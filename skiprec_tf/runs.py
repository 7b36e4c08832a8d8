"""A finished run directory back as its config, its trained model and its item ids."""

from skiprec_tf.run_dir import RunDir


def load_run(run_dir: str):
    """(config, model with the best checkpoint's weights, raw id of every internal item id)."""
    return RunDir(run_dir).load_model()
