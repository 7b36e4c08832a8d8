"""skiprec_tf: SkipRec, user-adaptive layer skipping for very deep sequential recommenders."""

from setuptools import find_packages, setup

setup(
    name="skiprec_tf",
    version="0.1.0",
    description="SkipRec (user-adaptive layer selection for deep sequential recommenders) in TF2/Keras",
    long_description=open("README.md").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["skiprec_tf", "skiprec_tf.*"]),
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.18,<2.22",
        "tensorflow-probability[tf]>=0.25",
        "tensorboard",  # tf.summary needs it; TensorFlow no longer installs it
        "matplotlib",  # the block-utilisation figure (paper's Figure 4) in TensorBoard and the run dir
        "numpy",
        "pandas",
        "absl-py",
    ],
    # ruff pinned: its default rule set grows between releases, and CI runs `ruff check`.
    extras_require={"test": ["pytest", "hypothesis", "ruff==0.17.6"]},
)
