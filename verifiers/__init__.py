"""Judging candidate patches: execution checks, reward models, static diagnostics and selection.

Modules (imported on demand, so loading this package costs nothing):
`types` (Candidate, Verdict, Score, Judged) · `execution` (ExecutionVerifier) · `reproduction`
(script protocol, generate_reproduction) · `judge` (LLMJudge) · `pairwise` (PairwiseJudge,
tournament) · `served` (ServedRewardModel) · `static` (static_score) · `selection` (select,
SelectionConfig) · `pipeline` (judge_candidates, choose) · `cache` (ResultCache).
"""
