"""Development-process tree search: spend rollouts where the process branches.

Solving an issue is a process with decision points (reproduce → localize → patch → verify). The
search keeps a tree of those points (`tree`), expands the promising ones by running the agent for
the next stage from a forked sandbox state (`stages`, `expand`, `pool`), scores nodes by execution
and reward models (`evaluate`), chooses what to expand next and when to stop (`policy`), and picks
the final patch with the verifiers' selection rule (`runner`). `single` and `best-of-n` run in the
same framework, so strategies compare at equal cost (`swe-ttc bench search`, which lives in the
`simulation` package: the search never imports it). Entry point: `search.runner.run_search`.
"""
