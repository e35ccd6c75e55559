"""Judging candidate patches: execution checks, reward models, static diagnostics and selection.

Modules (imported on demand, so loading this package costs nothing):
`types` (Candidate, Verdict, Score, Judged) · `execution` (ExecutionVerifier) · `reproduction`
(script protocol, generate_reproduction) · `judge` (LLMJudge) · `pairwise` (PairwiseJudge,
tournament) · `served` (ServedRewardModel) · `static` (static_score) · `selection` (select,
SelectionConfig) · `pipeline` (judge_candidates, judge_candidate, choose, choose_judged: the one entry
point that judges and chooses) · `cache` (ResultCache) · `patch_static` (StaticPatchReward) ·
`candidates` (prediction files pooled per instance) · `select_config`, `select_inputs`, `select_run`
(`swe-ttc select`) · `select_stats`, `select_bench` (`swe-ttc bench select`).
"""
