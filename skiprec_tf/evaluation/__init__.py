"""Evaluation: full-ranking metrics, the MostPop and Markov chain baselines, paired comparisons,
SkipRec's block usage and FLOPs, and the tables a run prints."""
