"""Training data from the agent's own verified work.

`synth tasks` mines SWE-bench-format tasks from a repository's history (`history`, `mine`);
`synth run` samples K rollouts per task, grades each by execution and filters them (`sampling`,
`filters`, `results`, `stats`); `synth export` writes SFT records and reward-model pairs in documented
formats (`formats`, `export`, `schema`, `schemas/`).
"""
