"""Whether the function being traced is compiled by XLA (`tf.function(jit_compile=True)`)."""

import tensorflow as tf


def tracing_under_xla() -> bool:
    """True while TensorFlow traces a function that XLA compiles (or one nested in it).

    The blocks and the optimizer trace their repeated parts once as nested TensorFlow functions
    in graph mode; under XLA they are written inline instead: XLA compiles the whole step anyway,
    and it took over ten minutes to compile a 32-block step built of nested functions.
    """
    from tensorflow.python.ops import control_flow_util  # private: no public API tells it

    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())
